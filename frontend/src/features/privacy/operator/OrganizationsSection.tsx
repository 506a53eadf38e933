import { PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Empty, Flex, Form, Input, Modal, Segmented, Space, Statistic, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import { formatBytes, formatNumber, type OrganizationUsage } from "./model";

type Metric = "members" | "messages" | "files" | "storage_bytes";

/** A bar per organisation for one figure: numbers only, never content. */
function UsageChart({ rows, metric }: { rows: OrganizationUsage[]; metric: Metric }) {
  const language = useLanguage();
  const largest = Math.max(1, ...rows.map((row) => row[metric]));
  const sorted = [...rows].sort((a, b) => b[metric] - a[metric]).slice(0, 12);
  return (
    <div className="zt-op-chart" data-testid="usage-chart" role="img">
      {sorted.map((row) => (
        <div className="zt-op-bar-row" key={row.id}>
          <span className="zt-op-bar-label" title={row.name}>
            {row.name}
          </span>
          <div className="zt-op-bar-track">
            <div className="zt-op-bar" style={{ width: `${(100 * row[metric]) / largest}%` }} />
          </div>
          <span className="zt-op-bar-value">
            {metric === "storage_bytes" ? formatBytes(language, row[metric]) : formatNumber(language, row[metric])}
          </span>
        </div>
      ))}
    </div>
  );
}

function OpenOrganizationModal({ open, onClose, onOpened }: { open: boolean; onClose: () => void; onOpened: () => void }) {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ name: string; admin_mobile: string; admin_name: string }>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const opened = await call(api.POST("/api/v1/operator/organizations", { body: values }));
      message.success(t("privacy.operator.orgs.opened", { name: opened.name }));
      form.resetFields();
      onOpened();
      onClose();
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t("privacy.operator.orgs.open")}
      onCancel={onClose}
      onOk={() => void submit()}
      confirmLoading={busy}
      okText={t("privacy.operator.confirm")}
      cancelText={t("privacy.operator.cancel")}
      destroyOnHidden
    >
      <Form form={form} layout="vertical">
        <Form.Item name="name" label={t("privacy.operator.orgs.name")} rules={[{ required: true, max: 200 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="admin_name" label={t("privacy.operator.orgs.adminName")} rules={[{ required: true, max: 100 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="admin_mobile" label={t("privacy.operator.orgs.adminMobile")} rules={[{ required: true, max: 32 }]}>
          <Input inputMode="tel" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function OrganizationsSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [rows, setRows] = useState<OrganizationUsage[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [metric, setMetric] = useState<Metric>("members");
  const [opening, setOpening] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setRows(await call(api.GET("/api/v1/operator/usage")));
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

  const totals = useMemo(() => {
    const list = rows ?? [];
    const sum = (key: Metric) => list.reduce((total, row) => total + row[key], 0);
    return { orgs: list.length, members: sum("members"), messages: sum("messages"), storage: sum("storage_bytes") };
  }, [rows]);

  return (
    <div data-testid="operator-organizations">
      <Flex justify="space-between" align="center" gap={8} wrap style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">{t("privacy.operator.lead")}</Typography.Text>
        <Flex gap={8}>
          <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading}>
            {!phone && t("privacy.operator.refresh")}
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setOpening(true)}>
            {t("privacy.operator.orgs.open")}
          </Button>
        </Flex>
      </Flex>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <div className="zt-op-stats">
        <Card size="small">
          <Statistic title={t("privacy.operator.orgs.total")} value={totals.orgs} />
        </Card>
        <Card size="small">
          <Statistic title={t("privacy.operator.orgs.members")} value={totals.members} />
        </Card>
        <Card size="small">
          <Statistic title={t("privacy.operator.orgs.messages")} value={totals.messages} />
        </Card>
        <Card size="small">
          <Statistic title={t("privacy.operator.orgs.storage")} value={formatBytes(language, totals.storage)} />
        </Card>
      </div>
      {rows !== null && rows.length === 0 ? (
        <Empty description={t("privacy.operator.orgs.empty")} />
      ) : (
        <>
          <Flex justify="space-between" align="center" gap={8} wrap>
            <Typography.Text strong>{t("privacy.operator.orgs.chart")}</Typography.Text>
            <Segmented<Metric>
              size="small"
              value={metric}
              onChange={setMetric}
              options={[
                { value: "members", label: t("privacy.operator.orgs.members") },
                { value: "messages", label: t("privacy.operator.orgs.messages") },
                { value: "files", label: t("privacy.operator.orgs.files") },
                { value: "storage_bytes", label: t("privacy.operator.orgs.storage") },
              ]}
            />
          </Flex>
          <UsageChart rows={rows ?? []} metric={metric} />
          <Table<OrganizationUsage>
            rowKey="id"
            data-testid="operator-org-table"
            loading={loading && rows === null}
            dataSource={rows ?? []}
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            scroll={{ x: "max-content" }}
            size={phone ? "small" : "middle"}
            columns={[
              { title: t("privacy.operator.orgs.name"), dataIndex: "name", fixed: phone ? undefined : "left" },
              {
                title: t("privacy.operator.orgs.status"),
                key: "status",
                render: (_, row) =>
                  row.status === "active" ? (
                    <Tag color="green">{t("privacy.operator.orgs.status.active")}</Tag>
                  ) : (
                    <Space size={4} wrap>
                      <Tag color="orange">{t("privacy.operator.orgs.status.deregistering")}</Tag>
                      {row.purge_at && (
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {t("privacy.operator.orgs.purgeAt", { date: formatDateTime(language, row.purge_at) })}
                        </Typography.Text>
                      )}
                    </Space>
                  ),
              },
              { title: t("privacy.operator.orgs.members"), key: "members", align: "right", render: (_, row) => formatNumber(language, row.members) },
              { title: t("privacy.operator.orgs.messages"), key: "messages", align: "right", responsive: ["md"], render: (_, row) => formatNumber(language, row.messages) },
              { title: t("privacy.operator.orgs.files"), key: "files", align: "right", responsive: ["md"], render: (_, row) => formatNumber(language, row.files) },
              { title: t("privacy.operator.orgs.storage"), key: "storage", align: "right", responsive: ["sm"], render: (_, row) => formatBytes(language, row.storage_bytes) },
              { title: t("privacy.operator.orgs.created"), key: "created", responsive: ["lg"], render: (_, row) => formatDateTime(language, row.created_at) },
            ]}
          />
        </>
      )}
      <OpenOrganizationModal open={opening} onClose={() => setOpening(false)} onOpened={() => void load()} />
    </div>
  );
}
