import { EditOutlined, PlusOutlined, SafetyCertificateOutlined, UserDeleteOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Checkbox, Flex, Form, Modal, Popconfirm, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT, type MessageKey } from "../../i18n";
import type { DepartmentNode, TreeIndex } from "../directory/model";
import { DUTIES, DUTY_FUNCTIONS, forgetAdminRights, type Duty, type Grant } from "./rights";
import { DepartmentSelect, MemberPicker, problemText } from "./shared";

type AdminRow = ResponseOf<"/api/v1/org/admins", "get">[number];

const DUTY_COLOUR: Record<Duty, string> = { system: "blue", security: "purple", audit: "gold" };

interface DutyDraft {
  enabled: boolean;
  department_ids: string[];
  functions: string[];
}
type Draft = Record<Duty, DutyDraft>;

function emptyDraft(): Draft {
  return {
    system: { enabled: false, department_ids: [], functions: [] },
    security: { enabled: false, department_ids: [], functions: [] },
    audit: { enabled: false, department_ids: [], functions: [] },
  };
}

function draftOf(grants: readonly Grant[]): Draft {
  const draft = emptyDraft();
  for (const grant of grants) {
    draft[grant.duty] = { enabled: true, department_ids: [...(grant.department_ids ?? [])], functions: [...(grant.functions ?? [])] };
  }
  return draft;
}

function GrantEditor({
  open,
  admin,
  index,
  onClose,
  onSaved,
}: {
  open: boolean;
  admin: AdminRow | null;
  index: TreeIndex<DepartmentNode>;
  onClose: () => void;
  onSaved: () => void;
}) {
  const t = useT();
  const [memberId, setMemberId] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (!open) return;
    setMemberId(admin?.membership_id ?? null);
    setDraft(admin ? draftOf(admin.grants) : emptyDraft());
    setError(null);
  }, [open, admin]);

  const update = (duty: Duty, change: Partial<DutyDraft>) =>
    setDraft((current) => {
      const next = { ...current, [duty]: { ...current[duty], ...change } };
      // 三员分立: the audit duty is held alone.
      if (change.enabled && duty === "audit") {
        next.system = { ...next.system, enabled: false };
        next.security = { ...next.security, enabled: false };
      }
      if (change.enabled && duty !== "audit") next.audit = { ...next.audit, enabled: false };
      return next;
    });

  const save = async () => {
    if (!memberId) {
      setError(t("admin.admins.pickMember"));
      return;
    }
    setSaving(true);
    setError(null);
    const grants = DUTIES.filter((duty) => draft[duty].enabled).map((duty) => ({
      duty,
      department_ids: duty === "audit" ? [] : draft[duty].department_ids,
      functions: duty === "audit" ? [] : draft[duty].functions,
    }));
    try {
      await call(api.PUT("/api/v1/org/members/{membership_id}/admin", { params: { path: { membership_id: memberId } }, body: { grants } }));
      forgetAdminRights();
      onSaved();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setSaving(false);
    }
  };

  const enabledCount = DUTIES.filter((duty) => draft[duty].enabled).length;
  return (
    <Modal
      open={open}
      onCancel={onClose}
      title={admin ? t("admin.admins.editTitle", { name: admin.name }) : t("admin.admins.addTitle")}
      onOk={() => void save()}
      okText={t("common.save")}
      okButtonProps={{ loading: saving, disabled: enabledCount === 0 && !admin }}
      destroyOnHidden
      width={640}
    >
      <Form layout="vertical" data-testid="grant-form">
        {!admin && (
          <Form.Item label={t("admin.admins.member")} required>
            <MemberPicker value={memberId} onChange={(v) => setMemberId((v as string | undefined) ?? null)} testId="grant-member" />
          </Form.Item>
        )}
        {DUTIES.map((duty) => (
          <Card
            key={duty}
            size="small"
            style={{ marginBottom: 12 }}
            title={
              <Checkbox checked={draft[duty].enabled} onChange={(e) => update(duty, { enabled: e.target.checked })} data-testid={`grant-${duty}`}>
                <Tag color={DUTY_COLOUR[duty]}>{t(`admin.duty.${duty}` as MessageKey)}</Tag>
              </Checkbox>
            }
          >
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: draft[duty].enabled && duty !== "audit" ? 8 : 0 }}>
              {t(`admin.duty.${duty}.desc` as MessageKey)}
            </Typography.Paragraph>
            {draft[duty].enabled && duty !== "audit" && (
              <>
                <Form.Item label={t("admin.admins.scope")} extra={t("admin.admins.scopeHelp")} style={{ marginBottom: 8 }}>
                  <DepartmentSelect
                    index={index}
                    multiple
                    value={draft[duty].department_ids}
                    onChange={(v) => update(duty, { department_ids: (v as string[]) ?? [] })}
                    placeholder={t("admin.admins.wholeOrg")}
                  />
                </Form.Item>
                <Form.Item label={t("admin.admins.functions")} extra={t("admin.admins.functionsHelp")} style={{ marginBottom: 0 }}>
                  <Checkbox.Group
                    value={draft[duty].functions}
                    onChange={(v) => update(duty, { functions: v as string[] })}
                    options={DUTY_FUNCTIONS[duty].map((fn) => ({ value: fn, label: t(`admin.fn.${fn}` as MessageKey) }))}
                  />
                </Form.Item>
              </>
            )}
          </Card>
        ))}
        {draft.system.enabled && draft.security.enabled && <Alert type="warning" showIcon title={t("admin.admins.combinedWarning")} style={{ marginBottom: 12 }} />}
        {error && <Alert type="error" showIcon title={error} data-testid="grant-error" />}
      </Form>
    </Modal>
  );
}

