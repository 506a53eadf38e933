// 发工作通知: recipients (people, departments with everyone below them, or everyone), the message in
// one of DingTalk's work-notice formats, and a live preview as the recipient will see it.
import { DeleteOutlined, PlusOutlined, SendOutlined } from "@ant-design/icons";
import {
  Alert,
  Button,
  ColorPicker,
  Drawer,
  Flex,
  Form,
  Input,
  Radio,
  Segmented,
  Select,
  Switch,
  Tooltip,
  Typography,
} from "antd";
import type { Rule } from "antd/es/form";
import { useState } from "react";

import { api, call } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT, type MessageKey } from "../../i18n";
import { DepartmentSelect, MemberPicker, problemText, type CreatedOf } from "../admin/shared";
import type { TreeIndex, TreeItem } from "../directory/model";
import { MessageView } from "./MessageView";
import { MSG_TYPES, safeHref, type Button as CardButton, type FormRow, type MsgType } from "./model";

export type SentNotice = CreatedOf<"/api/v1/org/work-notices", "post">;

const MAX_TEXT = 5000;
const MAX_SHORT = 200;
const MAX_URL = 2000;
const MAX_BUTTONS = 5;
const MAX_FORM_ROWS = 20;

interface Values {
  to_all: boolean;
  department_ids: string[];
  user_ids: string[];
  msgtype: MsgType;
  text: { content?: string };
  markdown: { title?: string; text?: string };
  link: { title?: string; text?: string; messageUrl?: string; picUrl?: string };
  action_card: {
    title?: string;
    markdown?: string;
    mode?: "single" | "multiple";
    single_title?: string;
    single_url?: string;
    btn_orientation?: "0" | "1";
    btn_json_list?: Partial<CardButton>[];
  };
  oa: {
    message_url?: string;
    head_text?: string;
    head_color?: string;
    title?: string;
    form?: Partial<FormRow>[];
    content?: string;
    author?: string;
  };
}

const INITIAL: Values = {
  to_all: false,
  department_ids: [],
  user_ids: [],
  msgtype: "markdown",
  text: {},
  markdown: {},
  link: {},
  action_card: { mode: "single", btn_orientation: "0", btn_json_list: [{}, {}] },
  oa: { head_color: "#1677ff", form: [{}] },
};

const s = (value: string | undefined): string => (value ?? "").trim();

