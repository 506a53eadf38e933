// 群设置 → 群机器人: the group's robots for its owner and admins — add one, see its webhook URL,
// secret and outgoing token (each with a copy button), choose its security modes, rate limit and
// outgoing address, reset its credentials, see its recent outgoing calls, remove it.
import { PlusOutlined } from "@ant-design/icons";
import { App, Button, Checkbox, Input, InputNumber, Modal, Select, Switch, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage, type BodyOf, type ResponseOf } from "../../../api/client";
import { useLanguage, useT, type MessageKey } from "../../../i18n";
import { listTime, type Conversation } from "../model";
import { RobotAvatar } from "./RobotCard";
import "./robots.css";

const ROBOTS = "/api/v1/im/conversations/{conversation_id}/robots";
const ROBOT = "/api/v1/im/conversations/{conversation_id}/robots/{robot_id}";
type Robot = ResponseOf<typeof ROBOTS, "get">[number];
type RobotCreate = BodyOf<typeof ROBOTS, "post">;
type Delivery = ResponseOf<"/api/v1/im/conversations/{conversation_id}/robots/{robot_id}/deliveries", "get">[number];
type Avatar = NonNullable<RobotCreate["avatar"]>;

const AVATARS: Avatar[] = ["robot", "alert", "chart", "bell", "code"];
const BLANK: RobotCreate = {
  name: "",
  avatar: "robot",
  signature: true,
  keywords: [],
  ip_allowlist: [],
  rate_limit_per_minute: 60,
  outgoing_enabled: false,
  outgoing_url: "",
};

function formOf(robot: Robot): RobotCreate {
  return {
    name: robot.name,
    avatar: robot.avatar as Avatar,
    signature: robot.signature,
    keywords: robot.keywords,
    ip_allowlist: robot.ip_allowlist,
    rate_limit_per_minute: robot.rate_limit_per_minute,
    outgoing_enabled: robot.outgoing_enabled,
    outgoing_url: robot.outgoing_url,
  };
}

function Credential({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="zt-robot-credential">
      <div className="zt-robot-credential-label">{label}</div>
      <Typography.Paragraph copyable={{ text: value }} data-testid={testId}>
        {value}
      </Typography.Paragraph>
    </div>
  );
}

