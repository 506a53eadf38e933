import { DeleteOutlined, PlusOutlined } from "@ant-design/icons";
import { Alert, Button, Checkbox, Col, Divider, Drawer, Flex, Form, Input, Row, Space, Switch, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, type BodyOf, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { looksLikeMobile, normaliseMobile } from "../auth/validation";
import type { DepartmentNode, TreeIndex } from "../directory/model";
import { MinorPanel } from "../privacy/consent/MinorPanel";
import { DepartmentSelect, MemberPicker, problemText } from "./shared";

export type MemberAdmin = ResponseOf<"/api/v1/org/members", "get">["items"][number];
type MemberCreate = BodyOf<"/api/v1/org/members", "post">;
type MemberUpdate = BodyOf<"/api/v1/org/members/{membership_id}", "patch">;
type CustomField = ResponseOf<"/api/v1/org/custom-fields", "get">[number];

interface SeatValues {
  department_id?: string;
  title?: string;
  is_head?: boolean;
}

interface FormValues {
  name: string;
  mobile?: string;
  job_number?: string;
  title?: string;
  org_email?: string;
  office_phone?: string;
  work_place?: string;
  hired_date?: string;
  manager_id?: string;
  hide_mobile?: boolean;
  executive?: boolean;
  seats?: SeatValues[];
  custom_fields?: Record<string, string>;
}

function initialValues(member: MemberAdmin | null, defaultDepartment: string | null): FormValues {
  if (!member) {
    return {
      name: "",
      seats: [{ department_id: defaultDepartment ?? undefined, title: "", is_head: false }],
      hide_mobile: false,
      executive: false,
    };
  }
  return {
    name: member.name,
    job_number: member.job_number ?? "",
    title: member.title,
    org_email: member.org_email,
    office_phone: member.office_phone,
    work_place: member.work_place,
    hired_date: member.hired_date ?? "",
    manager_id: member.manager_id ?? undefined,
    hide_mobile: member.hide_mobile,
    executive: member.executive,
    seats: member.seats.map((seat) => ({ ...seat })),
    custom_fields: Object.fromEntries(Object.entries(member.custom_fields).map(([k, v]) => [k, String(v ?? "")])),
  };
}

/** Add (POST /org/members) or edit (PATCH /org/members/{id}) one member; the server's refusal is shown inline. */
export function MemberFormDrawer({
  open,
  member,
  index,
  defaultDepartment,
  onClose,
  onSaved,
}: {
  open: boolean;
  member: MemberAdmin | null;
  index: TreeIndex<DepartmentNode>;
  defaultDepartment: string | null;
  onClose: () => void;
  onSaved: (saved: MemberAdmin, created: boolean) => void;
}) {
  const t = useT();
  const phone = useIsPhone();
  const [form] = Form.useForm<FormValues>();
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [customFields, setCustomFields] = useState<CustomField[]>([]);

  useEffect(() => {
    if (!open) return;
    setError(null);
    form.resetFields();
    form.setFieldsValue(initialValues(member, defaultDepartment));
    call(api.GET("/api/v1/org/custom-fields"))
      .then(setCustomFields)
      .catch(() => setCustomFields([]));
  }, [open, member, defaultDepartment, form]);

  const labels: Record<string, string> = {
    name: t("admin.member.name"),
    mobile: t("admin.member.mobile"),
    job_number: t("contacts.field.jobNumber"),
    title: t("contacts.field.title"),
    org_email: t("contacts.field.email"),
    office_phone: t("contacts.field.officePhone"),
    work_place: t("contacts.field.workPlace"),
    hired_date: t("contacts.field.hiredDate"),
    seats: t("admin.member.seats"),
  };

  const submit = async (values: FormValues) => {
    setSaving(true);
    setError(null);
    const seats = (values.seats ?? [])
      .filter((seat) => seat.department_id)
      .map((seat) => ({ department_id: seat.department_id!, title: (seat.title ?? "").trim(), is_head: Boolean(seat.is_head) }));
    const text = (value: string | undefined) => (value ?? "").trim();
    const custom = Object.fromEntries(
      Object.entries(values.custom_fields ?? {})
        .map(([key, value]) => [key, text(value)] as const)
        .filter(([, value]) => member !== null || value !== ""),
    );
    try {
      if (member) {
        const body: MemberUpdate = {
          name: text(values.name),
          job_number: text(values.job_number),
          title: text(values.title),
          org_email: text(values.org_email),
          office_phone: text(values.office_phone),
          work_place: text(values.work_place),
          hired_date: text(values.hired_date) || undefined,
          manager_id: values.manager_id || undefined,
          hide_mobile: Boolean(values.hide_mobile),
          executive: Boolean(values.executive),
          seats,
          custom_fields: customFields.length ? custom : undefined,
        };
        const saved = await call(
          api.PATCH("/api/v1/org/members/{membership_id}", { params: { path: { membership_id: member.id } }, body }),
        );
        onSaved(saved, false);
      } else {
        const body: MemberCreate = {
          mobile: normaliseMobile(values.mobile ?? ""),
          name: text(values.name),
          job_number: text(values.job_number) || undefined,
          title: text(values.title) || undefined,
          org_email: text(values.org_email) || undefined,
          office_phone: text(values.office_phone) || undefined,
          work_place: text(values.work_place) || undefined,
          hired_date: text(values.hired_date) || undefined,
          manager_id: values.manager_id || undefined,
          hide_mobile: Boolean(values.hide_mobile),
          executive: Boolean(values.executive),
          seats,
          custom_fields: Object.keys(custom).length ? custom : undefined,
        };
        const saved = await call(api.POST("/api/v1/org/members", { body }));
        onSaved(saved, true);
      }
    } catch (thrown) {
      setError(problemText(thrown, labels));
    } finally {
      setSaving(false);
    }
  };

  const half = phone ? 24 : 12;
  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={member ? t("admin.member.editTitle", { name: member.name }) : t("admin.member.addTitle")}
      size={phone ? "100%" : 640}
      destroyOnHidden
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
          <Button type="primary" loading={saving} onClick={() => form.submit()} data-testid="member-save">
            {t("common.save")}
          </Button>
        </Flex>
      }
    >
      <Form<FormValues> form={form} layout="vertical" onFinish={submit} requiredMark="optional" data-testid="member-form">
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="member-form-error" />}
        <Row gutter={16}>
          <Col span={half}>
            <Form.Item name="name" label={labels.name} rules={[{ required: true, whitespace: true, message: t("admin.member.nameRequired") }]}>
              <Input maxLength={100} data-testid="member-name" />
            </Form.Item>
          </Col>
          <Col span={half}>
            {member ? (
              <Form.Item label={labels.mobile} extra={t("admin.member.mobileFixed")}>
                <Input value={member.mobile_masked} disabled />
              </Form.Item>
            ) : (
              <Form.Item
                name="mobile"
                label={labels.mobile}
                rules={[
                  {
                    validator: (_, value: string | undefined) =>
                      value && looksLikeMobile(value) ? Promise.resolve() : Promise.reject(new Error(t("login.mobile.invalid"))),
                  },
                ]}
              >
                <Input inputMode="tel" maxLength={20} data-testid="member-mobile-input" />
              </Form.Item>
            )}
          </Col>
        </Row>

        <Typography.Text strong>{labels.seats}</Typography.Text>
        <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 8 }}>
          {t("admin.member.seatsHelp")}
        </Typography.Paragraph>
        <Form.List name="seats">
          {(fields, { add, remove }) => (
            <Space orientation="vertical" style={{ width: "100%", marginBottom: 16 }} size={8}>
              {fields.map((field) => (
                <Flex key={field.key} gap={8} align="start" wrap={phone} className="zt-seat-row">
                  <Form.Item
                    name={[field.name, "department_id"]}
                    rules={[{ required: true, message: t("admin.member.deptRequired") }]}
                    style={{ flex: phone ? "1 1 100%" : "2 1 0", marginBottom: 0, minWidth: 0 }}
                  >
                    <DepartmentSelect index={index} placeholder={t("admin.member.dept")} allowClear={false} testId="seat-department" />
                  </Form.Item>
                  <Form.Item name={[field.name, "title"]} style={{ flex: "1 1 0", marginBottom: 0, minWidth: 0 }}>
                    <Input placeholder={t("admin.member.seatTitle")} maxLength={100} />
                  </Form.Item>
                  <Form.Item name={[field.name, "is_head"]} valuePropName="checked" style={{ marginBottom: 0 }}>
                    <Checkbox style={{ whiteSpace: "nowrap", lineHeight: "32px" }}>{t("contacts.head")}</Checkbox>
                  </Form.Item>
                  <Button
                    type="text"
                    icon={<DeleteOutlined />}
                    onClick={() => remove(field.name)}
                    aria-label={t("admin.member.removeSeat")}
                    disabled={fields.length <= 1}
                  />
                </Flex>
              ))}
              <Button type="dashed" icon={<PlusOutlined />} onClick={() => add({ title: "", is_head: false })} block>
                {t("admin.member.addSeat")}
              </Button>
            </Space>
          )}
        </Form.List>

        <Row gutter={16}>
          <Col span={half}>
            <Form.Item name="title" label={labels.title}>
              <Input maxLength={100} data-testid="member-title" />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="job_number" label={labels.job_number}>
              <Input maxLength={64} data-testid="member-job-number" />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="org_email" label={labels.org_email} rules={[{ type: "email", message: t("admin.member.emailInvalid") }]}>
              <Input maxLength={200} inputMode="email" />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="office_phone" label={labels.office_phone}>
              <Input maxLength={64} inputMode="tel" />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="work_place" label={labels.work_place}>
              <Input maxLength={200} />
            </Form.Item>
          </Col>
          <Col span={half}>
            <Form.Item name="hired_date" label={labels.hired_date}>
              <Input type="date" />
            </Form.Item>
          </Col>
          <Col span={24}>
            <Form.Item name="manager_id" label={t("contacts.field.manager")}>
              <MemberPicker exclude={member ? new Set([member.id]) : undefined} testId="member-manager" />
            </Form.Item>
          </Col>
        </Row>

        {customFields.length > 0 && (
          <>
            <Divider titlePlacement="start" plain>
              {t("admin.member.customFields")}
            </Divider>
            <Row gutter={16}>
              {customFields.map((fieldDef) => (
                <Col span={half} key={fieldDef.id}>
                  <Form.Item name={["custom_fields", fieldDef.key]} label={fieldDef.label}>
                    <Input maxLength={200} />
                  </Form.Item>
                </Col>
              ))}
            </Row>
          </>
        )}

        <Divider titlePlacement="start" plain>
          {t("admin.member.privacy")}
        </Divider>
        <Form.Item name="hide_mobile" valuePropName="checked" label={t("admin.member.hideMobile")} extra={t("admin.member.hideMobileHelp")}>
          <Switch data-testid="member-hide-mobile" />
        </Form.Item>
        <Form.Item name="executive" valuePropName="checked" label={t("admin.member.executive")} extra={t("admin.member.executiveHelp")}>
          <Switch />
        </Form.Item>
      </Form>
      {member && <MinorPanel membershipId={member.id} />}
    </Drawer>
  );
}
