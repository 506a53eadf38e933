import { PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Drawer, Empty, Flex, Form, Input, Radio, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { problemText } from "../../admin/shared";
import { formatDateTime } from "../../settings/format";
import type { PolicyVersion } from "./model";

interface PublishForm {
  kind: "major" | "minor";
  text_zh: string;
  text_en: string;
  summary_zh: string;
  summary_en: string;
}

/** The policy versions (privacy.consent's API): the list, and publishing a new one. */
export function PolicySection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [versions, setVersions] = useState<PolicyVersion[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [publishing, setPublishing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<PublishForm>();

  const load = useCallback(async () => {
    try {
      setVersions(await call(api.GET("/api/v1/operator/privacy/policy-versions")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const publish = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const published = await call(api.POST("/api/v1/operator/privacy/policy-versions", { body: values }));
      message.success(t("privacy.operator.policy.publishedDone", { version: published.version }));
      form.resetFields();
      setPublishing(false);
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="operator-policy">
      <Flex justify="space-between" align="center" gap={8} wrap style={{ marginBottom: 12 }}>
        <Typography.Text type="secondary">{t("privacy.operator.policy.desc")}</Typography.Text>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setPublishing(true)}>
          {t("privacy.operator.policy.publish")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {versions !== null && versions.length === 0 ? (
        <Empty description={t("privacy.operator.policy.empty")} />
      ) : (
        <Table<PolicyVersion>
          rowKey="version"
          loading={versions === null && !error}
          dataSource={versions ?? []}
          pagination={false}
          scroll={{ x: "max-content" }}
          columns={[
            { title: t("privacy.operator.policy.version"), dataIndex: "version" },
            {
              title: t("privacy.operator.policy.kind"),
              key: "kind",
              render: (_, row) =>
                row.kind === "major" ? (
                  <Tag color="red">{t("privacy.operator.policy.kind.major")}</Tag>
                ) : (
                  <Tag>{t("privacy.operator.policy.kind.minor")}</Tag>
                ),
            },
            { title: t("privacy.operator.policy.published"), key: "published", render: (_, row) => formatDateTime(language, row.published_at) },
            {
              title: t("privacy.operator.policy.summary"),
              key: "summary",
              responsive: ["md"],
              render: (_, row) => (language === "en" ? row.summary_en : row.summary_zh) || "—",
            },
          ]}
        />
      )}
      <Drawer
        open={publishing}
        onClose={() => setPublishing(false)}
        title={t("privacy.operator.policy.publish")}
        size={phone ? "100%" : 640}
        destroyOnHidden
        extra={
          <Button type="primary" onClick={() => void publish()} loading={busy}>
            {t("privacy.operator.confirm")}
          </Button>
        }
      >
        <Form form={form} layout="vertical" initialValues={{ kind: "minor", summary_zh: "", summary_en: "" }}>
          <Form.Item name="kind" label={t("privacy.operator.policy.kind")} rules={[{ required: true }]}>
            <Radio.Group
              options={[
                { value: "minor", label: t("privacy.operator.policy.kind.minor") },
                { value: "major", label: t("privacy.operator.policy.kind.major") },
              ]}
            />
          </Form.Item>
          <Form.Item name="summary_zh" label={t("privacy.operator.policy.summaryZh")}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 4 }} maxLength={2000} />
          </Form.Item>
          <Form.Item name="summary_en" label={t("privacy.operator.policy.summaryEn")}>
            <Input.TextArea autoSize={{ minRows: 2, maxRows: 4 }} maxLength={2000} />
          </Form.Item>
          <Form.Item name="text_zh" label={t("privacy.operator.policy.textZh")} rules={[{ required: true, whitespace: true }]}>
            <Input.TextArea autoSize={{ minRows: 6, maxRows: 16 }} />
          </Form.Item>
          <Form.Item name="text_en" label={t("privacy.operator.policy.textEn")} rules={[{ required: true, whitespace: true }]}>
            <Input.TextArea autoSize={{ minRows: 6, maxRows: 16 }} />
          </Form.Item>
        </Form>
      </Drawer>
    </div>
  );
}
