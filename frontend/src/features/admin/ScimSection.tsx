import { ApiOutlined, PlusOutlined, StopOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Input, Modal, Popconfirm, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime, problemText, type CreatedOf } from "./shared";

type Token = ResponseOf<"/api/v1/org/scim-tokens", "get">[number];
type Created = CreatedOf<"/api/v1/org/scim-tokens", "post">;

export function ScimSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const endpoint = new URL("/scim/v2", window.location.origin).toString();

  const load = useCallback(async () => {
    try {
      setTokens(await call(api.GET("/api/v1/org/scim-tokens")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async () => {
    setCreating(true);
    setError(null);
    try {
      setCreated(await call(api.POST("/api/v1/org/scim-tokens", { body: { name: name.trim() } })));
      setName("");
      await load();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setCreating(false);
    }
  };
  const revoke = async (token: Token) => {
    try {
      await call(api.DELETE("/api/v1/org/scim-tokens/{token_id}", { params: { path: { token_id: token.id } } }));
      message.success(t("admin.scim.revoked", { name: token.name }));
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };

  const columns: ColumnsType<Token> = [
    {
      title: t("admin.scim.name"),
      dataIndex: "name",
      render: (value: string, token) => (
        <Space size={6} wrap>
          <Typography.Text strong>{value}</Typography.Text>
          {token.revoked_at ? <Tag>{t("admin.scim.revokedTag")}</Tag> : <Tag color="success">{t("admin.scim.activeTag")}</Tag>}
        </Space>
      ),
    },
    { title: t("admin.scim.created"), dataIndex: "created_at", responsive: ["md"], render: (v: string) => formatDateTime(language, v) },
    { title: t("admin.scim.lastUsed"), dataIndex: "last_used_at", responsive: ["md"], render: (v: string | null) => (v ? formatDateTime(language, v) : t("admin.scim.never")) },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 70 : 110,
      render: (_: unknown, token) =>
        token.revoked_at ? null : (
          <Popconfirm title={t("admin.scim.revokeConfirm", { name: token.name })} okButtonProps={{ danger: true }} onConfirm={() => revoke(token)}>
            <Button type="link" size="small" danger icon={<StopOutlined />} data-testid="scim-revoke">
              {!phone && t("admin.scim.revoke")}
            </Button>
          </Popconfirm>
        ),
    },
  ];

  return (
    <Card size="small" title={<span><ApiOutlined /> {t("admin.scim.title")}</span>} data-testid="admin-scim">
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("admin.scim.help")}
      </Typography.Paragraph>
      <Typography.Paragraph style={{ fontSize: 13 }}>
        {t("admin.scim.endpoint")}
        <Typography.Text code copyable>
          {endpoint}
        </Typography.Text>
      </Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 12 }}>
        <Input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={t("admin.scim.namePlaceholder")}
          maxLength={100}
          style={{ flex: "1 1 220px", maxWidth: 360 }}
          onPressEnter={() => name.trim() && void create()}
          data-testid="scim-name"
        />
        <Button type="primary" icon={<PlusOutlined />} disabled={!name.trim()} loading={creating} onClick={() => void create()} data-testid="scim-create">
          {t("admin.scim.create")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<Token> rowKey="id" size="small" columns={columns} dataSource={tokens ?? []} loading={tokens === null && !error} pagination={false} data-testid="scim-table" />
      <Modal
        open={created !== null}
        title={t("admin.scim.createdTitle")}
        onCancel={() => setCreated(null)}
        destroyOnHidden
        footer={
          <Button type="primary" onClick={() => setCreated(null)} data-testid="scim-token-close">
            {t("common.close")}
          </Button>
        }
      >
        <Alert type="warning" showIcon title={t("admin.scim.once")} style={{ marginBottom: 12 }} />
        <Typography.Paragraph copyable={{ text: created?.token ?? "" }} className="zt-secret" data-testid="scim-token-value">
          {created?.token}
        </Typography.Paragraph>
      </Modal>
    </Card>
  );
}
