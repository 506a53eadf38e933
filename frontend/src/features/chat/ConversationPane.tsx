// The left side of chat: conversations (pinned first, newest activity next), message search, and
// the buttons that start a direct chat or a group.
import {
  BellOutlined,
  DisconnectOutlined,
  MutedOutlined,
  PlusOutlined,
  PushpinFilled,
  SearchOutlined,
  SettingOutlined,
  TeamOutlined,
  UserOutlined,
  UsergroupAddOutlined,
} from "@ant-design/icons";
import { Alert, App, Avatar, Button, Dropdown, Empty, Input, Skeleton, Spin, Tag, Tooltip } from "antd";
import { useEffect, useMemo, useState } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../../api/client";
import { useLanguage, useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import { MemberPicker, type Picked } from "./MemberPicker";
import { listTime, previewText, sortConversations, type Conversation, type GroupFound, type SearchHit } from "./model";
import { PreferencesModal } from "./PreferencesModal";

export function ConversationAvatar({ conversation, size = 40 }: { conversation: Conversation; size?: number }) {
  const t = useT();
  const online = useChatState((s) => (conversation.peer_membership_id ? s.presence[conversation.peer_membership_id] : undefined));
  if (conversation.kind === "direct") {
    const key = conversation.peer_membership_id ?? conversation.id;
    return (
      <span className="zt-chat-avatar">
        <Avatar size={size} style={{ backgroundColor: avatarColour(key), flex: "none", fontSize: size * 0.34 }}>
          {avatarText(conversation.title)}
        </Avatar>
        {online && <span className="zt-chat-online" title={t("chat.online")} data-testid="online-dot" />}
      </span>
    );
  }
  return (
    <Avatar
      size={size}
      shape="square"
      style={{ backgroundColor: conversation.kind === "group" ? "#4f7cff" : "#13a8a8", flex: "none", borderRadius: 8 }}
      icon={<TeamOutlined />}
    />
  );
}

function KindTag({ conversation }: { conversation: Conversation }) {
  const t = useT();
  if (conversation.kind === "department") return <Tag className="zt-chat-kind" color="cyan">{t("chat.kind.department")}</Tag>;
  if (conversation.kind === "all_staff") return <Tag className="zt-chat-kind" color="blue">{t("chat.kind.allStaff")}</Tag>;
  return null;
}

function ConversationRow({ conversation, active, onOpen }: { conversation: Conversation; active: boolean; onOpen: (id: string) => void }) {
  const t = useT();
  const language = useLanguage();
  const preview = useChatState((s) => s.previews[conversation.id]);
  const typing = useChatState((s) => s.typing[conversation.id]);
  const draft = useChatState((s) => s.drafts[conversation.id]);
  const myId = useChatState((s) => s.myId);
  const { store } = useChat();
  const typers = typing ? Object.values(typing).filter((e) => e.until > Date.now()) : [];
  let line: React.ReactNode = preview ? previewText(preview, t, myId, store.nameOf) : "";
  if (preview && conversation.kind !== "direct" && preview.kind !== "system" && !preview.recalled && preview.sender_name) {
    line = `${preview.sender_name}${t("chat.colon")}${line as string}`;
  }
  if (draft?.trim() && !active) line = <><span className="zt-chat-draft">{t("chat.draft")}</span>{draft}</>;
  if (typers.length > 0) line = <span className="zt-chat-typing-line">{t("chat.typing", { name: typers[0]!.name })}</span>;
  const mentioned = preview && conversation.unread > 0 && myId && (preview.mention_all || (preview.mentions ?? []).includes(myId));
  return (
    <button
      type="button"
      className={`zt-chat-row${active ? " is-active" : ""}${conversation.pinned ? " is-pinned" : ""}`}
      onClick={() => onOpen(conversation.id)}
      data-testid="conversation-row"
      data-conversation-id={conversation.id}
      data-unread={conversation.unread}
    >
      <ConversationAvatar conversation={conversation} />
      <span className="zt-chat-row-main">
        <span className="zt-chat-row-top">
          <span className="zt-chat-row-title" data-testid="conversation-title">
            {conversation.title}
          </span>
          <KindTag conversation={conversation} />
          <span className="zt-chat-row-time">{listTime(preview?.created_at ?? conversation.last_message_at, language, t)}</span>
        </span>
        <span className="zt-chat-row-bottom">
          <span className="zt-chat-row-preview">
            {mentioned && <span className="zt-chat-mention-flag">{t("chat.mentionedYou")}</span>}
            {line}
          </span>
          {conversation.pinned && <PushpinFilled className="zt-chat-row-icon" aria-label={t("chat.pinned")} />}
          {conversation.do_not_disturb && <MutedOutlined className="zt-chat-row-icon" aria-label={t("chat.dnd")} />}
          {conversation.unread > 0 && (
            <span className={`zt-chat-unread${conversation.do_not_disturb ? " is-quiet" : ""}`} data-testid="unread-badge">
              {conversation.unread > 99 ? "99+" : conversation.unread}
            </span>
          )}
        </span>
      </span>
    </button>
  );
}

function SearchResultsPanel({
  query,
  conversations,
  onOpen,
}: {
  query: string;
  conversations: Conversation[];
  onOpen: (id: string, seq?: number) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const myId = useChatState((s) => s.myId);
  const { message } = App.useApp();
  const { store } = useChat();
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [groups, setGroups] = useState<GroupFound[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [joining, setJoining] = useState<string | null>(null);
  const q = query.trim();
  useEffect(() => {
    let stopped = false;
    setHits(null);
    setError(null);
    const timer = window.setTimeout(() => {
      call(api.GET("/api/v1/im/search", { params: { query: { q: q.slice(0, 100) } } }))
        .then((found) => !stopped && setHits(found.items))
        .catch((thrown: unknown) => !stopped && setError(errorMessage(thrown)));
      call(api.GET("/api/v1/im/groups/search", { params: { query: { q: q.slice(0, 100) } } }))
        .then((found) => !stopped && setGroups(found))
        .catch(() => !stopped && setGroups([]));
    }, 250);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [q]);
  const lower = q.toLowerCase();
  const named = conversations.filter((c) => c.title.toLowerCase().includes(lower));
  const mine = new Set(conversations.map((c) => c.id));
  const joinable = groups.filter((g) => !mine.has(g.id));
  const join = async (group: GroupFound) => {
    setJoining(group.id);
    try {
      const answer = await call(api.POST("/api/v1/im/conversations/{conversation_id}/join", { params: { path: { conversation_id: group.id } } }));
      if (answer.status === "joined") {
        await store.refreshConversation(group.id);
        onOpen(group.id);
      } else {
        message.success(t("chat.join.requested"));
      }
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setJoining(null);
    }
  };
  return (
    <div className="zt-chat-search" data-testid="chat-search-results" data-loading={hits === null && !error ? "true" : "false"}>
      {named.length > 0 && (
        <section>
          <div className="zt-chat-section">{t("chat.search.conversations")}</div>
          {named.map((c) => (
            <button key={c.id} type="button" className="zt-chat-hit" onClick={() => onOpen(c.id)} data-testid="search-conversation">
              <ConversationAvatar conversation={c} size={32} />
              <span className="zt-chat-hit-main">
                <span className="zt-chat-hit-title">{c.title}</span>
              </span>
            </button>
          ))}
        </section>
      )}
      {joinable.length > 0 && (
        <section>
          <div className="zt-chat-section">{t("chat.search.groups")}</div>
          {joinable.map((g) => (
            <div key={g.id} className="zt-chat-hit" data-testid="search-group">
              <Avatar shape="square" size={32} style={{ backgroundColor: "#4f7cff", borderRadius: 8, flex: "none" }} icon={<TeamOutlined />} />
              <span className="zt-chat-hit-main">
                <span className="zt-chat-hit-title">{g.name}</span>
                <span className="zt-chat-hit-text">{t("chat.memberCount", { count: g.member_count })}</span>
              </span>
              <Button size="small" loading={joining === g.id} onClick={() => void join(g)}>
                {g.join_approval ? t("chat.join.ask") : t("chat.join.join")}
              </Button>
            </div>
          ))}
        </section>
      )}
      <section>
        <div className="zt-chat-section">{t("chat.search.messages")}</div>
        {error && <Alert type="error" showIcon title={error} />}
        {!error && hits === null && (
          <div style={{ textAlign: "center", padding: 16 }}>
            <Spin size="small" />
          </div>
        )}
        {hits?.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("chat.search.none", { query: q })} />}
        {hits?.map((hit) => (
          <button
            key={hit.message.id}
            type="button"
            className="zt-chat-hit"
            onClick={() => onOpen(hit.conversation_id, hit.message.seq)}
            data-testid="search-hit"
          >
            <span className="zt-chat-hit-main">
              <span className="zt-chat-hit-top">
                <span className="zt-chat-hit-title">{hit.conversation_title}</span>
                <span className="zt-chat-row-time">{listTime(hit.message.created_at, language, t)}</span>
              </span>
              <span className="zt-chat-hit-text">
                {hit.message.sender_name && `${hit.message.sender_name}${t("chat.colon")}`}
                <Highlight text={previewText(hit.message, t, myId, store.nameOf)} query={q} />
              </span>
            </span>
          </button>
        ))}
      </section>
    </div>
  );
}

function Highlight({ text, query }: { text: string; query: string }) {
  const words = query.split(/\s+/).filter(Boolean);
  if (words.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  return (
    <>
      {text.split(pattern).map((part, i) =>
        i % 2 === 1 ? (
          <mark key={i} className="zt-chat-mark">
            {part}
          </mark>
        ) : (
          part
        ),
      )}
    </>
  );
}

export function ConversationPane({ activeId }: { activeId: string | null }) {
  const t = useT();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const { store, notifications, enableNotifications } = useChat();
  const conversations = useChatState((s) => s.conversations);
  const touched = useChatState((s) => s.touched);
  const loaded = useChatState((s) => s.listLoaded);
  const listError = useChatState((s) => s.listError);
  const status = useChatState((s) => s.status);
  const myId = useChatState((s) => s.myId);
  const [query, setQuery] = useState("");
  const [picker, setPicker] = useState<"direct" | "group" | null>(null);
  const [busy, setBusy] = useState(false);
  const [groupName, setGroupName] = useState("");
  const [prefsOpen, setPrefsOpen] = useState(false);
  const [bannerClosed, setBannerClosed] = useState(() => window.localStorage.getItem("zt_chat_notify_banner") === "closed");
  const sorted = useMemo(() => sortConversations(Object.values(conversations), touched), [conversations, touched]);

  const open = (id: string, seq?: number) => {
    setQuery("");
    navigate(seq ? `/chat/${id}?seq=${seq}` : `/chat/${id}`);
  };

  const startDirect = async (picked: Picked[]) => {
    const person = picked[0];
    if (!person) return;
    setBusy(true);
    try {
      const conversation = await store.openDirect(person.id);
      setPicker(null);
      open(conversation.id);
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const startGroup = async (picked: Picked[]) => {
    setBusy(true);
    try {
      const conversation = await store.createGroup(groupName.trim(), picked.map((p) => p.id));
      setPicker(null);
      setGroupName("");
      open(conversation.id);
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const closeBanner = () => {
    setBannerClosed(true);
    window.localStorage.setItem("zt_chat_notify_banner", "closed");
  };

  return (
    <div className="zt-chat-pane" data-testid="conversation-pane" data-connection={status} data-loaded={loaded ? "true" : "false"}>
      <div className="zt-chat-pane-head">
        <h2 className="zt-chat-pane-title">{t("nav.messages")}</h2>
        <Tooltip title={t("chat.preferences")}>
          <Button type="text" icon={<SettingOutlined />} onClick={() => setPrefsOpen(true)} aria-label={t("chat.preferences")} data-testid="chat-preferences" />
        </Tooltip>
        <Dropdown
          trigger={["click"]}
          menu={{
            items: [
              { key: "direct", icon: <UserOutlined />, label: t("chat.newDirect"), "data-testid": "new-direct" } as never,
              { key: "group", icon: <UsergroupAddOutlined />, label: t("chat.newGroup"), "data-testid": "new-group" } as never,
            ],
            onClick: ({ key }) => setPicker(key as "direct" | "group"),
          }}
        >
          <Button type="primary" shape="circle" icon={<PlusOutlined />} aria-label={t("chat.new")} data-testid="new-chat" />
        </Dropdown>
      </div>
      <div className="zt-chat-pane-search">
        <Input
          allowClear
          prefix={<SearchOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
          placeholder={t("chat.search.placeholder")}
          aria-label={t("chat.search.placeholder")}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          maxLength={100}
          data-testid="chat-search"
        />
      </div>
      {status === "closed" && (
        <div className="zt-chat-offline" data-testid="chat-offline">
          <DisconnectOutlined /> {t("chat.reconnecting")}
        </div>
      )}
      {notifications === "default" && !bannerClosed && (
        <Alert
          className="zt-chat-notify-banner"
          type="info"
          icon={<BellOutlined />}
          showIcon
          closable={{ onClose: closeBanner }}
          title={t("chat.notify.banner")}
          action={
            <Button size="small" type="link" onClick={() => void enableNotifications()}>
              {t("chat.notify.enable")}
            </Button>
          }
        />
      )}
      <div className="zt-chat-list" data-testid="conversation-list">
        {query.trim() ? (
          <SearchResultsPanel query={query} conversations={sorted} onOpen={open} />
        ) : listError && !loaded ? (
          <Alert type="error" showIcon title={listError} action={<Button size="small" onClick={() => void store.loadConversations()}>{t("common.retry")}</Button>} />
        ) : !loaded ? (
          <div style={{ padding: 16 }}>
            <Skeleton avatar active paragraph={{ rows: 1 }} />
            <Skeleton avatar active paragraph={{ rows: 1 }} />
          </div>
        ) : sorted.length === 0 ? (
          <Empty
            image={Empty.PRESENTED_IMAGE_SIMPLE}
            description={t("chat.noConversations")}
            style={{ marginTop: 48 }}
          >
            <Button type="primary" onClick={() => setPicker("direct")}>
              {t("chat.newDirect")}
            </Button>
          </Empty>
        ) : (
          sorted.map((c) => <ConversationRow key={c.id} conversation={c} active={c.id === activeId} onOpen={open} />)
        )}
      </div>
      <MemberPicker
        open={picker === "direct"}
        title={t("chat.newDirect")}
        multiple={false}
        exclude={myId ? new Set([myId]) : undefined}
        onCancel={() => setPicker(null)}
        onConfirm={(picked) => void startDirect(picked)}
      />
      <MemberPicker
        open={picker === "group"}
        title={t("chat.newGroup")}
        multiple
        minimum={1}
        exclude={myId ? new Set([myId]) : undefined}
        confirmText={t("chat.createGroup")}
        confirmLoading={busy}
        onCancel={() => setPicker(null)}
        onConfirm={(picked) => void startGroup(picked)}
        extra={
          <Input
            placeholder={t("chat.groupName.placeholder")}
            aria-label={t("chat.groupName")}
            value={groupName}
            onChange={(event) => setGroupName(event.target.value)}
            maxLength={100}
            style={{ marginBottom: 8 }}
            data-testid="group-name"
          />
        }
      />
      <PreferencesModal open={prefsOpen} onClose={() => setPrefsOpen(false)} />
    </div>
  );
}
