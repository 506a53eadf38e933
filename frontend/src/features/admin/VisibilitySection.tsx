import { DeleteOutlined, EditOutlined, EyeInvisibleOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Checkbox, Flex, Form, Modal, Popconfirm, Radio, Space, Switch, Table, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type BodyOf, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT, type MessageKey } from "../../i18n";
import type { DepartmentNode, TreeIndex } from "../directory/model";
import { DepartmentSelect, problemText } from "./shared";

type Rule = ResponseOf<"/api/v1/org/visibility-rules", "get">[number];
type RuleMode = BodyOf<"/api/v1/org/visibility-rules/{department_id}", "put">["mode"];
type Settings = ResponseOf<"/api/v1/org/settings", "get">;
type HideableField = NonNullable<BodyOf<"/api/v1/org/settings", "patch">["hidden_fields"]>[number];

const MODES: readonly RuleMode[] = ["self", "own_departments", "listed"];
const HIDEABLE: readonly HideableField[] = ["mobile", "job_number", "org_email", "office_phone", "work_place", "hired_date", "custom_fields"];

function SettingsCard() {
  const t = useT();
  const { message } = App.useApp();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    call(api.GET("/api/v1/org/settings"))
      .then(setSettings)
      .catch((thrown: unknown) => setError(problemText(thrown)));
  }, []);
  const patch = async (body: BodyOf<"/api/v1/org/settings", "patch">) => {
    setSaving(true);
    setError(null);
    try {
      setSettings(await call(api.PATCH("/api/v1/org/settings", { body })));
      message.success(t("admin.saved"));
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card size="small" title={t("admin.vis.settings")} data-testid="org-settings">
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {settings && (
        <Space orientation="vertical" size={16} style={{ width: "100%" }}>
          <Flex justify="space-between" align="center" gap={12}>
            <div>
              <Typography.Text strong>{t("admin.vis.watermark")}</Typography.Text>
              <Typography.Paragraph type="secondary" style={{ margin: 0, fontSize: 12 }}>
                {t("admin.vis.watermarkHelp")}
              </Typography.Paragraph>
            </div>
            <Switch checked={settings.watermark} loading={saving} onChange={(checked) => void patch({ watermark: checked })} data-testid="watermark-switch" />
          </Flex>
          <div>
            <Typography.Text strong>{t("admin.vis.hiddenFields")}</Typography.Text>
            <Typography.Paragraph type="secondary" style={{ margin: "0 0 8px", fontSize: 12 }}>
              {t("admin.vis.hiddenFieldsHelp")}
            </Typography.Paragraph>
            <Checkbox.Group
              value={settings.hidden_fields}
              disabled={saving}
              onChange={(value) => void patch({ hidden_fields: value as HideableField[] })}
              options={HIDEABLE.map((field) => ({ value: field, label: t(`admin.field.${field}` as MessageKey) }))}
              data-testid="hidden-fields"
            />
          </div>
        </Space>
      )}
    </Card>
  );
}

function RuleEditor({
  open,
  rule,
  index,
  onClose,
  onSaved,
}: {
  open: boolean;
  rule: Rule | null;
  index: TreeIndex<DepartmentNode>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const [department, setDepartment] = useState<string | null>(null);
  const [mode, setMode] = useState<RuleMode>("own_departments");
  const [listed, setListed] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (!open) return;
    setDepartment(rule?.department_id ?? null);
    setMode((rule?.mode as RuleMode | undefined) ?? "own_departments");
    setListed(rule?.listed_department_ids ?? []);
    setError(null);
  }, [open, rule]);
  const save = async () => {
    if (!department) {
      setError(t("admin.vis.pickDepartment"));
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await call(
        api.PUT("/api/v1/org/visibility-rules/{department_id}", {
          params: { path: { department_id: department } },
          body: { mode, listed_department_ids: mode === "listed" ? listed : [] },
        }),
      );
      onSaved();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal open={open} onCancel={onClose} onOk={() => void save()} okText={t("common.save")} okButtonProps={{ loading: saving }} title={t("admin.vis.ruleTitle")} destroyOnHidden>
      <Form layout="vertical" data-testid="rule-form">
        <Form.Item label={t("admin.vis.appliesTo")} extra={t("admin.vis.appliesToHelp")} required>
          {rule ? (
            <Typography.Text strong>{index.byId.get(rule.department_id)?.name ?? rule.department_id}</Typography.Text>
          ) : (
            <DepartmentSelect index={index} value={department} onChange={(v) => setDepartment((v as string | undefined) ?? null)} testId="rule-department" />
          )}
        </Form.Item>
        <Form.Item label={t("admin.vis.mode")}>
          <Radio.Group value={mode} onChange={(e) => setMode(e.target.value as RuleMode)} style={{ display: "flex", flexDirection: "column", gap: 8 }}>
            {MODES.map((m) => (
              <Radio key={m} value={m}>
                {t(`admin.vis.mode.${m}` as MessageKey)}
              </Radio>
            ))}
          </Radio.Group>
        </Form.Item>
        {mode === "listed" && (
          <Form.Item label={t("admin.vis.listed")}>
            <DepartmentSelect index={index} multiple value={listed} onChange={(v) => setListed((v as string[]) ?? [])} />
          </Form.Item>
        )}
        {error && <Alert type="error" showIcon title={error} />}
      </Form>
    </Modal>
  );
}

