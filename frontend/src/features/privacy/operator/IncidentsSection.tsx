import { AlertOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Collapse,
  Drawer,
  Empty,
  Flex,
  Form,
  Input,
  List,
  Progress,
  Select,
  Space,
  Typography,
} from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT, type MessageKey } from "../../../i18n";
import { problemText } from "../../admin/shared";
import { formatDateTime } from "../../settings/format";
import { DeadlineTag } from "./DeadlineTag";
import { IncidentDetailDrawer } from "./IncidentDetail";
import {
  DATA_CATEGORIES,
  isoToLocalInput,
  localInputToIso,
  type Incident,
  type OrganizationUsage,
} from "./model";

const TEXT_FIELDS = [
  ["what_happened", "privacy.operator.incidents.form.whatHappened"],
  ["possible_impact", "privacy.operator.incidents.form.possibleImpact"],
  ["measures_taken", "privacy.operator.incidents.form.measuresTaken"],
  ["person_can_do", "privacy.operator.incidents.form.personCanDo"],
] as const;

interface IncidentForm {
  discovered_at: string;
  data_categories: string[];
  org_ids: string[];
  account_ids: string;
  zh: Record<string, string>;
  en?: Record<string, string>;
}

function texts(values: Record<string, string> | undefined): Record<string, string> | null {
  if (!values || !Object.values(values).some((value) => value && value.trim())) return null;
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value ?? ""]));
}

function TextFields({ prefix, required }: { prefix: "zh" | "en"; required: boolean }) {
  const t = useT();
  const rule = [{ required, whitespace: true }];
  return (
    <>
      <Form.Item name={[prefix, "title"]} label={t("privacy.operator.incidents.form.title")} rules={rule}>
        <Input maxLength={200} />
      </Form.Item>
      {TEXT_FIELDS.map(([field, label]) => (
        <Form.Item key={field} name={[prefix, field]} label={t(label)} rules={rule}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={4000} />
        </Form.Item>
      ))}
      <Form.Item name={[prefix, "data_concerned"]} label={t("privacy.operator.incidents.form.dataConcerned")}>
        <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} maxLength={2000} />
      </Form.Item>
      <Form.Item name={[prefix, "contact"]} label={t("privacy.operator.incidents.form.contact")} rules={rule}>
        <Input maxLength={500} />
      </Form.Item>
    </>
  );
}

function RecordIncidentDrawer({
  open,
  organizations,
  onClose,
  onRecorded,
}: {
  open: boolean;
  organizations: OrganizationUsage[];
  onClose: () => void;
  onRecorded: (id: string) => void;
}) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [form] = Form.useForm<IncidentForm>();
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    const values = await form.validateFields();
    const discovered = localInputToIso(values.discovered_at);
    if (!discovered) return;
    const english = texts(values.en);
    setBusy(true);
    try {
      const recorded = await call(
        api.POST("/api/v1/operator/incidents", {
          body: {
            discovered_at: discovered,
            data_categories: values.data_categories as (typeof DATA_CATEGORIES)[number][],
            org_ids: values.org_ids ?? [],
            account_ids: (values.account_ids ?? "").split(/\s+/).filter(Boolean),
            texts: {
              "zh-CN": texts(values.zh) as never,
              ...(english ? { en: english as never } : {}),
            },
          },
        }),
      );
      message.success(t("privacy.operator.incidents.recorded"));
      form.resetFields();
      onRecorded(recorded.id);
    } catch (error) {
      message.error(problemText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t("privacy.operator.incidents.record")}
      size={phone ? "100%" : 640}
      destroyOnHidden
      extra={
        <Button type="primary" onClick={() => void submit()} loading={busy} data-testid="incident-submit">
          {t("privacy.operator.incidents.form.submit")}
        </Button>
      }
    >
      <Alert type="info" showIcon title={t("privacy.operator.incidents.form.lawHint")} style={{ marginBottom: 16 }} />
      <Form
        form={form}
        layout="vertical"
        data-testid="incident-form"
        initialValues={{ discovered_at: isoToLocalInput(new Date().toISOString()), data_categories: [], org_ids: [] }}
      >
        <div className="zt-op-form-grid">
          <Form.Item name="discovered_at" label={t("privacy.operator.incidents.form.discoveredAt")} rules={[{ required: true }]}>
            <Input type="datetime-local" />
          </Form.Item>
          <Form.Item name="org_ids" label={t("privacy.operator.incidents.form.orgs")}>
            <Select
              mode="multiple"
              data-testid="incident-orgs"
              optionFilterProp="label"
              options={organizations.map((org) => ({ value: org.id, label: org.name }))}
            />
          </Form.Item>
        </div>
        <Form.Item
          name="data_categories"
          label={t("privacy.operator.incidents.form.categories")}
          rules={[{ required: true, type: "array", min: 1 }]}
        >
          <Checkbox.Group
            options={DATA_CATEGORIES.map((category) => ({
              value: category,
              label: t(`privacy.operator.incidents.category.${category}` as MessageKey),
            }))}
          />
        </Form.Item>
        <TextFields prefix="zh" required />
        <Form.Item name="account_ids" label={t("privacy.operator.incidents.form.accounts")}>
          <Input.TextArea autoSize={{ minRows: 1, maxRows: 4 }} />
        </Form.Item>
        <Collapse
          ghost
          items={[
            { key: "en", label: t("privacy.operator.incidents.form.english"), children: <TextFields prefix="en" required={false} /> },
          ]}
        />
      </Form>
    </Drawer>
  );
}

