// Who has read one of my messages and who has not; follows readers live (read.moved events move
// a reader from 未读 to 已读 here, without asking the server again).
import { Alert, Avatar, Empty, Modal, Spin, Tabs, Typography } from "antd";
import { useEffect, useRef, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import type { Message, ReadList } from "./model";
import { noVersions } from "./store";

function People({ ids, names, testId }: { ids: string[]; names: Record<string, string>; testId: string }) {
  const t = useT();
  if (ids.length === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("chat.reads.nobody")} />;
  return (
    <div className="zt-read-people" data-testid={testId}>
      {ids.map((id) => (
        <div key={id} className="zt-read-person" data-testid="read-person">
          <Avatar size={32} style={{ backgroundColor: avatarColour(id), fontSize: 12 }}>
            {avatarText(names[id] ?? "?")}
          </Avatar>
          <span>{names[id] ?? "…"}</span>
        </div>
      ))}
    </div>
  );
}

/** The list with these readers moved from unread to read. */
function withReaders(list: ReadList, readers: ReadonlySet<string>): ReadList {
  const moving = list.unread.filter((id) => readers.has(id));
  if (moving.length === 0) return list;
  return { ...list, unread: list.unread.filter((id) => !readers.has(id)), read: [...moving, ...list.read] };
}

export function ReadListModal({ message, onClose }: { message: Message | null; onClose: () => void }) {
  const t = useT();
  const phone = useIsPhone();
  const { store } = useChat();
  /** Who was seen reading this message while the list is open (also applied to a list that was on its way). */
  const readers = useRef(new Set<string>());
  const version = useChatState((s) => (message ? (s.versions[message.conversation_id] ?? noVersions()).receipts : 0));
  const [list, setList] = useState<ReadList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState("unread");

  useEffect(() => {
    if (!message) {
      setList(null);
      setError(null);
      return;
    }
    let stopped = false;
    call(api.GET("/api/v1/im/messages/{message_id}/reads", { params: { path: { message_id: message.id } } }))
      .then((found) => {
        if (stopped) return;
        setList(withReaders(found, readers.current));
        setError(null);
      })
      .catch((thrown: unknown) => !stopped && setError(errorMessage(thrown)));
    return () => {
      stopped = true;
    };
  }, [message, version]);

  useEffect(() => {
    if (message) setTab("unread");
    readers.current = new Set();
  }, [message]);

  useEffect(() => {
    if (!message) return;
    return store.onReadMoved((move) => {
      if (move.conversationId !== message.conversation_id) return;
      if (message.seq <= move.previous || message.seq > move.readSeq) return;
      readers.current.add(move.membershipId);
      setList((current) => (current ? withReaders(current, readers.current) : current));
    });
  }, [message, store]);

  // The "N人未读" under the message agrees with the list.
  useEffect(() => {
    if (message && list) store.noteUnreadCount(message.conversation_id, message.id, list.unread.length);
  }, [message, list, store]);

  return (
    <Modal
      open={message !== null}
      onCancel={onClose}
      footer={null}
      title={t("chat.reads.title")}
      width={phone ? "100%" : 420}
      className={phone ? "zt-modal-phone" : undefined}
      destroyOnHidden
    >
      <div data-testid="read-list">
        {error && <Alert type="error" showIcon title={error} />}
        {!error && !list && (
          <div style={{ textAlign: "center", padding: 24 }}>
            <Spin />
          </div>
        )}
        {list && (
          <>
            <Tabs
              activeKey={tab}
              onChange={setTab}
              items={[
                {
                  key: "unread",
                  label: <span data-testid="reads-tab-unread">{t("chat.reads.unread", { count: list.unread.length })}</span>,
                  children: <People ids={list.unread} names={list.names} testId="unread-people" />,
                },
                {
                  key: "read",
                  label: <span data-testid="reads-tab-read">{t("chat.reads.read", { count: list.read.length })}</span>,
                  children: <People ids={list.read} names={list.names} testId="read-people" />,
                },
              ]}
            />
            {list.hidden_count > 0 && (
              <Typography.Paragraph type="secondary" style={{ fontSize: 12, marginBottom: 0 }}>
                {t("chat.reads.hidden", { count: list.hidden_count })}
              </Typography.Paragraph>
            )}
          </>
        )}
      </div>
    </Modal>
  );
}
