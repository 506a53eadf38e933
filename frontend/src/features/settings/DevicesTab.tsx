import { ApiOutlined, DesktopOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Flex, Popconfirm, Space, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage, type SessionInfo } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime } from "./format";

export function DevicesTab() {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const listed = await call(api.GET("/api/v1/me/sessions"));
      setSessions([...listed].sort((a, b) => Number(b.current) - Number(a.current)));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (session: SessionInfo) => {
    try {
      await call(api.DELETE("/api/v1/me/sessions/{session_id}", { params: { path: { session_id: session.id } } }));
      message.success(t("devices.loggedOut"));
      await load();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    }
  };

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }}>
      <Flex justify="space-between" align="flex-start" gap={12} wrap>
        <Typography.Paragraph type="secondary" style={{ margin: 0, flex: "1 1 320px" }}>
          {t("devices.desc")}
        </Typography.Paragraph>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading}>
          {t("devices.refresh")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<SessionInfo>
        rowKey="id"
        data-testid="sessions-table"
        loading={loading && sessions === null}
        dataSource={sessions ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        rowClassName={(row) => (row.current ? "zt-row-current" : "")}
        columns={[
          {
            title: t("devices.device"),
            key: "device",
            render: (_, row) => (
              <>
                <Space>
                  {row.kind === "api" ? <ApiOutlined /> : <DesktopOutlined />}
                  <span>{row.device_label || t("devices.unknown")}</span>
                  {row.current && (
                    <Tag color="blue" data-testid="current-session">
                      {t("devices.current")}
                    </Tag>
                  )}
                </Space>
                {phone && (
                  // The phone hides the other columns; the essentials go under the name.
                  <Typography.Text type="secondary" style={{ display: "block", fontSize: 12, marginTop: 4 }}>
                    {t("devices.lastSeen")} {formatDateTime(language, row.last_seen_at)} · {row.ip_prefix}
                  </Typography.Text>
                )}
              </>
            ),
          },
          {
            title: t("devices.kind"),
            key: "kind",
            responsive: ["md"],
            render: (_, row) => (row.kind === "api" ? t("devices.kind.api") : t("devices.kind.browser")),
          },
          { title: t("devices.ip"), dataIndex: "ip_prefix", responsive: ["lg"] },
          { title: t("devices.created"), key: "created", responsive: ["lg"], render: (_, row) => formatDateTime(language, row.created_at) },
          { title: t("devices.lastSeen"), key: "last", responsive: ["md"], render: (_, row) => formatDateTime(language, row.last_seen_at) },
          {
            title: t("devices.action"),
            key: "action",
            render: (_, row) =>
              row.current ? null : (
                <Popconfirm title={t("devices.logoutConfirm")} onConfirm={() => revoke(row)} okText={t("common.confirm")} cancelText={t("common.cancel")}>
                  <Button type="link" danger size="small" data-testid="revoke-session">
                    {t("devices.logout")}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
    </Space>
  );
}
