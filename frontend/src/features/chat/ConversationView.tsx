// One open conversation: header, announcement, history, composer, and the panels opened from it.
import { ArrowLeftOutlined, MoreOutlined, NotificationOutlined, PushpinOutlined } from "@ant-design/icons";
import { App, Badge, Button, Result, Spin, Tooltip, type ButtonProps } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { errorMessage } from "../../api/client";
import { useMe } from "../../app/session";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { useChat, useChatState } from "./ChatProvider";
import { Composer } from "./Composer";
import { ForwardModal } from "./ForwardModal";
import { MessageList, type MessageActions } from "./MessageList";
import type { ChatMember, Conversation, Message } from "./model";
import { PinsDrawer } from "./PinsDrawer";
import { ReadListModal } from "./ReadListModal";
import { SettingsDrawer, useJoinRequests } from "./SettingsDrawer";
import { emptyThread, noVersions } from "./store";

function useDocumentVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState === "visible");
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}

function useMembers(conversation: Conversation | undefined) {
  const { store } = useChat();
  const version = useChatState((s) => (conversation ? (s.versions[conversation.id] ?? noVersions()).members : 0));
  const [members, setMembers] = useState<ChatMember[]>([]);
  const [hidden, setHidden] = useState(0);
  const [tick, setTick] = useState(0);
  const id = conversation?.id;
  useEffect(() => {
    if (!id) return;
    let stopped = false;
    store
      .members(id)
      .then((found) => {
        if (stopped) return;
        setMembers(found.items);
        setHidden(found.hidden_count);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, [id, version, tick, store]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { members, hidden, reload };
}

function Typing({ id, peer }: { id: string; peer: string | null }) {
  const t = useT();
  const typing = useChatState((s) => s.typing[id]);
  const online = useChatState((s) => (peer ? s.presence[peer] : undefined));
  const names = typing ? Object.values(typing).filter((e) => e.until > Date.now()).map((e) => e.name) : [];
  if (names.length === 0) {
    // Only "online" is shown: a peer who is not known to be online may simply not be reported.
    if (!online) return null;
    return (
      <span className="zt-conv-presence is-online" data-testid="presence">
        {t("chat.online")}
      </span>
    );
  }
  return (
    <span className="zt-conv-typing" data-testid="typing">
      {names.length === 1 ? t("chat.typing", { name: names[0]! }) : t("chat.typingMany", { count: names.length })}
    </span>
  );
}

export function ConversationView({ id }: { id: string }) {
  const t = useT();
  const me = useMe();
  const phone = useIsPhone();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const { message, modal } = App.useApp();
  const { store } = useChat();
  const conversation = useChatState((s) => s.conversations[id]);
  const thread = useChatState((s) => s.threads[id] ?? emptyThread());
  const listLoaded = useChatState((s) => s.listLoaded);
  const myId = useChatState((s) => s.myId);
  const visible = useDocumentVisible();
  const { members, hidden, reload } = useMembers(conversation);
  const joins = useJoinRequests(conversation);
  const [atBottom, setAtBottom] = useState(true);
  const [reply, setReply] = useState<Message | null>(null);
  const [reads, setReads] = useState<Message | null>(null);
  const [forward, setForward] = useState<{ ids: string[]; merged: boolean } | null>(null);
  const [selection, setSelection] = useState<Set<string> | null>(null);
  const [target, setTarget] = useState<string | null>(null);
  const [pinsOpen, setPinsOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [checked, setChecked] = useState(false);
  const wantedSeq = Number(params.get("seq") ?? 0) || null;

  // A conversation that is not in the list (yet): someone just opened it, or we left it.
  useEffect(() => {
    if (!conversation && listLoaded && !checked) {
      setChecked(true);
      void store.refreshConversation(id);
    }
  }, [conversation, listLoaded, checked, id, store]);

  // The newest messages; a link to one message (a search hit) loads the page around it instead.
  useEffect(() => {
    if (conversation && !wantedSeq) void store.openThread(id);
  }, [id, Boolean(conversation), wantedSeq === null, store]); // eslint-disable-line react-hooks/exhaustive-deps

  // A search hit or link: the page around the message, scrolled to it and highlighted.
  useEffect(() => {
    if (!wantedSeq || !conversation) return;
    let stopped = false;
    void store.jumpTo(id, wantedSeq).then((found) => {
      if (stopped) return;
      if (found === false) message.info(t("chat.messageNotLoaded"));
      const next = new URLSearchParams(params);
      next.delete("seq");
      setParams(next, { replace: true });
    });
    return () => {
      stopped = true;
    };
  }, [wantedSeq, id, Boolean(conversation)]); // eslint-disable-line react-hooks/exhaustive-deps

  // Read up to the newest message while it is on screen.
  const lastSeq = thread.items[thread.items.length - 1]?.seq ?? 0;
  useEffect(() => {
    if (conversation && thread.loaded && atBottom && visible && lastSeq > conversation.read_seq) {
      void store.markRead(id, lastSeq);
    }
  }, [conversation?.read_seq, thread.loaded, atBottom, visible, lastSeq, id, store]); // eslint-disable-line react-hooks/exhaustive-deps

  const names = useMemo(() => {
    const map: Record<string, string> = {};
    for (const m of members) map[m.membership_id] = m.name;
    if (myId) map[myId] = me.name;
    if (conversation?.peer_membership_id) map[conversation.peer_membership_id] = conversation.title;
    return map;
  }, [members, myId, me.name, conversation?.peer_membership_id, conversation?.title]);

  const fail = (error: unknown) => message.error(errorMessage(error));
  const actions: MessageActions = {
    reply: (m) => setReply(m),
    forward: (ids) => setForward({ ids, merged: false }),
    startSelect: (mid) => setSelection(new Set([mid])),
    recall: (m) =>
      modal.confirm({
        title: t("chat.recallConfirm"),
        okText: t("chat.action.recall"),
        cancelText: t("common.cancel"),
        okButtonProps: { danger: true, "data-testid": "recall-confirm" } as ButtonProps,
        onOk: () => store.recall(m.id).catch(fail),
      }),
    pin: (m, pinned) =>
      store
        .setPinned(m.id, pinned)
        .then(() => message.success(pinned ? t("chat.pinDone") : t("chat.unpinDone")))
        .catch(fail),
    react: (m, emoji) => void store.react(m.id, emoji).catch(fail),
    copy: (m) =>
      void navigator.clipboard
        ?.writeText(m.text)
        .then(() => message.success(t("chat.copied")))
        .catch(fail),
    openReads: (m) => setReads(m),
    jumpTo: (quote) => {
      if (thread.items.some((m) => m.id === quote.message_id)) {
        setTarget(quote.message_id);
        return;
      }
      void store.jumpTo(id, quote.seq).then((found) => {
        if (found === false) message.info(t("chat.messageNotLoaded"));
      });
    },
  };

  if (!conversation) {
    if (!listLoaded || !checked) {
      return (
        <div className="zt-conv-empty">
          <Spin />
        </div>
      );
    }
    return (
      <div className="zt-conv-empty" data-testid="conversation-gone">
        <Result status="info" title={t("chat.gone")} extra={<Button onClick={() => navigate("/chat")}>{t("common.back")}</Button>} />
      </div>
    );
  }

  const group = conversation.kind !== "direct";
  const toggleSelected = (mid: string) =>
    setSelection((current) => {
      if (!current) return current;
      const next = new Set(current);
      if (next.has(mid)) next.delete(mid);
      else next.add(mid);
      return next;
    });
  const selectedIds = () => thread.items.filter((m) => selection?.has(m.id) && !m.recalled && m.kind !== "system").map((m) => m.id);

  return (
    <div className="zt-conv" data-testid="conversation" data-conversation-id={id}>
      <header className="zt-conv-head">
        {phone && (
          <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => navigate("/chat")} aria-label={t("common.back")} data-testid="chat-back" />
        )}
        <div className="zt-conv-title-wrap">
          <div className="zt-conv-title" data-testid="conversation-header-title">
            {conversation.title}
            {group && <span className="zt-conv-count">({conversation.member_count})</span>}
          </div>
          <Typing id={id} peer={conversation.peer_membership_id} />
        </div>
        <Tooltip title={t("chat.pins.title")}>
          <Button type="text" icon={<PushpinOutlined />} onClick={() => setPinsOpen(true)} aria-label={t("chat.pins.title")} data-testid="open-pins" />
        </Tooltip>
        <Tooltip title={group ? t("chat.groupSettings") : t("chat.chatSettings")}>
          <Badge dot={joins.requests.length > 0} offset={[-6, 6]}>
            <Button type="text" icon={<MoreOutlined />} onClick={() => setSettingsOpen(true)} aria-label={t("chat.chatSettings")} data-testid="open-settings" />
          </Badge>
        </Tooltip>
      </header>
      {group && conversation.announcement && (
        <button type="button" className="zt-conv-notice" onClick={() => setSettingsOpen(true)} data-testid="announcement">
          <NotificationOutlined />
          <span>{conversation.announcement}</span>
        </button>
      )}
      <MessageList
        conversation={conversation}
        thread={thread}
        names={names}
        actions={actions}
        selection={selection}
        onSelect={toggleSelected}
        target={target}
        onTargetDone={() => setTarget(null)}
        onAtBottom={setAtBottom}
      />
      {thread.error && !thread.loaded && (
        <div className="zt-conv-error">
          {thread.error}{" "}
          <Button size="small" onClick={() => void store.openThread(id)}>
            {t("common.retry")}
          </Button>
        </div>
      )}
      {selection ? (
        <div className="zt-select-bar" data-testid="select-bar">
          <span>{t("chat.selected", { count: selection.size })}</span>
          <Button disabled={selection.size === 0} onClick={() => setForward({ ids: selectedIds(), merged: false })} data-testid="forward-each">
            {t("chat.forward.each")}
          </Button>
          <Button type="primary" disabled={selection.size === 0} onClick={() => setForward({ ids: selectedIds(), merged: true })} data-testid="forward-merged">
            {t("chat.forward.merged")}
          </Button>
          <Button type="text" onClick={() => setSelection(null)}>
            {t("common.cancel")}
          </Button>
        </div>
      ) : (
        <Composer conversation={conversation} members={members} reply={reply} onCancelReply={() => setReply(null)} />
      )}
      <ReadListModal message={reads} onClose={() => setReads(null)} />
      <ForwardModal
        messageIds={forward?.ids ?? null}
        initialMerged={forward?.merged ?? false}
        onClose={() => setForward(null)}
        onDone={() => setSelection(null)}
      />
      <PinsDrawer
        conversation={conversation}
        open={pinsOpen}
        onClose={() => setPinsOpen(false)}
        onJump={(m) => {
          setPinsOpen(false);
          void store.jumpTo(id, m.seq).then((found) => {
            if (found === false) message.info(t("chat.messageNotLoaded"));
          });
        }}
      />
      <SettingsDrawer
        conversation={conversation}
        members={members}
        hiddenCount={hidden}
        open={settingsOpen}
        onClose={() => setSettingsOpen(false)}
        reloadMembers={reload}
        joinRequests={joins.requests}
        reloadJoinRequests={joins.reload}
      />
    </div>
  );
}
