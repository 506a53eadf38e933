// 管理后台 → 应用管理: the organisation's internal apps (企业内部应用) with their AppKey and AgentId,
// the secret shown once at creation and at each reset, and the open API's address for integrations
// that move over from DingTalk.
import { AppstoreAddOutlined, KeyOutlined, PlusOutlined, PoweroffOutlined, StopOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Descriptions, Flex, Input, Modal, Popconfirm, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime, problemText, type CreatedOf } from "../admin/shared";
import "./apps.css";

type AppRow = ResponseOf<"/api/v1/org/apps", "get">[number];
type WithSecret = CreatedOf<"/api/v1/org/apps", "post">;

const WORK_NOTICES = "/topapi/message/corpconversation";

function OpenApiHelp() {
  const t = useT();
  const base = new URL("/oapi", window.location.origin).toString();
  const endpoints: { method: string; path: string; label: string }[] = [
    { method: "GET", path: "/gettoken?appkey=…&appsecret=…", label: t("apps.endpoint.gettoken") },
    { method: "POST", path: `${WORK_NOTICES}/asyncsend_v2?access_token=…`, label: t("apps.endpoint.send") },
    { method: "POST", path: `${WORK_NOTICES}/getsendprogress?access_token=…`, label: t("apps.endpoint.progress") },
    { method: "POST", path: `${WORK_NOTICES}/getsendresult?access_token=…`, label: t("apps.endpoint.result") },
    { method: "POST", path: `${WORK_NOTICES}/recall?access_token=…`, label: t("apps.endpoint.recall") },
  ];
  return (
    <div className="zt-apps-help" data-testid="apps-open-api">
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("apps.help")}
      </Typography.Paragraph>
      <Typography.Paragraph style={{ fontSize: 13, marginBottom: 8 }}>
        {t("apps.baseUrl")}
        <Typography.Text code copyable data-testid="apps-base-url">
          {base}
        </Typography.Text>
      </Typography.Paragraph>
      <ul className="zt-apps-endpoints">
        {endpoints.map((endpoint) => (
          <li key={endpoint.path}>
            <span className="zt-apps-endpoint-label">{endpoint.label}</span>
            <code className="zt-apps-endpoint">
              <span className="zt-apps-method">{endpoint.method}</span> /oapi{endpoint.path}
            </code>
          </li>
        ))}
      </ul>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 6 }}>
        {t("apps.params")}
      </Typography.Paragraph>
    </div>
  );
}

