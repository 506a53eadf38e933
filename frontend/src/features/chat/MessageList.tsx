// A conversation's history: infinite scroll back (the position is kept while older pages load),
// date separators, own messages on the right with their read status, hover actions.
import {
  CheckSquareOutlined,
  CopyOutlined,
  DownOutlined,
  EllipsisOutlined,
  ExclamationCircleFilled,
  LoadingOutlined,
  PushpinOutlined,
  RobotOutlined,
  RollbackOutlined,
  ShareAltOutlined,
  SmileOutlined,
  ThunderboltOutlined,
  UndoOutlined,
} from "@ant-design/icons";
import { Avatar, Button, Checkbox, Dropdown, Popover, Progress, Spin, Tooltip, type MenuProps } from "antd";
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { useNavigate } from "react-router";

import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import { REACTIONS } from "./emoji";
import { MessageBody, QuoteBlock } from "./MessageContent";
import { dayLabel, fileSize, manages, recallText, sameDay, systemText, timeOfDay, type Conversation, type Message, type PendingMessage, type Quote } from "./model";
import type { Thread } from "./store";

export interface MessageActions {
  reply: (message: Message) => void;
  forward: (ids: string[]) => void;
  startSelect: (id: string) => void;
  recall: (message: Message) => void;
  pin: (message: Message, pinned: boolean) => void;
  react: (message: Message, emoji: string) => void;
  copy: (message: Message) => void;
  openReads: (message: Message) => void;
  jumpTo: (quote: Quote) => void;
}

const NEAR_BOTTOM = 80;
const CONTINUE_MS = 3 * 60_000;
const LOAD_OLDER_AT = 160;
const LOAD_NEWER_AT = 160;

function ReceiptLine({ message, onOpen }: { message: Message; onOpen: () => void }) {
  const t = useT();
  if (message.unread_count === null || message.unread_count === undefined || message.recalled) return null;
  const all = message.unread_count === 0;
  return (
    <button
      type="button"
      className={`zt-msg-receipt${all ? " is-read" : ""}`}
      onClick={onOpen}
      data-testid="receipt"
      data-unread={message.unread_count}
    >
      {all ? t("chat.receipt.allRead") : t("chat.receipt.unread", { count: message.unread_count })}
    </button>
  );
}

function Reactions({ message, names, onToggle }: { message: Message; names: Record<string, string>; onToggle: (emoji: string) => void }) {
  const myId = useChatState((s) => s.myId);
  const entries = Object.entries(message.reactions ?? {}).filter(([, people]) => people.length > 0);
  if (entries.length === 0 || message.recalled) return null;
  return (
    <div className="zt-msg-reactions" data-testid="reactions">
      {entries.map(([emoji, people]) => (
        <Tooltip key={emoji} title={people.map((id) => names[id] ?? "…").join("、")}>
          <button
            type="button"
            className={`zt-msg-reaction${myId && people.includes(myId) ? " is-mine" : ""}`}
            onClick={() => onToggle(emoji)}
            data-testid="reaction"
          >
            <span>{emoji}</span>
            <span className="zt-msg-reaction-count">{people.length}</span>
          </button>
        </Tooltip>
      ))}
    </div>
  );
}