function Deliveries({ conversationId, robot }: { conversationId: string; robot: Robot }) {
  const t = useT();
  const language = useLanguage();
  const [rows, setRows] = useState<Delivery[]>([]);
  useEffect(() => {
    let stopped = false;
    const path = { conversation_id: conversationId, robot_id: robot.id };
    call(api.GET("/api/v1/im/conversations/{conversation_id}/robots/{robot_id}/deliveries", { params: { path } }))
      .then((found) => !stopped && setRows(found))
      .catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, [conversationId, robot.id]);
  return (
    <div data-testid="robot-deliveries">
      <div className="zt-robot-credential-label">{t("robots.deliveries")}</div>
      {rows.length === 0 && <Typography.Text type="secondary">{t("robots.deliveriesEmpty")}</Typography.Text>}
      {rows.slice(0, 10).map((row) => (
        <div key={row.id} className="zt-robot-delivery">
          <span>{listTime(row.created_at, language, t)}</span>
          <Tag color={row.outcome === "delivered" ? "green" : row.outcome === "refused" ? "red" : "orange"}>
            {t(`robots.outcome.${row.outcome}` as MessageKey)}
          </Tag>
          <span>{t("robots.attempt", { count: row.attempt })}</span>
          <span>{row.replied ? t("robots.replied") : row.detail || (row.http_status ?? "")}</span>
        </div>
      ))}
    </div>
  );
}

function RobotModal({
  conversation,
  robot,
  open,
  onClose,
  onChanged,
}: {
  conversation: Conversation;
  robot: Robot | null;
  open: boolean;
  onClose: () => void;
  onChanged: (robot: Robot | null) => void;
}) {
  const t = useT();
  const { message, modal } = App.useApp();
  const [form, setForm] = useState<RobotCreate>(BLANK);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (open) setForm(robot ? formOf(robot) : BLANK);
  }, [open, robot]);
  const set = (change: Partial<RobotCreate>) => setForm((current) => ({ ...current, ...change }));
  const path = robot ? { conversation_id: conversation.id, robot_id: robot.id } : null;

  const run = async (work: () => Promise<Robot | null>, done: string) => {
    setBusy(true);
    try {
      onChanged(await work());
      message.success(done);
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const save = () => {
    if (!form.name.trim()) return void message.error(t("robots.nameRequired"));
    void run(
      () =>
        path
          ? call(api.PATCH(ROBOT, { params: { path }, body: form }))
          : call(api.POST(ROBOTS, { params: { path: { conversation_id: conversation.id } }, body: form })),
      path ? t("robots.saved") : t("robots.added", { name: form.name.trim() }),
    );
  };

  const reset = (which: "token" | "secret") =>
    modal.confirm({
      title: t("robots.resetConfirm"),
      okText: t("common.confirm"),
      cancelText: t("common.cancel"),
      onOk: () =>
        path &&
        run(
          () =>
            call(api.POST(`${ROBOT}/reset`, { params: { path }, body: { token: which === "token", secret: which === "secret", outgoing_token: false } })),
          t("robots.saved"),
        ),
    });

  const toggleDisabled = () =>
    path && robot && void run(() => call(api.PATCH(ROBOT, { params: { path }, body: { disabled: !robot.disabled } })), t("robots.saved"));

  const remove = () =>
    modal.confirm({
      title: t("robots.removeConfirm", { name: robot?.name ?? "" }),
      okText: t("robots.remove"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () =>
        path &&
        run(async () => {
          await call(api.DELETE(ROBOT, { params: { path } }));
          return null;
        }, t("robots.removed")),
    });

  return (
    <Modal
      open={open}
      onCancel={onClose}
      title={robot ? robot.name : t("robots.add")}
      okText={t("common.save")}
      cancelText={t("common.close")}
      onOk={save}
      confirmLoading={busy}
      destroyOnHidden
      data-testid="robot-modal"
    >
      {robot && (
        <>
          <Credential label={t("robots.webhook")} value={robot.webhook_url} testId="robot-webhook" />
          {robot.secret && <Credential label={t("robots.secret")} value={robot.secret} testId="robot-secret" />}
          {robot.outgoing_token && <Credential label={t("robots.outgoingToken")} value={robot.outgoing_token} testId="robot-outgoing-token" />}
          <div className="zt-set-actions" style={{ justifyContent: "flex-start", marginBottom: 12 }}>
            <Button size="small" onClick={() => reset("token")}>
              {t("robots.reset")}
            </Button>
            {robot.secret && (
              <Button size="small" onClick={() => reset("secret")}>
                {t("robots.resetSecret")}
              </Button>
            )}
            <Button size="small" onClick={toggleDisabled} data-testid="robot-toggle">
              {robot.disabled ? t("robots.enable") : t("robots.disable")}
            </Button>
            <Button size="small" danger onClick={remove} data-testid="robot-remove">
              {t("robots.remove")}
            </Button>
          </div>
        </>
      )}
      <div className="zt-robot-form">
        <div className="zt-robot-credential-label">{t("robots.name")}</div>
        <Input value={form.name} maxLength={40} placeholder={t("robots.namePlaceholder")} onChange={(e) => set({ name: e.target.value })} data-testid="robot-name" />
        <div className="zt-robot-credential-label" style={{ marginTop: 8 }}>
          {t("robots.avatar")}
        </div>
        <Select
          value={form.avatar}
          style={{ width: 160 }}
          onChange={(avatar: Avatar) => set({ avatar })}
          options={AVATARS.map((key) => ({
            value: key,
            label: (
              <span style={{ display: "inline-flex", alignItems: "center", gap: 6 }}>
                <RobotAvatar avatar={key} size={18} />
                {t(`robots.avatar.${key}` as MessageKey)}
              </span>
            ),
          }))}
        />
        <div className="zt-robot-credential-label" style={{ marginTop: 8 }}>
          {t("robots.security")} · {t("robots.securityHelp")}
        </div>
        <Checkbox checked={form.signature} onChange={(e) => set({ signature: e.target.checked })} data-testid="robot-signature">
          {t("robots.signature")}
        </Checkbox>
        <div className="zt-robot-credential-label" style={{ marginTop: 6 }}>
          {t("robots.keywords")}
        </div>
        <Select
          mode="tags"
          value={form.keywords}
          onChange={(keywords: string[]) => set({ keywords: keywords.slice(0, 10) })}
          placeholder={t("robots.keywordsPlaceholder")}
          style={{ width: "100%" }}
          open={false}
          data-testid="robot-keywords"
        />
        <div className="zt-robot-credential-label" style={{ marginTop: 6 }}>
          {t("robots.ipAllowlist")}
        </div>
        <Select
          mode="tags"
          value={form.ip_allowlist}
          onChange={(ranges: string[]) => set({ ip_allowlist: ranges.slice(0, 10) })}
          placeholder={t("robots.ipPlaceholder")}
          style={{ width: "100%" }}
          open={false}
        />
        <div className="zt-set-row" style={{ marginTop: 8 }}>
          <div className="zt-set-row-main">
            <div className="zt-set-label">{t("robots.rateLimit")}</div>
          </div>
          <div className="zt-set-control">
            <InputNumber size="small" min={1} max={600} value={form.rate_limit_per_minute} onChange={(v) => set({ rate_limit_per_minute: v ?? 60 })} style={{ width: 80 }} />{" "}
            {t("robots.perMinute")}
          </div>
        </div>
        <div className="zt-set-row">
          <div className="zt-set-row-main">
            <div className="zt-set-label">{t("robots.outgoing")}</div>
            <div className="zt-set-extra">{t("robots.outgoingHelp")}</div>
          </div>
          <div className="zt-set-control">
            <Switch checked={form.outgoing_enabled} onChange={(outgoing_enabled) => set({ outgoing_enabled })} data-testid="robot-outgoing" />
          </div>
        </div>
        {form.outgoing_enabled && (
          <Input
            value={form.outgoing_url}
            maxLength={2000}
            placeholder={t("robots.outgoingUrlPlaceholder")}
            onChange={(e) => set({ outgoing_url: e.target.value })}
            aria-label={t("robots.outgoingUrl")}
            data-testid="robot-outgoing-url"
          />
        )}
      </div>
      {robot?.outgoing_enabled && (
        <div style={{ marginTop: 12 }}>
          <Deliveries conversationId={conversation.id} robot={robot} />
        </div>
      )}
    </Modal>
  );
}

export function RobotsSection({ conversation }: { conversation: Conversation }) {
  const t = useT();
  const { message } = App.useApp();
  const [robots, setRobots] = useState<Robot[]>([]);
  const [editing, setEditing] = useState<{ robot: Robot | null } | null>(null);

  const load = useCallback(() => {
    call(api.GET(ROBOTS, { params: { path: { conversation_id: conversation.id } } }))
      .then(setRobots)
      .catch((error: unknown) => message.error(errorMessage(error)));
  }, [conversation.id, message]);
  useEffect(load, [load]);

  const changed = (robot: Robot | null) => {
    load();
    setEditing(robot ? { robot } : null);
  };

  return (
    <section className="zt-set-section" data-testid="robots-section">
      <div className="zt-set-section-head">
        <span>{t("robots.title")}</span>
        <Button size="small" type="link" icon={<PlusOutlined />} onClick={() => setEditing({ robot: null })} data-testid="robot-add">
          {t("robots.add")}
        </Button>
      </div>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 4 }}>
        {t("robots.help")}
      </Typography.Paragraph>
      {robots.length === 0 && <Typography.Text type="secondary">{t("robots.empty")}</Typography.Text>}
      {robots.map((robot) => (
        <div key={robot.id} className="zt-robot-item" data-testid="robot-item">
          <RobotAvatar avatar={robot.avatar} size={28} />
          <span className="zt-robot-item-name">{robot.name}</span>
          {robot.disabled && <Tag>{t("robots.disabled")}</Tag>}
          {robot.outgoing_enabled && <Tag color="blue">{t("robots.outgoingTag")}</Tag>}
          <Button size="small" onClick={() => setEditing({ robot })} data-testid="robot-edit">
            {t("robots.edit")}
          </Button>
        </div>
      ))}
      <RobotModal
        conversation={conversation}
        robot={editing?.robot ?? null}
        open={editing !== null}
        onClose={() => setEditing(null)}
        onChanged={changed}
      />
    </section>
  );
}