export function AdminsSection({ index }: { index: TreeIndex<DepartmentNode> }) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [admins, setAdmins] = useState<AdminRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<AdminRow | null>(null);
  const [open, setOpen] = useState(false);

  const load = useCallback(async () => {
    try {
      const listed = await call(api.GET("/api/v1/org/admins"));
      setAdmins([...listed].sort((a, b) => Number(b.role === "main_admin") - Number(a.role === "main_admin")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (admin: AdminRow) => {
    try {
      await call(api.PUT("/api/v1/org/members/{membership_id}/admin", { params: { path: { membership_id: admin.membership_id } }, body: { grants: [] } }));
      forgetAdminRights();
      message.success(t("admin.admins.revoked", { name: admin.name }));
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };

  const scopeText = (grant: Grant) =>
    grant.duty === "audit"
      ? t("admin.admins.auditOnly")
      : [
          grant.department_ids?.length
            ? grant.department_ids.map((id) => index.byId.get(id)?.name ?? id).join("、")
            : t("admin.admins.wholeOrg"),
          grant.functions?.length ? grant.functions.map((fn) => t(`admin.fn.${fn}` as MessageKey)).join("、") : t("admin.admins.allFunctions"),
        ].join(" · ");

  const columns: ColumnsType<AdminRow> = [
    {
      title: t("admin.member.name"),
      dataIndex: "name",
      width: phone ? undefined : 160,
      render: (name: string, admin) => (
        <Space size={6} wrap>
          <Typography.Text strong>{name}</Typography.Text>
          {admin.role === "main_admin" && <Tag color="red">{t("role.main_admin")}</Tag>}
        </Space>
      ),
    },
    {
      title: t("admin.admins.duties"),
      key: "grants",
      render: (_: unknown, admin) =>
        admin.role === "main_admin" ? (
          <Typography.Text type="secondary">{t("admin.admins.mainAdminDuties")}</Typography.Text>
        ) : (
          <Space orientation="vertical" size={4}>
            {admin.grants.map((grant) => (
              <span key={grant.duty} data-testid={`duty-${grant.duty}`}>
                <Tag color={DUTY_COLOUR[grant.duty]}>{t(`admin.duty.${grant.duty}` as MessageKey)}</Tag>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {scopeText(grant)}
                </Typography.Text>
              </span>
            ))}
          </Space>
        ),
    },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 90 : 220,
      render: (_: unknown, admin) =>
        admin.role === "main_admin" ? null : (
          <Space size={0} wrap>
            <Button
              type="link"
              size="small"
              icon={<EditOutlined />}
              onClick={() => {
                setEditing(admin);
                setOpen(true);
              }}
            >
              {!phone && t("admin.edit")}
            </Button>
            <Popconfirm title={t("admin.admins.revokeConfirm", { name: admin.name })} okButtonProps={{ danger: true }} onConfirm={() => revoke(admin)}>
              <Button type="link" size="small" danger icon={<UserDeleteOutlined />}>
                {!phone && t("admin.admins.revoke")}
              </Button>
            </Popconfirm>
          </Space>
        ),
    },
  ];

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="admin-admins">
      <Alert
        type="info"
        showIcon
        icon={<SafetyCertificateOutlined />}
        title={t("admin.admins.separationTitle")}
        description={
          <ul className="zt-admin-duty-list">
            <li>
              <Tag color="blue">{t("admin.duty.system")}</Tag>
              {t("admin.duty.system.desc")}
            </li>
            <li>
              <Tag color="purple">{t("admin.duty.security")}</Tag>
              {t("admin.duty.security.desc")}
            </li>
            <li>
              <Tag color="gold">{t("admin.duty.audit")}</Tag>
              {t("admin.duty.audit.desc")}
            </li>
          </ul>
        }
      />
      <Flex justify="flex-end">
        <Button
          type="primary"
          icon={<PlusOutlined />}
          onClick={() => {
            setEditing(null);
            setOpen(true);
          }}
          data-testid="admin-add"
        >
          {t("admin.admins.add")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<AdminRow> rowKey="membership_id" columns={columns} dataSource={admins ?? []} loading={admins === null && !error} pagination={false} size="middle" data-testid="admins-table" />
      <GrantEditor
        open={open}
        admin={editing}
        index={index}
        onClose={() => setOpen(false)}
        onSaved={() => {
          setOpen(false);
          message.success(t("admin.saved"));
          void load();
        }}
      />
    </Space>
  );
}
