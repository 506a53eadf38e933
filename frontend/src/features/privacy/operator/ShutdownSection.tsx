import { PoweroffOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Checkbox, Descriptions, Flex, Form, Input, List, Popconfirm, Skeleton, Space, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT, type MessageKey } from "../../../i18n";
import { JobProgress } from "../../jobs/JobProgress";
import { problemText } from "../../admin/shared";
import { formatDateTime } from "../../settings/format";
import { CHANNELS, isoToLocalInput, localInputToIso, type Shutdown, type ShutdownState } from "./model";

type AnnounceChannel = "sms" | "email" | "push";
interface ScheduleForm {
  collection_stops_at: string;
  channels: AnnounceChannel[];
  message_zh: string;
  message_en: string;
}

const STATUS_COLOR: Record<string, string> = { scheduled: "orange", cancelled: "default", purging: "red", completed: "purple" };

function StatusTag({ shutdown }: { shutdown: Shutdown }) {
  const t = useT();
  return <Tag color={STATUS_COLOR[shutdown.status]}>{t(`privacy.operator.shutdown.status.${shutdown.status}` as MessageKey)}</Tag>;
}

function NoticeCounts({ counts }: { counts: Shutdown["notices"] }) {
  const t = useT();
  return (
    <Space size={[4, 4]} wrap data-testid="shutdown-notices">
      {CHANNELS.filter((channel) => counts[channel]).flatMap((channel) =>
        Object.entries(counts[channel]!).map(([result, count]) => (
          <Tag key={`${channel}-${result}`} color={result === "sent" || result === "read" ? "green" : result === "queued" ? "blue" : "default"}>
            {t(`privacy.operator.channel.${channel}` as MessageKey)} · {t(`privacy.operator.result.${result}` as MessageKey)} {count}
          </Tag>
        )),
      )}
    </Space>
  );
}

function CurrentShutdown({ shutdown, onChanged }: { shutdown: Shutdown; onChanged: () => Promise<void> }) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const days = Math.max(0, Math.ceil((new Date(shutdown.collection_stops_at).getTime() - Date.now()) / 86_400_000));
  const cancel = async () => {
    setBusy(true);
    try {
      await call(api.POST("/api/v1/operator/shutdown/cancel"));
      message.success(t("privacy.operator.shutdown.cancelled"));
      await onChanged();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" data-testid="shutdown-current">
      <Alert
        type={shutdown.collection_stopped ? "error" : "warning"}
        showIcon
        icon={<PoweroffOutlined />}
        title={shutdown.collection_stopped ? t("privacy.operator.shutdown.stopped") : t("privacy.operator.shutdown.countdown", { days })}
        style={{ marginBottom: 12 }}
      />
      <Descriptions size="small" column={phone ? 1 : 2} bordered>
        <Descriptions.Item label={t("privacy.operator.orgs.status")}>
          <StatusTag shutdown={shutdown} />
        </Descriptions.Item>
        <Descriptions.Item label={t("privacy.operator.shutdown.date")}>{formatDateTime(language, shutdown.collection_stops_at)}</Descriptions.Item>
        <Descriptions.Item label={t("privacy.operator.incidents.detail.channels")}>
          {shutdown.channels.map((channel) => t(`privacy.operator.channel.${channel}` as MessageKey)).join("、")}
        </Descriptions.Item>
        <Descriptions.Item label={t("privacy.operator.shutdown.notices")}>
          <NoticeCounts counts={shutdown.notices} />
        </Descriptions.Item>
        {shutdown.status === "completed" && (
          <Descriptions.Item label={t("privacy.operator.shutdown.status.completed")} span={phone ? 1 : 2}>
            {t("privacy.operator.shutdown.outcome", {
              organizations: shutdown.outcome.organizations ?? 0,
              accounts: shutdown.outcome.accounts ?? 0,
            })}
          </Descriptions.Item>
        )}
      </Descriptions>
      {shutdown.announce_job_id && shutdown.status === "scheduled" && (
        <div style={{ marginTop: 12 }}>
          <JobProgress jobId={shutdown.announce_job_id} />
        </div>
      )}
      {shutdown.status === "scheduled" && !shutdown.collection_stopped && (
        <Popconfirm
          title={t("privacy.operator.shutdown.cancelConfirm")}
          onConfirm={() => void cancel()}
          okText={t("privacy.operator.confirm")}
          cancelText={t("privacy.operator.cancel")}
        >
          <Button style={{ marginTop: 12 }} loading={busy} data-testid="shutdown-cancel">
            {t("privacy.operator.shutdown.cancelAction")}
          </Button>
        </Popconfirm>
      )}
    </Card>
  );
}

