// 设置 → 通知设置: which channels each kind of notice may use, quiet hours (the chat's 下班勿扰 in
// the current organisation: one setting) and Web Push to this browser.
import { BellOutlined, ClockCircleOutlined, DesktopOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Select, Space, Switch, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../api/client";
import { useT, type MessageKey } from "../../i18n";
import { PushProblem, pushSupported, subscribeThisBrowser, unsubscribeThisBrowser } from "./webPush";

type Preferences = ResponseOf<"/api/v1/notifications/preferences", "get">;
type CategoryRow = Preferences["categories"][number];
type QuietHours = NonNullable<Preferences["quiet_hours"]>;
type ChannelName = "sms" | "email" | "push";

const CHANNELS: ChannelName[] = ["sms", "email", "push"];

function Section({ icon, title, extra, children, testId }: { icon: ReactNode; title: string; extra?: ReactNode; children: ReactNode; testId: string }) {
  return (
    <Card
      size="small"
      data-testid={testId}
      title={
        <Space>
          <span style={{ color: "#1677ff" }}>{icon}</span>
          {title}
        </Space>
      }
      extra={extra}
      styles={{ body: { padding: 16 } }}
    >
      {children}
    </Card>
  );
}

/** Every half hour, and the stored time when it is not on the half hour. */
function timeOptions(current: string): { value: string; label: string }[] {
  const all = new Set<string>([current]);
  for (let minutes = 0; minutes < 24 * 60; minutes += 30) {
    all.add(`${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`);
  }
  return Array.from(all).sort().map((value) => ({ value, label: value }));
}

function zoneOptions(current: string): { value: string; label: string }[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = new Set([current, "Asia/Shanghai", ...(intl.supportedValuesOf?.("timeZone") ?? [])]);
  return Array.from(zones).map((zone) => ({ value: zone, label: zone }));
}

function ChannelsSection({ rows, onChange }: { rows: CategoryRow[]; onChange: (rows: CategoryRow[]) => void }) {
  const t = useT();
  const flip = (category: CategoryRow["category"], channel: ChannelName, on: boolean) =>
    onChange(rows.map((row) => (row.category === category ? { ...row, [channel]: on } : row)));
  return (
    <Section testId="notify-channels" icon={<BellOutlined />} title={t("notify.channels")}>
      <Typography.Paragraph type="secondary">{t("notify.channelsHelp")}</Typography.Paragraph>
      <Table<CategoryRow>
        rowKey="category"
        size="small"
        pagination={false}
        dataSource={rows}
        columns={[
          {
            title: t("notify.category"),
            key: "category",
            render: (_, row) => t(`notify.category.${row.category}` as MessageKey),
          },
          ...CHANNELS.map((channel) => ({
            title: t(`notify.channel.${channel}` as MessageKey),
            key: channel,
            align: "center" as const,
            width: 72,
            render: (_: unknown, row: CategoryRow) => (
              <Switch
                size="small"
                checked={row[channel]}
                onChange={(on) => flip(row.category, channel, on)}
                data-testid={`notify-${row.category}-${channel}`}
                aria-label={`${t(`notify.category.${row.category}` as MessageKey)} ${t(`notify.channel.${channel}` as MessageKey)}`}
              />
            ),
          })),
        ]}
      />
      <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: "12px 0 0" }}>
        {t("notify.required")}
      </Typography.Paragraph>
    </Section>
  );
}

function Field({ label, width, children }: { label: string; width: number; children: ReactNode }) {
  return (
    <label style={{ display: "flex", flexDirection: "column", gap: 4, flex: `1 1 ${width}px`, maxWidth: width * 1.5 }}>
      <Typography.Text type="secondary">{label}</Typography.Text>
      {children}
    </label>
  );
}

