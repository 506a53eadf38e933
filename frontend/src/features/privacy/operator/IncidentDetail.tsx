import { PrinterOutlined, SendOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  Checkbox,
  Descriptions,
  Drawer,
  Flex,
  Popconfirm,
  Progress,
  Select,
  Skeleton,
  Space,
  Table,
  Tag,
  Typography,
} from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT, type MessageKey } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import { DeadlineTag } from "./DeadlineTag";
import { CHANNELS, inLanguage, SEND_CHANNELS, type IncidentDetail, type OrganizationUsage } from "./model";

type SendChannel = (typeof SEND_CHANNELS)[number];
const POLL_MS = 2000;

/** Per channel: how many deliveries ended how. */
function DeliveryTable({ deliveries }: { deliveries: IncidentDetail["progress"]["deliveries"] }) {
  const t = useT();
  const rows = CHANNELS.filter((channel) => deliveries[channel]).map((channel) => ({ channel, results: deliveries[channel]! }));
  return (
    <Table
      size="small"
      rowKey="channel"
      pagination={false}
      dataSource={rows}
      data-testid="incident-deliveries"
      columns={[
        { title: t("privacy.operator.incidents.detail.channels"), key: "channel", render: (_, row) => t(`privacy.operator.channel.${row.channel}` as MessageKey) },
        {
          title: t("privacy.operator.incidents.detail.progress"),
          key: "results",
          render: (_, row) => (
            <Space size={4} wrap>
              {Object.entries(row.results).map(([result, count]) => (
                <Tag key={result} color={result === "sent" || result === "read" ? "green" : result === "queued" ? "blue" : result === "unread" ? "default" : "orange"}>
                  {t(`privacy.operator.result.${result}` as MessageKey)} {count}
                </Tag>
              ))}
            </Space>
          ),
        },
      ]}
    />
  );
}