export function IncidentsSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [incidents, setIncidents] = useState<Incident[] | null>(null);
  const [organizations, setOrganizations] = useState<OrganizationUsage[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [recording, setRecording] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const [listed, orgs] = await Promise.all([
        call(api.GET("/api/v1/operator/incidents")),
        call(api.GET("/api/v1/operator/usage")),
      ]);
      setIncidents(listed);
      setOrganizations(orgs);
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

  return (
    <div data-testid="operator-incidents">
      <Flex justify="flex-end" gap={8} style={{ marginBottom: 12 }}>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading}>
          {!phone && t("privacy.operator.refresh")}
        </Button>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setRecording(true)} data-testid="incident-record">
          {t("privacy.operator.incidents.record")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {incidents !== null && incidents.length === 0 ? (
        <Empty description={t("privacy.operator.incidents.empty")} />
      ) : (
        <List<Incident>
          loading={loading && incidents === null}
          dataSource={incidents ?? []}
          data-testid="incident-list"
          renderItem={(incident) => {
            const progress = incident.progress;
            const percent = progress.affected ? Math.round((100 * progress.reached) / progress.affected) : 100;
            return (
              <Card
                size="small"
                className="zt-op-incident"
                style={{ marginBottom: 12 }}
                onClick={() => setSelected(incident.id)}
                data-testid="incident-card"
              >
                <Flex justify="space-between" align="flex-start" gap={8} wrap>
                  <Space size={8} wrap>
                    <AlertOutlined style={{ color: incident.status === "open" ? "#fa541c" : undefined }} />
                    <Typography.Text strong>{incident.title}</Typography.Text>
                    <DeadlineTag incident={incident} />
                  </Space>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t("privacy.operator.incidents.discovered")} {formatDateTime(language, incident.discovered_at)}
                  </Typography.Text>
                </Flex>
                <Flex align="center" gap={12} style={{ marginTop: 8 }} wrap>
                  <Progress
                    percent={percent}
                    size="small"
                    style={{ flex: "1 1 200px", margin: 0 }}
                    status={progress.overdue ? "exception" : percent === 100 ? "success" : "active"}
                  />
                  <Typography.Text style={{ fontSize: 12 }}>
                    {t("privacy.operator.incidents.reached", { reached: progress.reached, affected: progress.affected })}
                  </Typography.Text>
                </Flex>
              </Card>
            );
          }}
        />
      )}
      <RecordIncidentDrawer
        open={recording}
        organizations={organizations}
        onClose={() => setRecording(false)}
        onRecorded={(id) => {
          setRecording(false);
          setSelected(id);
          void load();
        }}
      />
      <IncidentDetailDrawer
        incidentId={selected}
        organizations={organizations}
        onClose={() => setSelected(null)}
        onChanged={() => void load()}
      />
    </div>
  );
}