export function VisibilitySection({ index }: { index: TreeIndex<DepartmentNode> }) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [rules, setRules] = useState<Rule[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Rule | null>(null);
  const [open, setOpen] = useState(false);
  const load = useCallback(async () => {
    try {
      setRules(await call(api.GET("/api/v1/org/visibility-rules")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const remove = async (rule: Rule) => {
    try {
      await call(api.DELETE("/api/v1/org/visibility-rules/{department_id}", { params: { path: { department_id: rule.department_id } } }));
      message.success(t("admin.vis.ruleDeleted"));
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };
  const name = (id: string) => index.byId.get(id)?.name ?? id;
  const columns: ColumnsType<Rule> = [
    { title: t("admin.vis.appliesTo"), dataIndex: "department_id", render: (id: string) => <Typography.Text strong>{name(id)}</Typography.Text> },
    {
      title: t("admin.vis.mode"),
      key: "mode",
      render: (_: unknown, rule) => (
        <span>
          {t(`admin.vis.mode.${rule.mode}` as MessageKey)}
          {rule.mode === "listed" && rule.listed_department_ids.length > 0 && (
            <Typography.Text type="secondary">:{rule.listed_department_ids.map(name).join("、")}</Typography.Text>
          )}
        </span>
      ),
    },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 90 : 150,
      render: (_: unknown, rule) => (
        <Space size={0}>
          <Button
            type="link"
            size="small"
            icon={<EditOutlined />}
            onClick={() => {
              setEditing(rule);
              setOpen(true);
            }}
          >
            {!phone && t("admin.edit")}
          </Button>
          <Popconfirm title={t("admin.vis.deleteConfirm")} okButtonProps={{ danger: true }} onConfirm={() => remove(rule)}>
            <Button type="link" size="small" danger icon={<DeleteOutlined />}>
              {!phone && t("admin.delete")}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];
  return (
    <div className="zt-admin-two" data-testid="admin-visibility">
      <Card
        size="small"
        title={t("admin.vis.rules")}
        extra={
          <Button
            size="small"
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => {
              setEditing(null);
              setOpen(true);
            }}
            data-testid="rule-add"
          >
            {t("admin.vis.addRule")}
          </Button>
        }
      >
        <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
          {t("admin.vis.rulesHelp")}
        </Typography.Paragraph>
        {error && <Alert type="error" showIcon title={error} />}
        <Table<Rule> rowKey="department_id" size="small" columns={columns} dataSource={rules ?? []} loading={rules === null && !error} pagination={false} data-testid="rules-table" />
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginTop: 12, marginBottom: 0 }}>
          <EyeInvisibleOutlined /> {t("admin.vis.hiddenDepartmentsHint")}
        </Typography.Paragraph>
      </Card>
      <SettingsCard />
      <RuleEditor
        open={open}
        rule={editing}
        index={index}
        onClose={() => setOpen(false)}
        onSaved={() => {
          setOpen(false);
          message.success(t("admin.saved"));
          void load();
        }}
      />
    </div>
  );
}