export function IncidentDetailDrawer({
  incidentId,
  organizations,
  onClose,
  onChanged,
}: {
  incidentId: string | null;
  organizations: OrganizationUsage[];
  onClose: () => void;
  onChanged: () => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [incident, setIncident] = useState<IncidentDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [channels, setChannels] = useState<SendChannel[]>(["sms", "email", "push"]);
  const [moreOrgs, setMoreOrgs] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!incidentId) return;
    try {
      setIncident(await call(api.GET("/api/v1/operator/incidents/{incident_id}", { params: { path: { incident_id: incidentId } } })));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, [incidentId]);

  useEffect(() => {
    setIncident(null);
    void load();
  }, [load]);

  // While notices are on their way, the progress follows them.
  const inFlight = incident?.progress.in_flight ?? 0;
  useEffect(() => {
    if (!incidentId || inFlight === 0) return;
    const timer = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [incidentId, inFlight, load]);

  const act = async (name: string, action: () => Promise<void>) => {
    setBusy(name);
    try {
      await action();
      await load();
      onChanged();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(null);
    }
  };
  const path = { params: { path: { incident_id: incidentId ?? "" } } };
  const reference = `incident:${incidentId}`;

  const send = () =>
    act("send", async () => {
      const sent = await call(api.POST("/api/v1/operator/incidents/{incident_id}/notify", { ...path, body: { channels } }));
      message.success(t("privacy.operator.incidents.detail.sent", { count: sent.people }));
    });
  const addOrgs = () =>
    act("add", async () => {
      const added = await call(
        api.POST("/api/v1/operator/incidents/{incident_id}/affected", { ...path, body: { org_ids: moreOrgs, account_ids: [] } }),
      );
      setMoreOrgs([]);
      message.success(t("privacy.operator.incidents.detail.added", { count: added.added }));
    });
  const posted = () =>
    act("posted", async () => {
      const letters = await call(api.GET("/api/v1/operator/letters", { params: { query: { reference } } }));
      const done = await call(api.POST("/api/v1/operator/letters/posted", { body: { letter_ids: letters.map((letter) => letter.id) } }));
      message.success(t("privacy.operator.incidents.detail.postedDone", { count: done.posted }));
    });
  const close = () =>
    act("close", async () => {
      await call(api.POST("/api/v1/operator/incidents/{incident_id}/close", path));
      message.success(t("privacy.operator.incidents.detail.closed"));
    });

  const progress = incident?.progress;
  const percent = progress && progress.affected ? Math.round((100 * progress.reached) / progress.affected) : 100;
  const open = incident?.status === "open";
  const known = new Set(incident?.organizations.map((org) => org.id));

  return (
    <Drawer
      open={incidentId !== null}
      onClose={onClose}
      size={phone ? "100%" : 720}
      title={incident?.title ?? ""}
      destroyOnHidden
      extra={incident && <DeadlineTag incident={incident} />}
    >
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {!incident || !progress ? (
        <Skeleton active />
      ) : (
        <Space orientation="vertical" size={20} style={{ width: "100%" }} data-testid="incident-detail">
          <Descriptions size="small" column={phone ? 1 : 2} bordered>
            <Descriptions.Item label={t("privacy.operator.incidents.discovered")}>
              {formatDateTime(language, incident.discovered_at)}
            </Descriptions.Item>
            <Descriptions.Item label={t("privacy.operator.incidents.deadline")}>
              {formatDateTime(language, progress.deadline_at)}
            </Descriptions.Item>
            <Descriptions.Item label={t("privacy.operator.incidents.detail.orgs")} span={phone ? 1 : 2}>
              <Space size={4} wrap>
                {incident.organizations.map((org) => (
                  <Tag key={org.id}>
                    {org.name} · {t("privacy.operator.incidents.detail.people", { count: org.people })}
                  </Tag>
                ))}
              </Space>
            </Descriptions.Item>
          </Descriptions>

          <div>
            <Typography.Title level={5}>{t("privacy.operator.incidents.detail.progress")}</Typography.Title>
            <Progress
              percent={percent}
              status={progress.overdue ? "exception" : percent === 100 ? "success" : "active"}
              data-testid="incident-progress"
            />
            <Space size={12} wrap style={{ margin: "4px 0 12px" }}>
              <Typography.Text data-testid="incident-reached">
                {t("privacy.operator.incidents.reached", { reached: progress.reached, affected: progress.affected })}
              </Typography.Text>
              {progress.in_flight > 0 && <Tag color="blue">{t("privacy.operator.incidents.inFlight", { count: progress.in_flight })}</Tag>}
              {progress.not_reached > 0 && <Tag color="orange">{t("privacy.operator.incidents.notReached", { count: progress.not_reached })}</Tag>}
            </Space>
            <DeliveryTable deliveries={progress.deliveries} />
          </div>

          {open && (
            <div>
              <Typography.Title level={5}>{t("privacy.operator.incidents.detail.send")}</Typography.Title>
              <Flex gap={12} align="center" wrap>
                <Checkbox checked disabled>
                  {t("privacy.operator.channel.in_app")}
                </Checkbox>
                <Checkbox.Group<SendChannel>
                  value={channels}
                  onChange={setChannels}
                  data-testid="incident-channels"
                  options={SEND_CHANNELS.map((channel) => ({ value: channel, label: t(`privacy.operator.channel.${channel}` as MessageKey) }))}
                />
                <Button
                  type="primary"
                  icon={<SendOutlined />}
                  onClick={() => void send()}
                  loading={busy === "send"}
                  disabled={channels.length === 0}
                  data-testid="incident-send"
                >
                  {t("privacy.operator.incidents.detail.send")}
                </Button>
              </Flex>
            </div>
          )}

          <div>
            <Typography.Title level={5}>{t("privacy.operator.incidents.detail.letters")}</Typography.Title>
            <Flex gap={8} align="center" wrap>
              <Typography.Text>{t("privacy.operator.incidents.detail.lettersQueued", { count: progress.letters_queued })}</Typography.Text>
              <Button
                icon={<PrinterOutlined />}
                href={`/api/v1/operator/letters/print?reference=${encodeURIComponent(reference)}`}
                target="_blank"
                disabled={progress.letters_queued === 0}
              >
                {t("privacy.operator.incidents.detail.print")}
              </Button>
              <Button onClick={() => void posted()} loading={busy === "posted"} disabled={progress.letters_queued === 0}>
                {t("privacy.operator.incidents.detail.posted")}
              </Button>
            </Flex>
          </div>

          {open && (
            <Flex gap={8} align="center" wrap>
              <Select
                mode="multiple"
                style={{ minWidth: 220, flex: "1 1 220px" }}
                placeholder={t("privacy.operator.incidents.detail.addOrgs")}
                value={moreOrgs}
                onChange={setMoreOrgs}
                optionFilterProp="label"
                options={organizations.filter((org) => !known.has(org.id)).map((org) => ({ value: org.id, label: org.name }))}
              />
              <Button onClick={() => void addOrgs()} loading={busy === "add"} disabled={moreOrgs.length === 0}>
                {t("privacy.operator.incidents.detail.add")}
              </Button>
            </Flex>
          )}

          <div>
            <Typography.Title level={5}>{t("privacy.operator.incidents.detail.notice")}</Typography.Title>
            <Typography.Paragraph strong>{inLanguage(incident.notice_subject, language)}</Typography.Paragraph>
            <Typography.Paragraph className="zt-op-notice-body" data-testid="incident-notice">
              {inLanguage(incident.notice_body, language)}
            </Typography.Paragraph>
          </div>

          {open && (
            <Popconfirm
              title={t("privacy.operator.incidents.detail.closeConfirm")}
              onConfirm={() => void close()}
              okText={t("privacy.operator.confirm")}
              cancelText={t("privacy.operator.cancel")}
            >
              <Button danger loading={busy === "close"} data-testid="incident-close">
                {t("privacy.operator.incidents.detail.close")}
              </Button>
            </Popconfirm>
          )}
        </Space>
      )}
    </Drawer>
  );
}
