// 发 DING: people, text, how it is delivered (in the app, SMS, phone call), now or at a minute,
// the emergency switch (quiet hours ignored, audited) and one attachment uploaded with progress.
import { PaperClipOutlined, UserAddOutlined, WarningOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  DatePicker,
  Form,
  Input,
  Modal,
  Progress,
  Radio,
  Space,
  Switch,
  Tag,
  Typography,
  type DatePickerProps,
} from "antd";
import { useEffect, useRef, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useMe } from "../../app/session";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { useChat } from "../chat/ChatProvider";
import { MemberPicker, type Picked } from "../chat/MemberPicker";
import { fileSize } from "../chat/model";
import { formatDateTime } from "../settings/format";
import { CHANNELS, MAX_TEXT_CHARS, channelKey, type Channel, type Ding, type DingFile } from "./model";
import { uploadAttachment, type Upload } from "./upload";

const DAY_MS = 86_400_000;
const SHOWN_PEOPLE = 30;

export interface ComposerStart {
  /** "DING 一下" from a chat message: the server takes its text (when none is typed) and attachment. */
  sourceMessageId?: string;
  text?: string;
  recipients?: Picked[];
}

// antd's date type (dayjs), without depending on dayjs directly.
type PickedTime = Parameters<NonNullable<DatePickerProps["disabledDate"]>>[0] | null;

interface Attaching {
  name: string;
  percent: number;
  upload: Upload;
}