export function AppsSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [apps, setApps] = useState<AppRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ app: WithSecret; rotated: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      setApps(await call(api.GET("/api/v1/org/apps")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async () => {
    if (!name.trim()) return;
    setCreating(true);
    setError(null);
    try {
      const app = await call(api.POST("/api/v1/org/apps", { body: { name: name.trim(), description: description.trim() } }));
      setShown({ app, rotated: false });
      setName("");
      setDescription("");
      await load();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setCreating(false);
    }
  };
  const rotate = async (app: AppRow) => {
    try {
      const rotated = await call(api.POST("/api/v1/org/apps/{app_id}/secret", { params: { path: { app_id: app.id } } }));
      setShown({ app: rotated, rotated: true });
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };
  const setDisabled = async (app: AppRow, disabled: boolean) => {
    try {
      await call(api.PUT("/api/v1/org/apps/{app_id}/disabled", { params: { path: { app_id: app.id } }, body: { disabled } }));
      message.success(t(disabled ? "apps.disabledToast" : "apps.enabledToast", { name: app.name }));
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };

  const columns: ColumnsType<AppRow> = [
    {
      title: t("apps.name"),
      key: "name",
      render: (_: unknown, app) => (
        <Space orientation="vertical" size={0} style={{ minWidth: 0 }}>
          <Space size={6} wrap>
            <Typography.Text strong>{app.name}</Typography.Text>
            {app.disabled_at ? <Tag>{t("apps.disabled")}</Tag> : <Tag color="success">{t("apps.active")}</Tag>}
          </Space>
          {app.description && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {app.description}
            </Typography.Text>
          )}
          {phone && (
            <Typography.Text style={{ fontSize: 12 }}>
              {t("apps.agentId")} <Typography.Text code copyable>{String(app.agent_id)}</Typography.Text>
              <br />
              {t("apps.appKey")} <Typography.Text code copyable>{app.app_key}</Typography.Text>
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t("apps.agentId"),
      dataIndex: "agent_id",
      width: 130,
      responsive: ["md"],
      render: (value: number) => (
        <Typography.Text code copyable data-testid="apps-agent-id">
          {String(value)}
        </Typography.Text>
      ),
    },
    {
      title: t("apps.appKey"),
      dataIndex: "app_key",
      width: 250,
      responsive: ["md"],
      render: (value: string) => (
        <Typography.Text code copyable data-testid="apps-app-key">
          {value}
        </Typography.Text>
      ),
    },
    { title: t("apps.created"), dataIndex: "created_at", width: 150, responsive: ["lg"], render: (v: string) => formatDateTime(language, v) },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 88 : 220,
      render: (_: unknown, app) => (
        <Flex gap={0} wrap vertical={phone} align="flex-start">
          <Popconfirm
            title={t("apps.rotateConfirm")}
            okButtonProps={{ danger: true }}
            onConfirm={() => rotate(app)}
            styles={{ root: { maxWidth: 320 } }}
          >
            <Button type="link" size="small" icon={<KeyOutlined />} data-testid="apps-rotate">
              {t("apps.rotate")}
            </Button>
          </Popconfirm>
          {app.disabled_at ? (
            <Button type="link" size="small" icon={<PoweroffOutlined />} onClick={() => void setDisabled(app, false)} data-testid="apps-enable">
              {t("apps.enable")}
            </Button>
          ) : (
            <Popconfirm
              title={t("apps.disableConfirm", { name: app.name })}
              okButtonProps={{ danger: true }}
              onConfirm={() => setDisabled(app, true)}
              styles={{ root: { maxWidth: 320 } }}
            >
              <Button type="link" size="small" danger icon={<StopOutlined />} data-testid="apps-disable">
                {t("apps.disable")}
              </Button>
            </Popconfirm>
          )}
        </Flex>
      ),
    },
  ];

  const secret = shown?.app;
  return (
    <Card
      size="small"
      title={
        <span>
          <AppstoreAddOutlined /> {t("apps.title")}
        </span>
      }
      data-testid="admin-apps"
    >
      <OpenApiHelp />
      <Flex gap={8} wrap style={{ margin: "12px 0" }}>
        <Input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder={t("apps.namePlaceholder")}
          maxLength={60}
          style={{ flex: "1 1 200px", maxWidth: 280 }}
          onPressEnter={() => void create()}
          data-testid="apps-name"
        />
        <Input
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          placeholder={t("apps.descriptionPlaceholder")}
          maxLength={300}
          style={{ flex: "2 1 240px", maxWidth: 420 }}
          onPressEnter={() => void create()}
          data-testid="apps-description"
        />
        <Button type="primary" icon={<PlusOutlined />} disabled={!name.trim()} loading={creating} onClick={() => void create()} data-testid="apps-create">
          {t("apps.create")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<AppRow>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={apps ?? []}
        loading={apps === null && !error}
        pagination={false}
        locale={{ emptyText: t("apps.empty") }}
        data-testid="apps-table"
      />
      <Modal
        open={shown !== null}
        title={shown?.rotated ? t("apps.rotatedTitle") : t("apps.createdTitle")}
        onCancel={() => setShown(null)}
        maskClosable={false}
        keyboard={false}
        destroyOnHidden
        width={phone ? "100%" : 600}
        footer={
          <Button type="primary" onClick={() => setShown(null)} data-testid="apps-secret-close">
            {t("apps.secretSaved")}
          </Button>
        }
        data-testid="apps-secret-modal"
      >
        <Alert type="warning" showIcon title={t("apps.secretOnce")} style={{ marginBottom: 16 }} />
        {secret && (
          <Descriptions
            size="small"
            column={1}
            bordered
            styles={{ label: { width: phone ? 96 : 110, whiteSpace: "nowrap" } }}
            items={[
              { key: "name", label: t("apps.name"), children: secret.name },
              {
                key: "agent",
                label: t("apps.agentId"),
                children: <Typography.Text copyable>{String(secret.agent_id)}</Typography.Text>,
              },
              {
                key: "key",
                label: t("apps.appKey"),
                children: (
                  <Typography.Text copyable className="zt-apps-mono" data-testid="apps-secret-key">
                    {secret.app_key}
                  </Typography.Text>
                ),
              },
              {
                key: "secret",
                label: t("apps.appSecret"),
                children: (
                  <Typography.Text copyable={{ text: secret.app_secret }} className="zt-secret zt-apps-secret" data-testid="apps-secret-value">
                    {secret.app_secret}
                  </Typography.Text>
                ),
              },
            ]}
          />
        )}
      </Modal>
    </Card>
  );
}