function MessageTools({
  message,
  conversation,
  own,
  actions,
}: {
  message: Message;
  conversation: Conversation;
  own: boolean;
  actions: MessageActions;
}) {
  const t = useT();
  const navigate = useNavigate();
  const { policy } = useChat();
  const [reactOpen, setReactOpen] = useState(false);
  const manager = manages(conversation);
  const windowMs = (policy?.recall_window_minutes ?? 24 * 60) * 60_000;
  const mayRecall = (own && Date.now() - new Date(message.created_at).getTime() < windowMs) || manager;
  const mayPin = conversation.kind === "direct" || manager;
  const textual = message.kind === "text" || message.kind === "markdown";
  const items: MenuProps["items"] = [
    { key: "forward", icon: <ShareAltOutlined />, label: t("chat.action.forward") },
    { key: "select", icon: <CheckSquareOutlined />, label: t("chat.action.select") },
    ...(textual ? [{ key: "copy", icon: <CopyOutlined />, label: t("chat.action.copy") }] : []),
    ...(mayPin ? [{ key: "pin", icon: <PushpinOutlined />, label: message.pinned ? t("chat.action.unpin") : t("chat.action.pin") }] : []),
    ...(message.kind !== "system" ? [{ key: "ding", icon: <ThunderboltOutlined />, label: t("ding.action") }] : []),
    ...(mayRecall ? [{ type: "divider" as const }, { key: "recall", icon: <UndoOutlined />, label: t("chat.action.recall"), danger: true }] : []),
  ].map((item) => ("key" in item ? { ...item, "data-testid": `action-${String(item.key)}` } : item)) as MenuProps["items"];
  const onMenu = ({ key }: { key: string }) => {
    if (key === "forward") actions.forward([message.id]);
    if (key === "select") actions.startSelect(message.id);
    if (key === "copy") actions.copy(message);
    if (key === "pin") actions.pin(message, !message.pinned);
    if (key === "recall") actions.recall(message);
    if (key === "ding") dingIt();
  };
  // "DING 一下": the DING form with this message (its text, and its attachment on the server side),
  // addressed to the other person of a direct chat.
  const dingIt = () => {
    const peer = conversation.kind === "direct" && conversation.peer_membership_id;
    navigate("/ding/new", {
      state: {
        sourceMessageId: message.id,
        text: message.text,
        recipients: peer ? [{ id: peer, name: conversation.title }] : [],
      },
    });
  };
  return (
    <div className="zt-msg-tools" data-testid="message-tools">
      <Popover
        open={reactOpen}
        onOpenChange={setReactOpen}
        trigger="click"
        placement="top"
        content={
          <div className="zt-reaction-pick">
            {REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                onClick={() => {
                  setReactOpen(false);
                  actions.react(message, emoji);
                }}
                data-testid="reaction-option"
              >
                {emoji}
              </button>
            ))}
          </div>
        }
      >
        <Button size="small" type="text" icon={<SmileOutlined />} aria-label={t("chat.action.react")} data-testid="action-react" />
      </Popover>
      <Tooltip title={t("chat.action.reply")}>
        <Button size="small" type="text" icon={<RollbackOutlined />} aria-label={t("chat.action.reply")} onClick={() => actions.reply(message)} data-testid="action-reply" />
      </Tooltip>
      <Dropdown trigger={["click"]} menu={{ items, onClick: onMenu }}>
        <Button size="small" type="text" icon={<EllipsisOutlined />} aria-label={t("chat.action.more")} data-testid="action-more" />
      </Dropdown>
    </div>
  );
}

function PendingBubble({ pending }: { pending: PendingMessage }) {
  const t = useT();
  const { store } = useChat();
  const upload = pending.upload;
  return (
    <div className="zt-msg-row is-own" data-testid="pending-message" data-status={pending.status}>
      <div className="zt-msg-col">
        <div className="zt-msg-line">
          <span className="zt-msg-state">
            {pending.status === "failed" ? (
              <Tooltip title={pending.error}>
                <ExclamationCircleFilled style={{ color: "#ff4d4f" }} />
              </Tooltip>
            ) : (
              <LoadingOutlined />
            )}
          </span>
          <div className="zt-msg-bubble is-own">
            {pending.quote && <QuoteBlock quote={pending.quote} />}
            {upload ? (
              <div className="zt-msg-upload">
                {upload.previewUrl ? (
                  <img src={upload.previewUrl} alt={upload.name} className="zt-msg-upload-preview" />
                ) : (
                  <span className="zt-msg-file-name">{upload.name}</span>
                )}
                <span className="zt-msg-file-size">{fileSize(upload.size)}</span>
                <Progress percent={upload.progress} size="small" status={pending.status === "failed" ? "exception" : "active"} data-testid="upload-progress" />
              </div>
            ) : (
              <div className="zt-msg-text">{pending.body.text}</div>
            )}
          </div>
        </div>
        {pending.status === "failed" && (
          <div className="zt-msg-failed">
            <span>{pending.error ?? t("chat.sendFailed")}</span>
            {(!upload || pending.body.file_id) && (
              <Button size="small" type="link" onClick={() => store.retry(pending.conversationId, pending.clientMsgId)}>
                {t("common.retry")}
              </Button>
            )}
            <Button size="small" type="link" danger onClick={() => store.discard(pending.conversationId, pending.clientMsgId)}>
              {t("chat.discard")}
            </Button>
          </div>
        )}
      </div>
    </div>
  );
}