/** "#1677ff" → "FF1677FF" (DingTalk's AARRGGBB). */
function dingColour(css: string | undefined): string {
  const hex = (css ?? "").replace(/^#/, "");
  if (/^[0-9a-f]{6}$/i.test(hex)) return `FF${hex.toUpperCase()}`;
  if (/^[0-9a-f]{8}$/i.test(hex)) return `${hex.slice(6)}${hex.slice(0, 6)}`.toUpperCase(); // RRGGBBAA → AARRGGBB
  return "";
}

/** The `msg` the API takes, from the form's values (only the chosen format's fields). */
export function messageOf(values: Partial<Values>): Record<string, unknown> {
  const kind = values.msgtype ?? "text";
  switch (kind) {
    case "text":
      return { msgtype: kind, text: { content: values.text?.content ?? "" } };
    case "markdown":
      return { msgtype: kind, markdown: { title: s(values.markdown?.title), text: values.markdown?.text ?? "" } };
    case "link": {
      const link = values.link ?? {};
      return {
        msgtype: kind,
        link: { title: s(link.title), text: link.text ?? "", messageUrl: s(link.messageUrl), picUrl: s(link.picUrl) },
      };
    }
    case "action_card": {
      const card = values.action_card ?? {};
      const common = { title: s(card.title), markdown: card.markdown ?? "" };
      if (card.mode === "multiple") {
        return {
          msgtype: kind,
          action_card: {
            ...common,
            btn_orientation: card.btn_orientation === "1" ? "1" : "0",
            btn_json_list: (card.btn_json_list ?? []).map((b) => ({ title: s(b?.title), action_url: s(b?.action_url) })),
          },
        };
      }
      return { msgtype: kind, action_card: { ...common, single_title: s(card.single_title), single_url: s(card.single_url) } };
    }
    case "oa": {
      const oa = values.oa ?? {};
      return {
        msgtype: kind,
        oa: {
          message_url: s(oa.message_url),
          head: { bgcolor: dingColour(oa.head_color), text: s(oa.head_text) },
          body: {
            title: s(oa.title),
            form: (oa.form ?? [])
              .map((row) => ({ key: s(row?.key), value: s(row?.value) }))
              .filter((row) => row.key || row.value),
            content: oa.content ?? "",
            author: s(oa.author),
          },
        },
      };
    }
  }
}

/** True when the preview has something to show. */
function hasContent(values: Partial<Values>): boolean {
  switch (values.msgtype) {
    case "text":
      return Boolean(s(values.text?.content));
    case "markdown":
      return Boolean(s(values.markdown?.text) || s(values.markdown?.title));
    case "link":
      return Boolean(s(values.link?.title) || s(values.link?.text));
    case "action_card":
      return Boolean(s(values.action_card?.title) || s(values.action_card?.markdown));
    case "oa":
      return Boolean(s(values.oa?.title) || s(values.oa?.content) || s(values.oa?.head_text));
    default:
      return false;
  }
}

export function ComposeDrawer({
  open,
  onClose,
  onSent,
  index,
  wholeOrg,
}: {
  open: boolean;
  onClose: () => void;
  onSent: (notice: SentNotice) => void;
  index: TreeIndex<TreeItem>;
  /** May send to everyone (an admin of the whole organisation). */
  wholeOrg: boolean;
}) {
  const t = useT();
  const phone = useIsPhone();
  const [form] = Form.useForm<Values>();
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const values = Form.useWatch((all: Values) => all, { form, preserve: true }) ?? INITIAL;
  const kind = values.msgtype ?? "markdown";
  const toAll = Boolean(values.to_all);

  const required = (label: MessageKey): Rule => ({
    required: true,
    whitespace: true,
    message: t("worknotices.required", { field: t(label) }),
  });
  const url = (optional = false): Rule => ({
    validator: async (_rule, value: string | undefined) => {
      if (optional && !s(value)) return;
      if (!safeHref(s(value))) throw new Error(t("worknotices.badUrl"));
    },
  });

  const submit = async () => {
    let checked: Values;
    try {
      checked = await form.validateFields();
    } catch {
      return;
    }
    const all = { ...form.getFieldsValue(true), ...checked } as Values;
    setSending(true);
    setError(null);
    try {
      const sent = await call(
        api.POST("/api/v1/org/work-notices", {
          body: {
            to_all: all.to_all,
            department_ids: all.to_all ? [] : (all.department_ids ?? []),
            user_ids: all.to_all ? [] : (all.user_ids ?? []),
            msg: messageOf(all),
          },
        }),
      );
      form.resetFields();
      onSent(sent);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setSending(false);
    }
  };

  const typeOptions = MSG_TYPES.map((value) => ({ value, label: t(`worknotices.type.${value}` as MessageKey) }));

  const fields = (() => {
    switch (kind) {
      case "text":
        return (
          <Form.Item name={["text", "content"]} label={t("worknotices.field.content")} rules={[required("worknotices.field.content")]}>
            <Input.TextArea autoSize={{ minRows: 5, maxRows: 14 }} maxLength={MAX_TEXT} showCount data-testid="wn-text-content" />
          </Form.Item>
        );
      case "markdown":
        return (
          <>
            <Form.Item name={["markdown", "title"]} label={t("worknotices.field.markdownTitle")} rules={[required("worknotices.field.title")]}>
              <Input maxLength={MAX_SHORT} data-testid="wn-md-title" />
            </Form.Item>
            <Form.Item
              name={["markdown", "text"]}
              label={t("worknotices.field.markdownText")}
              extra={t("worknotices.field.markdownHelp")}
              rules={[required("worknotices.field.content")]}
            >
              <Input.TextArea autoSize={{ minRows: 6, maxRows: 16 }} maxLength={MAX_TEXT} data-testid="wn-md-text" />
            </Form.Item>
          </>
        );
      case "link":
        return (
          <>
            <Form.Item name={["link", "title"]} label={t("worknotices.field.title")} rules={[required("worknotices.field.title")]}>
              <Input maxLength={MAX_SHORT} data-testid="wn-link-title" />
            </Form.Item>
            <Form.Item name={["link", "text"]} label={t("worknotices.field.linkText")} rules={[required("worknotices.field.linkText")]}>
              <Input.TextArea autoSize={{ minRows: 2, maxRows: 6 }} maxLength={MAX_TEXT} data-testid="wn-link-text" />
            </Form.Item>
            <Form.Item name={["link", "messageUrl"]} label={t("worknotices.field.messageUrl")} rules={[required("worknotices.field.messageUrl"), url()]}>
              <Input maxLength={MAX_URL} placeholder="https://" inputMode="url" data-testid="wn-link-url" />
            </Form.Item>
            <Form.Item name={["link", "picUrl"]} label={t("worknotices.field.picUrl")} rules={[url(true)]}>
              <Input maxLength={MAX_URL} placeholder="https://" inputMode="url" data-testid="wn-link-pic" />
            </Form.Item>
          </>
        );
      case "action_card":
        return (
          <>
            <Form.Item name={["action_card", "title"]} label={t("worknotices.field.title")} rules={[required("worknotices.field.title")]}>
              <Input maxLength={MAX_SHORT} data-testid="wn-card-title" />
            </Form.Item>
            <Form.Item
              name={["action_card", "markdown"]}
              label={t("worknotices.field.cardMarkdown")}
              extra={t("worknotices.field.markdownHelp")}
              rules={[required("worknotices.field.content")]}
            >
              <Input.TextArea autoSize={{ minRows: 4, maxRows: 12 }} maxLength={MAX_TEXT} data-testid="wn-card-markdown" />
            </Form.Item>
            <Form.Item name={["action_card", "mode"]} label={t("worknotices.field.buttons")}>
              <Radio.Group
                optionType="button"
                options={[
                  { value: "single", label: t("worknotices.field.singleButton") },
                  { value: "multiple", label: t("worknotices.field.multipleButtons") },
                ]}
              />
            </Form.Item>
            {values.action_card?.mode === "multiple" ? (
              <>
                <Form.Item name={["action_card", "btn_orientation"]} label={t("worknotices.field.orientation")}>
                  <Radio.Group
                    options={[
                      { value: "0", label: t("worknotices.field.vertical") },
                      { value: "1", label: t("worknotices.field.horizontal") },
                    ]}
                  />
                </Form.Item>
                <Form.List name={["action_card", "btn_json_list"]}>
                  {(items, { add, remove }) => (
                    <>
                      {items.map((item) => (
                        <div key={item.key} className="zt-wn-inline-row">
                          <Form.Item name={[item.name, "title"]} rules={[required("worknotices.field.buttonTitle")]}>
                            <Input maxLength={MAX_SHORT} placeholder={t("worknotices.field.buttonTitle")} data-testid="wn-button-title" />
                          </Form.Item>
                          <Form.Item name={[item.name, "action_url"]} rules={[required("worknotices.field.buttonUrl"), url()]}>
                            <Input maxLength={MAX_URL} placeholder="https://" inputMode="url" data-testid="wn-button-url" />
                          </Form.Item>
                          <Button
                            type="text"
                            icon={<DeleteOutlined />}
                            disabled={items.length <= 1}
                            onClick={() => remove(item.name)}
                            aria-label={t("admin.delete")}
                          />
                        </div>
                      ))}
                      <Button
                        type="dashed"
                        icon={<PlusOutlined />}
                        disabled={items.length >= MAX_BUTTONS}
                        onClick={() => add({})}
                        style={{ marginBottom: 16 }}
                      >
                        {t("worknotices.field.addButton")}
                      </Button>
                    </>
                  )}
                </Form.List>
              </>
            ) : (
              <div className="zt-wn-inline-row">
                <Form.Item
                  name={["action_card", "single_title"]}
                  label={t("worknotices.field.singleTitle")}
                  rules={[required("worknotices.field.singleTitle")]}
                >
                  <Input maxLength={MAX_SHORT} data-testid="wn-card-single-title" />
                </Form.Item>
                <Form.Item
                  name={["action_card", "single_url"]}
                  label={t("worknotices.field.singleUrl")}
                  rules={[required("worknotices.field.singleUrl"), url()]}
                >
                  <Input maxLength={MAX_URL} placeholder="https://" inputMode="url" data-testid="wn-card-single-url" />
                </Form.Item>
              </div>
            )}
          </>
        );
      case "oa":
        return (
          <>
            <div className="zt-wn-inline-row">
              <Form.Item name={["oa", "head_text"]} label={t("worknotices.field.headText")}>
                <Input maxLength={MAX_SHORT} data-testid="wn-oa-head-text" />
              </Form.Item>
              <Form.Item
                name={["oa", "head_color"]}
                label={t("worknotices.field.headColor")}
                getValueFromEvent={(color: { toHexString: () => string }) => color.toHexString()}
                style={{ flex: "none" }}
              >
                <ColorPicker disabledAlpha />
              </Form.Item>
            </div>
            <Form.Item name={["oa", "title"]} label={t("worknotices.field.bodyTitle")}>
              <Input maxLength={MAX_SHORT} data-testid="wn-oa-title" />
            </Form.Item>
            <Typography.Text style={{ display: "block", marginBottom: 8 }}>{t("worknotices.field.form")}</Typography.Text>
            <Form.List name={["oa", "form"]}>
              {(items, { add, remove }) => (
                <>
                  {items.map((item) => (
                    <div key={item.key} className="zt-wn-inline-row">
                      <Form.Item name={[item.name, "key"]}>
                        <Input maxLength={MAX_SHORT} placeholder={t("worknotices.field.formKey")} data-testid="wn-oa-form-key" />
                      </Form.Item>
                      <Form.Item name={[item.name, "value"]}>
                        <Input maxLength={MAX_SHORT} placeholder={t("worknotices.field.formValue")} data-testid="wn-oa-form-value" />
                      </Form.Item>
                      <Button type="text" icon={<DeleteOutlined />} onClick={() => remove(item.name)} aria-label={t("admin.delete")} />
                    </div>
                  ))}
                  <Button
                    type="dashed"
                    icon={<PlusOutlined />}
                    disabled={items.length >= MAX_FORM_ROWS}
                    onClick={() => add({})}
                    style={{ marginBottom: 16 }}
                  >
                    {t("worknotices.field.addRow")}
                  </Button>
                </>
              )}
            </Form.List>
            <Form.Item
              name={["oa", "content"]}
              label={t("worknotices.field.bodyContent")}
              dependencies={[["oa", "title"], ["oa", "head_text"]]}
              rules={[
                ({ getFieldValue }) => ({
                  validator: async (_rule, value: string | undefined) => {
                    if (s(value) || s(getFieldValue(["oa", "title"])) || s(getFieldValue(["oa", "head_text"]))) return;
                    throw new Error(t("worknotices.required", { field: t("worknotices.field.bodyContent") }));
                  },
                }),
              ]}
            >
              <Input.TextArea autoSize={{ minRows: 3, maxRows: 10 }} maxLength={MAX_TEXT} showCount data-testid="wn-oa-content" />
            </Form.Item>
            <div className="zt-wn-inline-row">
              <Form.Item name={["oa", "author"]} label={t("worknotices.field.author")}>
                <Input maxLength={MAX_SHORT} data-testid="wn-oa-author" />
              </Form.Item>
              <Form.Item name={["oa", "message_url"]} label={t("worknotices.field.oaUrl")} rules={[url(true)]}>
                <Input maxLength={MAX_URL} placeholder="https://" inputMode="url" />
              </Form.Item>
            </div>
          </>
        );
    }
  })();

  const preview = (
    <div className="zt-wn-preview" data-testid="wn-preview">
      <Typography.Text strong style={{ display: "block", marginBottom: 8 }}>
        {t("worknotices.preview")}
      </Typography.Text>
      <div className="zt-wn-preview-pane">
        <div className="zt-wn-preview-from">{t("worknotices.from", { name: t("worknotices.admin") })}</div>
        {hasContent(values) ? (
          <div className="zt-wn-preview-bubble">
            <MessageView message={messageOf(values)} />
          </div>
        ) : (
          <Typography.Text type="secondary">{t("worknotices.previewEmpty")}</Typography.Text>
        )}
      </div>
    </div>
  );

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={t("worknotices.composeTitle")}
      size={phone ? "100%" : 920}
      forceRender
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>{t("common.cancel")}</Button>
          <Button type="primary" icon={<SendOutlined />} loading={sending} onClick={() => void submit()} data-testid="wn-send">
            {t("worknotices.send")}
          </Button>
        </Flex>
      }
      data-testid="wn-compose-drawer"
    >
      <Form<Values> form={form} layout="vertical" initialValues={INITIAL} requiredMark={false} data-testid="wn-compose">
        <div className="zt-wn-compose">
          <div>
            <Typography.Text strong style={{ display: "block", marginBottom: 8 }}>
              {t("worknotices.recipients")}
            </Typography.Text>
            <Form.Item label={null} style={{ marginBottom: 12 }}>
              <Flex align="center" gap={8}>
                <Form.Item name="to_all" valuePropName="checked" noStyle>
                  <Switch disabled={!wholeOrg} data-testid="wn-to-all" />
                </Form.Item>
                <Tooltip title={wholeOrg ? null : t("worknotices.toAllScoped")}>
                  <Typography.Text type={wholeOrg ? undefined : "secondary"}>
                    {t("worknotices.toAll")}
                    <Typography.Text type="secondary" style={{ fontSize: 12, marginLeft: 8 }}>
                      {wholeOrg ? t("worknotices.toAllHelp") : t("worknotices.toAllScoped")}
                    </Typography.Text>
                  </Typography.Text>
                </Tooltip>
              </Flex>
            </Form.Item>
            {!toAll && (
              <>
                <Form.Item name="department_ids" label={t("worknotices.departments")}>
                  <DepartmentSelect index={index} multiple placeholder={t("worknotices.departmentsPlaceholder")} testId="wn-departments" />
                </Form.Item>
                <Form.Item
                  name="user_ids"
                  label={t("worknotices.users")}
                  dependencies={["to_all", "department_ids"]}
                  rules={[
                    ({ getFieldValue }) => ({
                      validator: async (_rule, value: string[] | undefined) => {
                        if (getFieldValue("to_all") || (getFieldValue("department_ids") ?? []).length || (value ?? []).length) return;
                        throw new Error(t("worknotices.noTarget"));
                      },
                    }),
                  ]}
                >
                  <MemberPicker mode="multiple" placeholder={t("worknotices.usersPlaceholder")} testId="wn-users" />
                </Form.Item>
              </>
            )}
            <Form.Item name="msgtype" label={t("worknotices.type")}>
              {phone ? (
                <Select options={typeOptions} data-testid="wn-type" />
              ) : (
                <Segmented options={typeOptions} data-testid="wn-type" />
              )}
            </Form.Item>
            {fields}
            {error && <Alert type="error" showIcon title={error} />}
          </div>
          {preview}
        </div>
      </Form>
    </Drawer>
  );
}
