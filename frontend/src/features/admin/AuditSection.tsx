import { CheckCircleFilled, ReloadOutlined, WarningFilled } from "@ant-design/icons";
import { Alert, Button, Card, Flex, Table, Tag, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT, type MessageKey } from "../../i18n";
import { formatDateTime, problemText } from "./shared";

type AuditPage = ResponseOf<"/api/v1/org/audit-log", "get">;
type Entry = AuditPage["items"][number];

const PAGE = 50;

/** Actions the console has words for; any other shows as the server names it. */
const KNOWN_ACTIONS = new Set([
  "auth.login",
  "auth.login_failed",
  "auth.logout",
  "auth.password_change_failed",
  "auth.qr_confirmed",
  "auth.qr_cancelled",
  "auth.session_revoked",
  "auth.token_created",
  "auth.totp_failed",
  "auth.totp_enabled",
  "auth.totp_disabled",
  "auth.password_set",
  "directory.mobile_viewed",
  "org.created",
  "org.department_created",
  "org.department_updated",
  "org.department_deleted",
  "org.member_added",
  "org.member_updated",
  "org.member_removed",
  "org.role_created",
  "org.admin_grants_set",
  "org.visibility_rule_set",
  "org.visibility_rule_deleted",
  "org.settings_updated",
  "org.custom_field_defined",
  "org.invite_created",
  "org.join_requested",
  "org.join_request_decided",
  "org.directory_imported",
  "org.directory_exported",
  "apps.created",
  "apps.secret_rotated",
  "apps.disabled",
  "apps.enabled",
  "worknotices.sent",
  "worknotices.recalled",
  "scim.token_created",
  "scim.token_revoked",
  "scim.user_created",
  "scim.user_replaced",
  "scim.user_patched",
  "scim.user_deleted",
  "scim.user_deactivated",
  "scim.group_created",
  "scim.group_replaced",
  "scim.group_patched",
  "scim.group_deleted",
]);

export function actionLabel(t: (key: MessageKey) => string, action: string): string {
  return KNOWN_ACTIONS.has(action) ? t(`audit.action.${action}` as MessageKey) : action;
}

const KNOWN_OBJECTS = new Set(["member", "department", "organization", "job", "invite", "join_request", "scim_token", "account", "session"]);

function objectLabel(t: (key: MessageKey) => string, type: string): string {
  return KNOWN_OBJECTS.has(type) ? t(`audit.object.${type}` as MessageKey) : type;
}

function actionColour(action: string): string {
  if (action.endsWith("_failed") || action.endsWith("_removed") || action.endsWith("_deleted") || action.endsWith("_revoked")) return "red";
  if (action.startsWith("auth.")) return "default";
  if (action === "directory.mobile_viewed") return "orange";
  return "blue";
}

function detailText(detail: Record<string, unknown>): string {
  const entries = Object.entries(detail);
  if (entries.length === 0) return "";
  return entries.map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`).join(";");
}

export function AuditSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [items, setItems] = useState<Entry[]>([]);
  const [chain, setChain] = useState<{ ok: boolean; firstBroken: number | null } | null>(null);
  const [more, setMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (before?: number) => {
    setLoading(true);
    try {
      const page = await call(api.GET("/api/v1/org/audit-log", { params: { query: { before_seq: before, limit: PAGE } } }));
      setChain({ ok: page.chain_ok, firstBroken: page.first_broken_seq });
      setItems((current) => (before ? [...current, ...page.items] : page.items));
      setMore(page.items.length === PAGE);
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const columns: ColumnsType<Entry> = [
    { title: "#", dataIndex: "seq", width: 72, responsive: ["md"] },
    {
      title: t("audit.at"),
      dataIndex: "at",
      width: phone ? undefined : 150,
      render: (value: string, entry) => (
        <span>
          {formatDateTime(language, value)}
          {phone && (
            <>
              <br />
              <Tag color={actionColour(entry.action)} style={{ marginTop: 4 }}>
                {actionLabel(t, entry.action)}
              </Tag>
            </>
          )}
        </span>
      ),
    },
    {
      title: t("audit.action"),
      dataIndex: "action",
      responsive: ["md"],
      render: (action: string) => (
        <Tooltip title={action}>
          <Tag color={actionColour(action)} data-testid="audit-action" data-action={action}>
            {actionLabel(t, action)}
          </Tag>
        </Tooltip>
      ),
    },
    {
      title: t("audit.object"),
      key: "object",
      responsive: ["lg"],
      render: (_: unknown, entry) => (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {objectLabel(t, entry.object_type)}
          {entry.object_id && ` · ${entry.object_id.slice(-8)}`}
        </Typography.Text>
      ),
    },
    {
      title: t("audit.actor"),
      dataIndex: "actor_account_id",
      responsive: ["lg"],
      render: (value: string | null) => (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {value ? value.slice(-8) : t("audit.system")}
        </Typography.Text>
      ),
    },
    { title: t("audit.ip"), dataIndex: "ip", responsive: ["xl"], width: 120 },
    {
      title: t("audit.detail"),
      dataIndex: "detail",
      render: (detail: Record<string, unknown>) => (
        <Typography.Text type="secondary" style={{ fontSize: 12 }} ellipsis={{ tooltip: true }}>
          {detailText(detail)}
        </Typography.Text>
      ),
    },
  ];

  return (
    <Card size="small" data-testid="admin-audit" title={t("audit.title")} extra={<Button size="small" icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("devices.refresh")} />}>
      <Flex align="center" gap={12} wrap style={{ marginBottom: 12 }}>
        {chain &&
          (chain.ok ? (
            <Tag icon={<CheckCircleFilled />} color="success" className="zt-chain-badge" data-testid="chain-badge" data-ok="true">
              {t("audit.chainOk")}
            </Tag>
          ) : (
            <Tag icon={<WarningFilled />} color="error" className="zt-chain-badge" data-testid="chain-badge" data-ok="false">
              {chain.firstBroken !== null ? t("audit.chainBrokenAt", { seq: chain.firstBroken }) : t("audit.chainBroken")}
            </Tag>
          ))}
        <Typography.Text type="secondary" style={{ fontSize: 12, flex: "1 1 240px" }}>
          {t("audit.help")}
        </Typography.Text>
      </Flex>
      {chain && !chain.ok && <Alert type="error" showIcon title={t("audit.brokenHelp")} style={{ marginBottom: 12 }} />}
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<Entry>
        rowKey="seq"
        size="small"
        columns={columns}
        dataSource={items}
        loading={loading && items.length === 0}
        pagination={false}
        data-testid="audit-table"
        rowClassName={(entry) => (chain && !chain.ok && chain.firstBroken !== null && entry.seq >= chain.firstBroken ? "zt-audit-broken" : "")}
      />
      {more && items.length > 0 && (
        <Flex justify="center" style={{ marginTop: 12 }}>
          <Button onClick={() => void load(items[items.length - 1]!.seq)} loading={loading} data-testid="audit-more">
            {t("audit.more")}
          </Button>
        </Flex>
      )}
    </Card>
  );
}