function ScheduleShutdown({ earliest, onScheduled }: { earliest: string; onScheduled: () => Promise<void> }) {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const [form] = Form.useForm<ScheduleForm>();
  const [busy, setBusy] = useState(false);
  const minimum = isoToLocalInput(earliest);
  // A day past the earliest moment, so that the minutes spent filling in the form do not matter.
  const suggested = isoToLocalInput(new Date(new Date(earliest).getTime() + 86_400_000).toISOString());
  const schedule = async () => {
    const values = await form.validateFields();
    const stopsAt = localInputToIso(values.collection_stops_at);
    if (!stopsAt) return;
    setBusy(true);
    try {
      await call(
        api.POST("/api/v1/operator/shutdown", {
          body: { ...values, collection_stops_at: stopsAt, message_zh: values.message_zh ?? "", message_en: values.message_en ?? "" },
        }),
      );
      message.success(t("privacy.operator.shutdown.scheduled"));
      form.resetFields();
      await onScheduled();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" title={t("privacy.operator.shutdown.schedule")} data-testid="shutdown-form">
      <Form form={form} layout="vertical" initialValues={{ channels: ["sms", "email"], collection_stops_at: suggested }}>
        <div className="zt-op-form-grid">
          <Form.Item
            name="collection_stops_at"
            label={t("privacy.operator.shutdown.date")}
            extra={t("privacy.operator.shutdown.earliest", { date: formatDateTime(language, earliest) })}
            rules={[{ required: true }]}
          >
            <Input type="datetime-local" min={minimum} />
          </Form.Item>
          <Form.Item label={t("privacy.operator.shutdown.channels")} required>
            <Flex gap={8} wrap>
              <Checkbox checked disabled>
                {t("privacy.operator.channel.in_app")}
              </Checkbox>
              <Form.Item name="channels" noStyle rules={[{ required: true, type: "array", min: 1 }]}>
                <Checkbox.Group
                  options={(["sms", "email", "push"] as const).map((channel) => ({
                    value: channel,
                    label: t(`privacy.operator.channel.${channel}` as MessageKey),
                  }))}
                />
              </Form.Item>
            </Flex>
          </Form.Item>
        </div>
        <Form.Item name="message_zh" label={t("privacy.operator.shutdown.messageZh")}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 5 }} maxLength={2000} />
        </Form.Item>
        <Form.Item name="message_en" label={t("privacy.operator.shutdown.messageEn")}>
          <Input.TextArea autoSize={{ minRows: 2, maxRows: 5 }} maxLength={2000} />
        </Form.Item>
        <Popconfirm
          title={t("privacy.operator.shutdown.scheduleConfirm")}
          onConfirm={() => void schedule()}
          okText={t("privacy.operator.confirm")}
          cancelText={t("privacy.operator.cancel")}
        >
          <Button type="primary" danger loading={busy} data-testid="shutdown-schedule">
            {t("privacy.operator.shutdown.schedule")}
          </Button>
        </Popconfirm>
      </Form>
    </Card>
  );
}

export function ShutdownSection() {
  const t = useT();
  const language = useLanguage();
  const [state, setState] = useState<ShutdownState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setState(await call(api.GET("/api/v1/operator/shutdown")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const past = state?.history.filter((row) => row.id !== state.current?.id) ?? [];
  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="operator-shutdown">
      <Typography.Text type="secondary">{t("privacy.operator.shutdown.desc")}</Typography.Text>
      {error && <Alert type="error" showIcon title={error} />}
      {state === null ? (
        !error && <Skeleton active />
      ) : state.current ? (
        <CurrentShutdown shutdown={state.current} onChanged={load} />
      ) : (
        <>
          <Alert type="success" showIcon title={t("privacy.operator.shutdown.none")} />
          <ScheduleShutdown earliest={state.earliest} onScheduled={load} />
        </>
      )}
      {past.length > 0 && (
        <List
          header={<Typography.Text strong>{t("privacy.operator.shutdown.history")}</Typography.Text>}
          size="small"
          dataSource={past}
          renderItem={(row) => (
            <List.Item>
              <Space wrap>
                <StatusTag shutdown={row} />
                <span>
                  {t("privacy.operator.shutdown.date")} {formatDateTime(language, row.collection_stops_at)}
                </span>
              </Space>
            </List.Item>
          )}
        />
      )}
    </Space>
  );
}