function MessageRow({
  message,
  conversation,
  continued,
  names,
  actions,
  selecting,
  selected,
  onSelect,
  highlighted,
  focused,
  onFocus,
}: {
  message: Message;
  conversation: Conversation;
  continued: boolean;
  names: Record<string, string>;
  actions: MessageActions;
  selecting: boolean;
  selected: boolean;
  onSelect: (id: string) => void;
  highlighted: boolean;
  focused: boolean;
  onFocus: (id: string | null) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const { store } = useChat();
  const myId = useChatState((s) => s.myId);
  const own = store.isOwn(message);
  if (message.kind === "system" && message.system) {
    return (
      <div className="zt-msg-system" data-testid="system-line" data-seq={message.seq} data-message-id={message.id}>
        {systemText(message.system, t)}
      </div>
    );
  }
  if (message.recalled) {
    return (
      <div className="zt-msg-system" data-testid="recall-marker" data-seq={message.seq} data-message-id={message.id}>
        {recallText(message, t, myId, (mid) => names[mid] ?? store.nameOf(mid))}
      </div>
    );
  }
  const mentionsMe = !own && (message.mention_all || (myId !== null && (message.mentions ?? []).includes(myId)));
  const selectable = selecting;
  return (
    <div
      className={`zt-msg-row${own ? " is-own" : ""}${continued ? " is-continued" : ""}${highlighted ? " is-highlighted" : ""}${focused ? " is-focused" : ""}${selectable ? " is-selecting" : ""}`}
      data-testid="message"
      data-seq={message.seq}
      data-message-id={message.id}
      data-own={own ? "true" : "false"}
      onClick={selectable ? () => onSelect(message.id) : undefined}
    >
      {selectable && <Checkbox className="zt-msg-check" checked={selected} data-testid="message-check" />}
      {!own && continued && <span className="zt-msg-avatar-gap" />}
      {!own && !continued && (
        <Avatar
          size={34}
          icon={message.kind === "robot" ? <RobotOutlined /> : undefined}
          style={{ backgroundColor: avatarColour(message.sender_membership_id ?? message.sender_name), flex: "none", fontSize: 12 }}
        >
          {message.kind === "robot" ? null : avatarText(message.sender_name || "?")}
        </Avatar>
      )}
      <div className="zt-msg-col">
        {(!continued || message.pinned) && (
          <div className="zt-msg-meta">
            {!own && !continued && conversation.kind !== "direct" && <span className="zt-msg-name">{message.sender_name}</span>}
            {!continued && <span className="zt-msg-time">{timeOfDay(message.created_at, language)}</span>}
            {message.pinned && (
              <span className="zt-msg-pinned" data-testid="pinned-flag">
                <PushpinOutlined /> {t("chat.pinnedFlag")}
              </span>
            )}
          </div>
        )}
        <div className="zt-msg-line">
          <div
            className={`zt-msg-bubble${own ? " is-own" : ""}${mentionsMe ? " is-mention" : ""}${message.kind === "image" ? " is-media" : ""}`}
            data-testid="bubble"
            onClick={selectable ? undefined : () => onFocus(focused ? null : message.id)}
          >
            {message.quote && <QuoteBlock quote={message.quote} onClick={() => actions.jumpTo(message.quote!)} />}
            <MessageBody message={message} />
            {message.text && !["text", "markdown", "forward", "robot"].includes(message.kind) && (
              <div className="zt-msg-text zt-msg-caption">{message.text}</div>
            )}
          </div>
          {!selectable && <MessageTools message={message} conversation={conversation} own={own} actions={actions} />}
        </div>
        <Reactions message={message} names={names} onToggle={(emoji) => actions.react(message, emoji)} />
        {own && <ReceiptLine message={message} onOpen={() => actions.openReads(message)} />}
      </div>
    </div>
  );
}

export function MessageList({
  conversation,
  thread,
  names,
  actions,
  selection,
  onSelect,
  target,
  onTargetDone,
  onAtBottom,
}: {
  conversation: Conversation;
  thread: Thread;
  names: Record<string, string>;
  actions: MessageActions;
  selection: ReadonlySet<string> | null;
  onSelect: (id: string) => void;
  /** A message to scroll to and flash (a search hit, a pin, a quote). */
  target: string | null;
  onTargetDone: () => void;
  onAtBottom: (atBottom: boolean) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { store } = useChat();
  const scroller = useRef<HTMLDivElement | null>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ id: string; offset: number } | null>(null);
  const lastKey = useRef<string>("");
  const pendingCount = useRef(0);
  const detachedBefore = useRef(false);
  const highlightTimer = useRef<number | undefined>(undefined);
  const [unseen, setUnseen] = useState(0);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [focused, setFocused] = useState<string | null>(null);
  // What was unread when the conversation opened: the "new messages" line goes above it.
  const unreadAtOpen = useRef<{ after: number; upTo: number } | null>(null);
  if (unreadAtOpen.current === null && thread.loaded) {
    unreadAtOpen.current = { after: Math.max(conversation.read_seq, conversation.visible_after_seq), upTo: conversation.last_seq };
  }

  const items = thread.items;
  const pending = thread.pending;
  const last = items[items.length - 1];
  const key = `${last?.id ?? ""}:${pending.length}:${pending[pending.length - 1]?.status ?? ""}`;
  // The message to bring into view: a quote's (by id) or the thread's anchor (a search hit, a pin).
  const anchorId = thread.anchor !== null ? (items.find((m) => m.seq === thread.anchor)?.id ?? null) : null;
  const wanted = target ?? anchorId;

  const scrollToBottom = () => {
    const node = scroller.current;
    if (node) node.scrollTop = node.scrollHeight;
  };

  const reportBottom = (value: boolean) => {
    if (atBottom.current === value) return;
    atBottom.current = value;
    onAtBottom(value);
    if (value) setUnseen(0);
  };

  // Older pages: keep the first message that was on screen where it was.
  const loadOlder = () => {
    const node = scroller.current;
    const first = items[0];
    if (!node || !first || !thread.hasMoreBefore || thread.loadingOlder) return;
    const element = node.querySelector<HTMLElement>(`[data-message-id="${first.id}"]`);
    if (element) anchor.current = { id: first.id, offset: element.offsetTop - node.scrollTop };
    void store.loadOlder(conversation.id);
  };

  // A window of older history (after a jump): the next pages below, until the newest message.
  const loadNewer = () => {
    if (!thread.hasMoreAfter || thread.loadingNewer) return;
    void store.loadNewer(conversation.id);
  };

  useLayoutEffect(() => {
    const node = scroller.current;
    if (!node) return;
    if (anchor.current) {
      const element = node.querySelector<HTMLElement>(`[data-message-id="${anchor.current.id}"]`);
      if (element) node.scrollTop = element.offsetTop - anchor.current.offset;
      anchor.current = null;
    }
  }, [items[0]?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  // New messages at the bottom: follow them when the reader is at the bottom or sent them.
  useLayoutEffect(() => {
    if (!thread.loaded) {
      lastKey.current = ""; // the history is being replaced: the next one starts afresh
      reportBottom(false);
      return;
    }
    const previous = lastKey.current;
    lastKey.current = key;
    const wasDetached = detachedBefore.current;
    detachedBefore.current = thread.hasMoreAfter;
    if (previous === "" || wanted) {
      if (!wanted) {
        scrollToBottom();
        reportBottom(true);
      }
      return;
    }
    if (previous === key) return;
    const sending = pending.length > pendingCount.current;
    pendingCount.current = pending.length;
    // Pages loaded while scrolling down a window of older history keep the reader's place.
    if (wasDetached && !sending) return;
    const mineJustSent = sending || (last !== undefined && store.isOwn(last) && !previous.startsWith(`${last.id}:`));
    if (atBottom.current || mineJustSent) scrollToBottom();
    else if (!previous.startsWith(`${last?.id ?? ""}:`)) setUnseen((n) => n + 1);
  }, [key, thread.loaded]); // eslint-disable-line react-hooks/exhaustive-deps

  // Images that load late (no size known) keep the bottom in view.
  useEffect(() => {
    const node = scroller.current;
    if (!node) return;
    const onLoad = () => {
      if (atBottom.current) scrollToBottom();
    };
    node.addEventListener("load", onLoad, true);
    return () => {
      node.removeEventListener("load", onLoad, true);
      window.clearTimeout(highlightTimer.current);
    };
  }, []);

  // A short history that does not fill the screen: fetch more until it scrolls.
  useEffect(() => {
    const node = scroller.current;
    if (node && thread.loaded && node.scrollHeight <= node.clientHeight + 10) {
      if (thread.hasMoreBefore && !thread.loadingOlder) loadOlder();
      if (thread.hasMoreAfter && !thread.loadingNewer) loadNewer();
    }
  }); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!wanted || !thread.loaded) return;
    const node = scroller.current;
    const element = node?.querySelector<HTMLElement>(`[data-message-id="${wanted}"]`);
    if (!element || !node) return;
    element.scrollIntoView({ block: "center" });
    reportBottom(node.scrollHeight - node.scrollTop - node.clientHeight < NEAR_BOTTOM);
    setHighlight(wanted);
    if (target === wanted) onTargetDone();
    if (anchorId === wanted) store.clearAnchor(conversation.id);
    window.clearTimeout(highlightTimer.current);
    highlightTimer.current = window.setTimeout(() => setHighlight(null), 2200);
  }, [wanted, thread.loaded, items.length]); // eslint-disable-line react-hooks/exhaustive-deps

  const onScroll = () => {
    const node = scroller.current;
    if (!node) return;
    const below = node.scrollHeight - node.scrollTop - node.clientHeight;
    reportBottom(below < NEAR_BOTTOM);
    if (node.scrollTop < LOAD_OLDER_AT) loadOlder();
    if (below < LOAD_NEWER_AT) loadNewer();
  };

  const rows: ReactNode[] = [];
  let previous: Message | null = null;
  let dividerShown = false;
  for (const message of items) {
    if (!previous || !sameDay(previous.created_at, message.created_at)) {
      rows.push(
        <div key={`day-${message.id}`} className="zt-msg-day" data-testid="date-separator">
          <span>{dayLabel(message.created_at, language, t)}</span>
        </div>,
      );
    }
    const opened = unreadAtOpen.current;
    if (
      !dividerShown &&
      opened &&
      message.seq > opened.after &&
      message.seq <= opened.upTo &&
      previous &&
      !store.isOwn(message) &&
      message.kind !== "system"
    ) {
      dividerShown = true;
      rows.push(
        <div key={`new-${message.id}`} className="zt-msg-newline">
          <span>{t("chat.newBelow")}</span>
        </div>,
      );
    }
    // A run of messages from one person within a few minutes shares one name and time.
    const continued =
      previous !== null &&
      previous.sender_membership_id === message.sender_membership_id &&
      previous.kind !== "system" &&
      !previous.recalled &&
      new Date(message.created_at).getTime() - new Date(previous.created_at).getTime() < CONTINUE_MS &&
      sameDay(previous.created_at, message.created_at);
    rows.push(
      <MessageRow
        key={message.id}
        message={message}
        conversation={conversation}
        continued={continued}
        names={names}
        actions={actions}
        selecting={selection !== null}
        selected={selection?.has(message.id) ?? false}
        onSelect={onSelect}
        highlighted={highlight === message.id}
        focused={phone && focused === message.id}
        onFocus={setFocused}
      />,
    );
    previous = message;
  }

  return (
    <div className="zt-msg-scroll-wrap">
      <div
        className="zt-msg-scroll"
        ref={scroller}
        onScroll={onScroll}
        data-testid="message-list"
        data-loaded={thread.loaded ? "true" : "false"}
        data-more-after={thread.hasMoreAfter ? "true" : "false"}
      >
        {thread.loadingOlder && (
          <div className="zt-msg-older">
            <Spin size="small" />
          </div>
        )}
        {thread.loaded && !thread.hasMoreBefore && items.length > 0 && (
          <div className="zt-msg-start">{conversation.visible_after_seq > 0 ? t("chat.historyHidden") : t("chat.historyStart")}</div>
        )}
        {!thread.loaded && (
          <div className="zt-msg-older">
            <Spin />
          </div>
        )}
        {thread.loaded && items.length === 0 && pending.length === 0 && <div className="zt-msg-start">{t("chat.emptyConversation")}</div>}
        {rows}
        {thread.loadingNewer && (
          <div className="zt-msg-older">
            <Spin size="small" />
          </div>
        )}
        {!thread.hasMoreAfter &&
          pending.map((p) => <PendingBubble key={p.clientMsgId} pending={p} />)}
      </div>
      {thread.hasMoreAfter ? (
        <Button
          className="zt-msg-unseen"
          shape="round"
          icon={<DownOutlined />}
          onClick={() => void store.reloadLatest(conversation.id)}
          data-testid="latest-button"
        >
          {t("chat.backToLatest")}
        </Button>
      ) : unseen > 0 && (
        <Button className="zt-msg-unseen" shape="round" icon={<DownOutlined />} onClick={scrollToBottom} data-testid="unseen-button">
          {t("chat.unseen", { count: unseen })}
        </Button>
      )}
    </div>
  );
}
