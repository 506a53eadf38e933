import { BellOutlined } from "@ant-design/icons";
import { App, Badge, Button, Drawer, Empty, Flex, Modal, Popover, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { useChat } from "../../chat/ChatProvider";
import { formatDateTime } from "../../settings/format";
import { inLanguage, type Notice } from "./model";
import "./operator.css";

const POLL_MS = 5 * 60_000; // a safety net: the event stream says when a notice arrives

/**
 * The notification centre in the header: a bell with the unread count of the person's notices
 * (DINGs, security incidents, the service shutdown, …), updated the moment one arrives. Opening
 * one marks it read and jumps to its source when it has one, else shows its text.
 */
export function NoticeBell() {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const phone = useIsPhone();
  const navigate = useNavigate();
  const { subscribeEvents } = useChat();
  const [notices, setNotices] = useState<Notice[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  const [reading, setReading] = useState<Notice | null>(null);

  const load = useCallback(async () => {
    try {
      const listed = await call(api.GET("/api/v1/notices", { params: { query: { limit: 20 } } }), { quietAuth: true });
      setNotices(listed.items);
      setUnread(listed.unread);
    } catch {
      // the bell stays as it was; the page itself reports lost sessions
    }
  }, []);
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), POLL_MS);
    const unsubscribe = subscribeEvents((event) => {
      if (event.type.startsWith("notice.")) void load(); // new, read elsewhere, or withdrawn
    });
    return () => {
      window.clearInterval(timer);
      unsubscribe();
    };
  }, [load, subscribeEvents]);

  const read = async (notice: Notice) => {
    setOpen(false);
    if (notice.link) navigate(notice.link);
    else setReading(notice);
    if (notice.read_at) return;
    try {
      await call(api.POST("/api/v1/notices/{notice_id}/read", { params: { path: { notice_id: notice.id } } }));
      await load();
    } catch (error) {
      message.error(errorMessage(error));
    }
  };
  const readAll = async () => {
    try {
      await call(api.POST("/api/v1/notices/read-all"));
      await load();
    } catch (error) {
      message.error(errorMessage(error));
    }
  };

  const list = (
    <div className="zt-op-notice-list" style={phone ? { width: "100%" } : undefined} data-testid="notice-list">
      {notices.length === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("privacy.operator.notices.empty")} />
      ) : (
        notices.map((notice) => (
          <div
            key={notice.id}
            className={`zt-op-notice-item${notice.read_at ? "" : " is-unread"}`}
            onClick={() => void read(notice)}
            data-testid="notice-item"
          >
            <Flex justify="space-between" gap={8}>
              <Typography.Text className="zt-op-notice-subject" ellipsis>
                {!notice.read_at && <Badge status="processing" />} {inLanguage(notice.subject, language)}
              </Typography.Text>
            </Flex>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {formatDateTime(language, notice.created_at)}
            </Typography.Text>
          </div>
        ))
      )}
    </div>
  );

  const header = (
    <Flex justify="space-between" align="center">
      <span>{t("privacy.operator.notices.title")}</span>
      {unread > 0 && (
        <Button type="link" size="small" onClick={() => void readAll()}>
          {t("privacy.operator.notices.readAll")}
        </Button>
      )}
    </Flex>
  );
  const toggle = (next: boolean) => {
    setOpen(next);
    if (next) void load();
  };
  const bell = (
    <Button type="text" aria-label={t("privacy.operator.notices.title")} data-testid="notice-bell" onClick={phone ? () => toggle(true) : undefined}>
      <Badge count={unread} size="small" overflowCount={99}>
        <BellOutlined style={{ fontSize: 18 }} />
      </Badge>
    </Button>
  );

  return (
    <>
      {phone ? (
        // On a phone the list slides up from the bottom: a popover would leave the screen.
        <>
          {bell}
          <Drawer placement="bottom" open={open} onClose={() => setOpen(false)} title={header} size="auto">
            {list}
          </Drawer>
        </>
      ) : (
        <Popover trigger="click" open={open} onOpenChange={toggle} placement="bottomRight" title={header} content={list}>
          {bell}
        </Popover>
      )}
      <Modal
        open={reading !== null}
        onCancel={() => setReading(null)}
        footer={null}
        title={reading ? inLanguage(reading.subject, language) : ""}
        data-testid="notice-modal"
      >
        {reading && (
          <>
            <Typography.Text type="secondary">{formatDateTime(language, reading.created_at)}</Typography.Text>
            <Typography.Paragraph className="zt-op-notice-body" style={{ marginTop: 12 }}>
              {inLanguage(reading.body, language)}
            </Typography.Paragraph>
          </>
        )}
      </Modal>
    </>
  );
}