export function DingComposer({
  open,
  start,
  onClose,
  onSent,
}: {
  open: boolean;
  start: ComposerStart | null;
  onClose: () => void;
  onSent: (ding: Ding) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const me = useMe();
  const { message } = App.useApp();
  const { policy } = useChat();
  const [people, setPeople] = useState<Picked[]>([]);
  const [picking, setPicking] = useState(false);
  const [text, setText] = useState("");
  const [channel, setChannel] = useState<Channel>("in_app");
  const [later, setLater] = useState(false);
  const [at, setAt] = useState<PickedTime>(null);
  const [emergency, setEmergency] = useState(false);
  const [attachment, setAttachment] = useState<DingFile | null>(null);
  const [attaching, setAttaching] = useState<Attaching | null>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return;
    setPeople(start?.recipients ?? []);
    setText(start?.text ?? "");
    setChannel("in_app");
    setLater(false);
    setAt(null);
    setEmergency(false);
    setAttachment(null);
    setAttaching(null);
    setError(null);
  }, [open, start]);

  const fromMessage = Boolean(start?.sourceMessageId);
  const maxUpload = policy?.max_upload_bytes ?? null;

  const attach = (file: File | undefined) => {
    if (!file) return;
    if (maxUpload !== null && file.size > maxUpload) {
      setError(t("ding.form.tooLarge", { size: fileSize(maxUpload) }));
      return;
    }
    attaching?.upload.abort();
    const upload = uploadAttachment(file, (percent) =>
      setAttaching((current) => (current && current.upload === upload ? { ...current, percent } : current)),
    );
    setAttaching({ name: file.name, percent: 0, upload });
    setAttachment(null);
    setError(null);
    upload.done.then(
      (stored) => {
        setAttachment(stored);
        setAttaching((current) => (current?.upload === upload ? null : current));
      },
      (thrown: unknown) => {
        setAttaching((current) => (current?.upload === upload ? null : current));
        if (thrown instanceof Error && thrown.message !== "aborted") setError(thrown.message);
      },
    );
  };

  const close = () => {
    attaching?.upload.abort();
    onClose();
  };

  const submit = async () => {
    if (people.length === 0) {
      setError(t("ding.form.recipientsNone"));
      return;
    }
    if (later && !at) {
      setError(t("ding.form.atRequired"));
      return;
    }
    setSending(true);
    setError(null);
    try {
      const sent = await call(
        api.POST("/api/v1/ding", {
          body: {
            text,
            recipient_ids: people.map((p) => p.id),
            channel,
            scheduled_at: later && at ? at.second(0).millisecond(0).toISOString() : null,
            emergency,
            attachment_id: attachment?.id ?? null,
            source_message_id: start?.sourceMessageId ?? null,
          },
        }),
      );
      message.success(
        sent.status === "scheduled"
          ? t("ding.form.scheduled", { time: formatDateTime(language, sent.scheduled_at) })
          : t("ding.form.sent"),
      );
      onSent(sent);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setSending(false);
    }
  };

  const shown = people.slice(0, SHOWN_PEOPLE);
  return (
    <Modal
      open={open}
      title={t("ding.form.title")}
      onCancel={close}
      destroyOnHidden
      mask={{ closable: false }}
      width={phone ? "100%" : 600}
      className={phone ? "zt-ding-modal-phone" : undefined}
      footer={
        <Space>
          <Button onClick={close}>{t("common.cancel")}</Button>
          <Button
            type="primary"
            danger={emergency}
            loading={sending}
            disabled={attaching !== null}
            onClick={() => void submit()}
            data-testid="ding-submit"
          >
            {later ? t("ding.form.schedule") : t("ding.form.submit")}
          </Button>
        </Space>
      }
    >
      <Form layout="vertical" className="zt-ding-form" data-testid="ding-form" component="div">
        <Form.Item label={t("ding.form.recipients")} required>
          <div className="zt-ding-people" data-testid="ding-people" data-count={people.length}>
            {shown.map((p) => (
              <Tag key={p.id} closable onClose={() => setPeople((current) => current.filter((x) => x.id !== p.id))}>
                {p.name}
              </Tag>
            ))}
            {people.length > SHOWN_PEOPLE && <Tag>+{people.length - SHOWN_PEOPLE}</Tag>}
            <Button size="small" icon={<UserAddOutlined />} onClick={() => setPicking(true)} data-testid="ding-pick-recipients">
              {t("ding.form.pickRecipients")}
            </Button>
          </div>
          {people.length > 0 && (
            <Typography.Text type="secondary" className="zt-ding-hint">
              {t("ding.form.recipientsCount", { count: people.length })}
            </Typography.Text>
          )}
        </Form.Item>
        <Form.Item label={t("ding.form.text")} required={!fromMessage} extra={fromMessage ? t("ding.form.textFromMessage") : undefined}>
          {fromMessage && <Tag color="blue" className="zt-ding-source">{t("ding.fromMessage")}</Tag>}
          <Input.TextArea
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder={t("ding.form.textPlaceholder")}
            autoSize={{ minRows: 3, maxRows: 8 }}
            maxLength={MAX_TEXT_CHARS}
            showCount
            data-testid="ding-text"
          />
        </Form.Item>
        <Form.Item label={t("ding.form.channel")} extra={t(`ding.form.channelHelp.${channel}` as const)}>
          <Radio.Group
            optionType="button"
            buttonStyle="solid"
            value={channel}
            onChange={(event) => setChannel(event.target.value as Channel)}
            options={CHANNELS.map((value) => ({ value, label: <span data-testid={`ding-channel-${value}`}>{t(channelKey(value))}</span> }))}
          />
        </Form.Item>
        <Form.Item label={t("ding.form.when")}>
          <Space wrap>
            <Radio.Group
              value={later ? "later" : "now"}
              onChange={(event) => setLater(event.target.value === "later")}
              options={[
                { value: "now", label: t("ding.form.now") },
                { value: "later", label: <span data-testid="ding-when-later">{t("ding.form.later")}</span> },
              ]}
            />
            {later && (
              <DatePicker
                showTime={{ format: "HH:mm" }}
                format="YYYY-MM-DD HH:mm"
                value={at}
                onChange={(value) => setAt(value)}
                placeholder={t("ding.form.at")}
                style={{ minWidth: 190 }}
                disabledDate={(day) => day.valueOf() < Date.now() - DAY_MS || day.valueOf() > Date.now() + 30 * DAY_MS}
                data-testid="ding-at"
              />
            )}
          </Space>
        </Form.Item>
        <Form.Item label={t("ding.form.emergency")}>
          <Switch checked={emergency} onChange={setEmergency} data-testid="ding-emergency" />
          {emergency && (
            <Alert
              className="zt-ding-warning"
              type="warning"
              showIcon
              icon={<WarningOutlined />}
              title={t("ding.form.emergencyWarning")}
              data-testid="ding-emergency-warning"
            />
          )}
        </Form.Item>
        <Form.Item label={t("ding.form.attachment")}>
          <input
            ref={fileInput}
            type="file"
            style={{ display: "none" }}
            onChange={(event) => {
              attach(event.target.files?.[0]);
              event.target.value = "";
            }}
            data-testid="ding-attach-input"
          />
          {attaching ? (
            <div className="zt-ding-upload" data-testid="ding-upload-progress">
              <Typography.Text ellipsis>{t("ding.form.uploading", { name: attaching.name })}</Typography.Text>
              <Progress percent={attaching.percent} size="small" />
            </div>
          ) : attachment ? (
            <Tag
              icon={<PaperClipOutlined />}
              closable
              onClose={() => setAttachment(null)}
              closeIcon={<span aria-label={t("ding.form.removeAttachment")}>×</span>}
              data-testid="ding-attachment"
            >
              {attachment.name} · {fileSize(attachment.size)}
            </Tag>
          ) : (
            <Button icon={<PaperClipOutlined />} onClick={() => fileInput.current?.click()} data-testid="ding-attach">
              {t("ding.form.addAttachment")}
            </Button>
          )}
        </Form.Item>
        {error && <Alert type="error" showIcon title={error} data-testid="ding-form-error" />}
      </Form>
      <MemberPicker
        open={picking}
        title={t("ding.form.pickRecipients")}
        multiple
        exclude={new Set([...(me.current_membership_id ? [me.current_membership_id] : []), ...people.map((p) => p.id)])}
        onCancel={() => setPicking(false)}
        onConfirm={(picked) => {
          setPeople((current) => [...current, ...picked.filter((p) => !current.some((c) => c.id === p.id))]);
          setPicking(false);
        }}
      />
    </Modal>
  );
}
