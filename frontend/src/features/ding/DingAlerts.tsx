// The recipient's side of a DING, wherever they are in the app: a banner that stays until they
// confirm with one tap (确认收到), open it, or put it off until the next reminder. It loads the
// DINGs still to confirm at start and hears new ones (and reminders) on the event stream.
import { PaperClipOutlined, ThunderboltFilled } from "@ant-design/icons";
import { App, Button, Space, Tag } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../../api/client";
import { useMe } from "../../app/session";
import { useT } from "../../i18n";
import { useChat } from "../chat/ChatProvider";
import "./ding.css";
import { channelKey, isDingConfirmed, isDingNew, type Ding } from "./model";

export default function DingAlerts() {
  const t = useT();
  const navigate = useNavigate();
  const me = useMe();
  const { message } = App.useApp();
  const { subscribeEvents } = useChat();
  const [waiting, setWaiting] = useState<Ding[]>([]); // still to confirm, newest first
  const [later, setLater] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);

  const load = useCallback(async () => {
    try {
      const page = await call(api.GET("/api/v1/ding/received", { params: { query: { unconfirmed: true, limit: 20 } } }), {
        quietAuth: true,
      });
      setWaiting(page.items);
    } catch {
      // the banner waits for the next event; the page itself reports lost sessions
    }
  }, []);

  useEffect(() => {
    void load();
    return subscribeEvents((event) => {
      if (isDingNew(event)) {
        setWaiting((current) => [event.ding, ...current.filter((d) => d.id !== event.ding.id)]);
        setLater((current) => new Set([...current].filter((id) => id !== event.ding.id))); // a reminder shows it again
      }
      if (isDingConfirmed(event) && event.membership_id === me.current_membership_id) {
        setWaiting((current) => current.filter((d) => d.id !== event.ding_id)); // confirmed here or on another device
      }
    });
  }, [load, subscribeEvents, me.current_membership_id]);

  const shown = waiting.filter((d) => !later.has(d.id));
  const ding = shown[0];
  if (!ding) return null;

  const confirm = async () => {
    setConfirming(true);
    try {
      await call(api.POST("/api/v1/ding/{ding_id}/confirm", { params: { path: { ding_id: ding.id } } }));
      setWaiting((current) => current.filter((d) => d.id !== ding.id));
      message.success(t("ding.alert.confirmed"));
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setConfirming(false);
    }
  };

  return (
    <div className="zt-ding-alert" role="alertdialog" aria-live="assertive" data-testid="ding-alert" data-ding-id={ding.id}>
      <span className="zt-ding-alert-icon">
        <ThunderboltFilled />
      </span>
      <div className="zt-ding-alert-main">
        <div className="zt-ding-alert-title">
          {t("ding.alert.title", { name: ding.sender_name })}
          <Tag color="blue">{t(channelKey(ding.channel))}</Tag>
          {ding.emergency && <Tag color="red">{t("ding.emergency")}</Tag>}
        </div>
        <div className="zt-ding-alert-text" data-testid="ding-alert-text">{ding.text}</div>
        {ding.attachment && (
          <div className="zt-ding-alert-file">
            <PaperClipOutlined /> {ding.attachment.name}
          </div>
        )}
        {shown.length > 1 && <div className="zt-ding-alert-more">{t("ding.alert.more", { count: shown.length - 1 })}</div>}
        <Space className="zt-ding-alert-actions" wrap>
          <Button type="primary" danger loading={confirming} onClick={() => void confirm()} data-testid="ding-alert-confirm">
            {t("ding.alert.confirm")}
          </Button>
          <Button onClick={() => navigate(`/ding/${ding.id}`)} data-testid="ding-alert-open">
            {t("ding.alert.open")}
          </Button>
          <Button type="text" onClick={() => setLater((current) => new Set([...current, ding.id]))} data-testid="ding-alert-later">
            {t("ding.alert.later")}
          </Button>
        </Space>
      </div>
    </div>
  );
}