function QuietSection({ quiet, onChange }: { quiet: QuietHours | null; onChange: (quiet: QuietHours) => void }) {
  const t = useT();
  const zones = useMemo(() => zoneOptions(quiet?.timezone ?? "Asia/Shanghai"), [quiet?.timezone]);
  return (
    <Section
      testId="notify-quiet"
      icon={<ClockCircleOutlined />}
      title={t("notify.quiet")}
      extra={
        quiet && (
          <Switch checked={quiet.enabled} onChange={(enabled) => onChange({ ...quiet, enabled })} data-testid="notify-quiet-switch" />
        )
      }
    >
      <Typography.Paragraph type="secondary" style={{ marginBottom: quiet?.enabled ? 12 : 0 }}>
        {quiet ? t("notify.quietHelp") : t("notify.quietNoOrg")}
      </Typography.Paragraph>
      {quiet?.enabled && (
        <Flex gap={12} wrap align="flex-end">
          <Field label={t("notify.from")} width={110}>
            <Select value={quiet.start} options={timeOptions(quiet.start)} onChange={(start) => onChange({ ...quiet, start })} data-testid="notify-quiet-start" />
          </Field>
          <Field label={t("notify.to")} width={110}>
            <Select value={quiet.end} options={timeOptions(quiet.end)} onChange={(end) => onChange({ ...quiet, end })} data-testid="notify-quiet-end" />
          </Field>
          <Field label={t("notify.timezone")} width={220}>
            <Select showSearch value={quiet.timezone} options={zones} onChange={(timezone) => onChange({ ...quiet, timezone })} />
          </Field>
          {quiet.in_quiet_hours && <Tag color="purple">{t("notify.inQuiet")}</Tag>}
        </Flex>
      )}
    </Section>
  );
}

function problemText(t: ReturnType<typeof useT>, problem: unknown): { title: string; detail: string } {
  if (problem instanceof PushProblem) {
    const key: MessageKey =
      problem.kind === "unsupported" ? "notify.pushUnsupported" : problem.kind === "denied" ? "notify.pushDenied" : "notify.pushUnreachable";
    return { title: t(key), detail: problem.message ? t("notify.pushDetail", { reason: problem.message }) : "" };
  }
  return { title: errorMessage(problem), detail: "" };
}

function PushSection({ subscribed, onChanged }: { subscribed: boolean; onChanged: () => Promise<void> }) {
  const t = useT();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ title: string; detail: string } | null>(
    pushSupported() ? null : { title: t("notify.pushUnsupported"), detail: "" },
  );

  const toggle = async (on: boolean) => {
    setBusy(true);
    setProblem(null);
    try {
      if (on) await subscribeThisBrowser();
      else await unsubscribeThisBrowser();
      message.success(on ? t("notify.pushOn") : t("notify.pushOff"));
      await onChanged();
    } catch (thrown) {
      setProblem(problemText(t, thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      testId="notify-push"
      icon={<DesktopOutlined />}
      title={t("notify.push")}
      extra={
        <Switch checked={subscribed} loading={busy} disabled={!pushSupported() && !subscribed} onChange={(on) => void toggle(on)} data-testid="notify-push-switch" />
      }
    >
      <Typography.Paragraph type="secondary" style={{ marginBottom: problem ? 12 : 0 }}>
        {t("notify.pushHelp")}
      </Typography.Paragraph>
      {problem && (
        <Alert type="warning" showIcon title={problem.title} description={problem.detail || undefined} data-testid="notify-push-problem" />
      )}
    </Section>
  );
}

export function NotificationsTab() {
  const t = useT();
  const { message } = App.useApp();
  const [loaded, setLoaded] = useState<Preferences | null>(null);
  const [rows, setRows] = useState<CategoryRow[]>([]);
  const [quiet, setQuiet] = useState<QuietHours | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const show = useCallback((preferences: Preferences) => {
    setLoaded(preferences);
    setRows(preferences.categories);
    setQuiet(preferences.quiet_hours);
  }, []);

  const load = useCallback(async () => {
    try {
      show(await call(api.GET("/api/v1/notifications/preferences")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, [show]);

  useEffect(() => {
    void load();
  }, [load]);

  const save = async () => {
    setSaving(true);
    try {
      const quiet_hours = quiet && { enabled: quiet.enabled, start: quiet.start, end: quiet.end, timezone: quiet.timezone };
      show(await call(api.PUT("/api/v1/notifications/preferences", { body: { categories: rows, quiet_hours } })));
      message.success(t("notify.saved"));
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setSaving(false);
    }
  };

  if (error) return <Alert type="error" showIcon title={error} />;
  if (!loaded) return <Card loading variant="borderless" />;
  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="notify-settings">
      <ChannelsSection rows={rows} onChange={setRows} />
      <QuietSection quiet={quiet} onChange={setQuiet} />
      <Flex justify="flex-end">
        <Button type="primary" loading={saving} onClick={() => void save()} data-testid="notify-save">
          {t("common.save")}
        </Button>
      </Flex>
      <PushSection subscribed={loaded.push_this_browser} onChanged={load} />
    </Space>
  );
}
