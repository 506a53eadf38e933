// My chat preferences: desktop notifications, quiet hours (下班勿扰), hiding my read status.
import { App, Button, Form, Modal, Select, Switch, Tag, Typography } from "antd";
import { useEffect, useMemo, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { useChat } from "./ChatProvider";

function timeZones(current: string): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const zones = intl.supportedValuesOf?.("timeZone") ?? [];
  return Array.from(new Set([current, "Asia/Shanghai", ...zones])).filter(Boolean);
}

/** Every half hour, and the stored time when it is not on the half hour. */
function times(current: string): { value: string; label: string }[] {
  const all = new Set<string>([current]);
  for (let minutes = 0; minutes < 24 * 60; minutes += 30) {
    all.add(`${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`);
  }
  return Array.from(all)
    .filter(Boolean)
    .sort()
    .map((value) => ({ value, label: value }));
}

export function PreferencesModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const { preferences, setPreferences, policy, notifications, enableNotifications } = useChat();
  const [quiet, setQuiet] = useState(false);
  const [start, setStart] = useState("22:00");
  const [end, setEnd] = useState("08:00");
  const [zone, setZone] = useState("Asia/Shanghai");
  const [hide, setHide] = useState(false);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (!open || !preferences) return;
    setQuiet(preferences.quiet_hours_enabled);
    setStart(preferences.quiet_start);
    setEnd(preferences.quiet_end);
    setZone(preferences.timezone);
    setHide(preferences.hide_read_status);
  }, [open, preferences]);

  const zones = useMemo(() => timeZones(zone).map((z) => ({ value: z, label: z })), [zone]);

  const save = async () => {
    setSaving(true);
    try {
      const saved = await call(
        api.PATCH("/api/v1/im/preferences", {
          body: {
            quiet_hours_enabled: quiet,
            quiet_start: start,
            quiet_end: end,
            timezone: zone,
            ...(policy?.read_receipts === "opt_out" ? { hide_read_status: hide } : {}),
          },
        }),
      );
      setPreferences(saved);
      message.success(t("chat.prefs.saved"));
      onClose();
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setSaving(false);
    }
  };

  const notifyState =
    notifications === "granted"
      ? <Tag color="green">{t("chat.notify.on")}</Tag>
      : notifications === "denied"
        ? <Tag color="red">{t("chat.notify.denied")}</Tag>
        : notifications === "unsupported"
          ? <Tag>{t("chat.notify.unsupported")}</Tag>
          : (
            <Button size="small" onClick={() => void enableNotifications()} data-testid="enable-notifications">
              {t("chat.notify.enable")}
            </Button>
          );

  return (
    <Modal
      open={open}
      title={t("chat.preferences")}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t("common.save")}
      confirmLoading={saving}
      okButtonProps={{ disabled: !preferences }}
      width={phone ? "100%" : 480}
      className={phone ? "zt-modal-phone" : undefined}
      destroyOnHidden
    >
      <Form layout="vertical" data-testid="chat-prefs">
        <Form.Item label={t("chat.notify.title")} extra={t("chat.notify.help")}>
          {notifyState}
        </Form.Item>
        <Form.Item label={t("chat.prefs.quiet")} extra={t("chat.prefs.quietHelp")}>
          <Switch checked={quiet} onChange={setQuiet} data-testid="quiet-switch" />
          {preferences?.in_quiet_hours && quiet && (
            <Tag color="purple" style={{ marginLeft: 8 }}>
              {t("chat.prefs.inQuiet")}
            </Tag>
          )}
        </Form.Item>
        {quiet && (
          <div className="zt-chat-quiet">
            <Form.Item label={t("chat.prefs.from")}>
              <Select value={start} onChange={setStart} options={times(start)} showSearch data-testid="quiet-start" />
            </Form.Item>
            <Form.Item label={t("chat.prefs.to")}>
              <Select value={end} onChange={setEnd} options={times(end)} showSearch data-testid="quiet-end" />
            </Form.Item>
            <Form.Item label={t("chat.prefs.timezone")} style={{ gridColumn: "1 / -1" }}>
              <Select showSearch value={zone} onChange={setZone} options={zones} />
            </Form.Item>
          </div>
        )}
        {policy?.read_receipts === "opt_out" && (
          <Form.Item label={t("chat.prefs.hideRead")} extra={t("chat.prefs.hideReadHelp")}>
            <Switch checked={hide} onChange={setHide} data-testid="hide-read-switch" />
          </Form.Item>
        )}
        {policy && (
          <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 0 }}>
            {t(`chat.policy.${policy.read_receipts === "off" ? "off" : policy.read_receipts === "opt_out" ? "optOut" : "on"}`)}
            {policy.recall_window_minutes % 60 === 0
              ? t("chat.policy.recallHours", { hours: policy.recall_window_minutes / 60 })
              : t("chat.policy.recallMinutes", { minutes: policy.recall_window_minutes })}
          </Typography.Paragraph>
        )}
      </Form>
    </Modal>
  );
}
