// Chat shapes (from the generated API types) and small helpers shared by the chat screens.
import type { BodyOf, ResponseOf } from "../../api/client";
import type { Language, MessageKey, Translate } from "../../i18n";

export type ConversationList = ResponseOf<"/api/v1/im/conversations", "get">;
export type Conversation = ConversationList["items"][number];
export type GroupSettings = NonNullable<Conversation["settings"]>;
export type MessagePage = ResponseOf<"/api/v1/im/conversations/{conversation_id}/messages", "get">;
export type Message = MessagePage["items"][number];
export type Attachment = NonNullable<Message["attachment"]>;
export type Quote = NonNullable<Message["quote"]>;
export type MessageIn = BodyOf<"/api/v1/im/conversations/{conversation_id}/messages", "post">;
export type MemberList = ResponseOf<"/api/v1/im/conversations/{conversation_id}/members", "get">;
export type ChatMember = MemberList["items"][number];
export type ReadList = ResponseOf<"/api/v1/im/messages/{message_id}/reads", "get">;
export type Preferences = ResponseOf<"/api/v1/im/preferences", "get">;
export type Policy = ResponseOf<"/api/v1/im/policy", "get">;
export type SearchHit = ResponseOf<"/api/v1/im/search", "get">["items"][number];
export type SettingsChange = BodyOf<"/api/v1/im/conversations/{conversation_id}/settings", "patch">;
export type JoinRequest = ResponseOf<"/api/v1/im/conversations/{conversation_id}/join-requests", "get">[number];
export type GroupFound = ResponseOf<"/api/v1/im/groups/search", "get">[number];
export type FileKind = "image" | "file" | "voice" | "video";

/** A message this client is still sending (or failed to send), shown until the server's answer replaces it. */
export interface PendingMessage {
  clientMsgId: string;
  conversationId: string;
  body: MessageIn;
  quote: Quote | null;
  createdAt: string;
  status: "uploading" | "sending" | "failed";
  error: string | null;
  /** For attachments: the file being uploaded. */
  upload: { name: string; size: number; kind: FileKind; progress: number; previewUrl: string | null } | null;
}

export function isGroup(conversation: Conversation): boolean {
  return conversation.kind !== "direct";
}

/** Whether this member runs the group (owner, or admin unless only the owner manages). */
export function manages(conversation: Conversation): boolean {
  if (!isGroup(conversation)) return false;
  if (conversation.rank === "owner") return true;
  return conversation.rank === "admin" && !conversation.settings?.only_owner_manages;
}

export function unreadOf(conversation: Conversation): number {
  return Math.max(0, conversation.last_seq - Math.max(conversation.read_seq, conversation.visible_after_seq));
}

export function newClientMsgId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Pinned first, then the most recent activity. */
export function sortConversations(items: Conversation[], touched: Record<string, string>): Conversation[] {
  const key = (c: Conversation) => c.last_message_at ?? touched[c.id] ?? "";
  return [...items].sort((a, b) => {
    if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return ka < kb ? 1 : -1;
    return a.title.localeCompare(b.title, "zh-CN");
  });
}

// -- time

function locale(language: Language): string {
  return language === "en" ? "en-GB" : "zh-CN";
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function timeOfDay(iso: string, language: Language): string {
  return new Intl.DateTimeFormat(locale(language), { hour: "2-digit", minute: "2-digit", hour12: false }).format(
    new Date(iso),
  );
}

/** Short time for the conversation list: 14:05, 昨天, 3月8日, 2024/3/8. */
export function listTime(iso: string | null | undefined, language: Language, t: Translate): string {
  if (!iso) return "";
  const date = new Date(iso);
  const now = new Date();
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86_400_000);
  if (days <= 0) return timeOfDay(iso, language);
  if (days === 1) return t("chat.yesterday");
  if (date.getFullYear() === now.getFullYear()) {
    return new Intl.DateTimeFormat(locale(language), { month: "short", day: "numeric" }).format(date);
  }
  return new Intl.DateTimeFormat(locale(language), { year: "numeric", month: "numeric", day: "numeric" }).format(date);
}

/** The date line between messages of different days: 今天, 昨天, 3月8日 星期五. */
export function dayLabel(iso: string, language: Language, t: Translate): string {
  const date = new Date(iso);
  const now = new Date();
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86_400_000);
  if (days === 0) return t("chat.today");
  if (days === 1) return t("chat.yesterday");
  const options: Intl.DateTimeFormatOptions =
    date.getFullYear() === now.getFullYear()
      ? { month: "long", day: "numeric", weekday: "long" }
      : { year: "numeric", month: "long", day: "numeric", weekday: "long" };
  return new Intl.DateTimeFormat(locale(language), options).format(date);
}

export function sameDay(a: string, b: string): boolean {
  return startOfDay(new Date(a)) === startOfDay(new Date(b));
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function fileUrl(id: string, thumbnail = false): string {
  return `/api/v1/im/files/${encodeURIComponent(id)}${thumbnail ? "?thumbnail=true" : ""}`;
}

// -- text

const KIND_LABELS: Record<string, MessageKey> = {
  image: "chat.kind.image",
  file: "chat.kind.file",
  voice: "chat.kind.voice",
  video: "chat.kind.video",
  forward: "chat.kind.forward",
  markdown: "chat.kind.markdown",
};

/** A member's name by membership id, where known (conversation members, senders seen). */
export type NameOf = (membershipId: string) => string | undefined;

/** What stands in a recalled message's place: who recalled whose message. A group's owner or
 * admin may recall anyone's message; then both are named. */
export function recallText(message: Message, t: Translate, ownId: string | null, nameOf?: NameOf): string {
  const sender = message.sender_membership_id;
  const senderIsMe = Boolean(ownId) && sender === ownId;
  const senderName = message.sender_name || t("chat.system.someone");
  const by = message.recalled_by_membership_id ?? sender;
  if (!by || by === sender) return senderIsMe ? t("chat.recalled.own") : t("chat.recalled.other", { name: senderName });
  if (by === ownId) return t("chat.recalled.byMe", { name: senderName });
  const admin = nameOf?.(by);
  if (senderIsMe) return admin ? t("chat.recalled.mineByAdmin", { admin }) : t("chat.recalled.mineByAdminUnnamed");
  return admin ? t("chat.recalled.byAdmin", { admin, name: senderName }) : t("chat.recalled.byAdminUnnamed", { name: senderName });
}

/** One line describing a message, for previews, notifications and search hits. */
export function previewText(message: Message, t: Translate, ownId: string | null, nameOf?: NameOf): string {
  if (message.kind === "system" && message.system) return systemText(message.system, t);
  if (message.recalled) return recallText(message, t, ownId, nameOf);
  const label = KIND_LABELS[message.kind];
  if (message.kind === "text" || message.kind === "markdown") return message.text.replace(/\s+/g, " ").trim();
  const name = message.attachment?.name ? ` ${message.attachment.name}` : "";
  return label ? `[${t(label)}]${message.kind === "file" ? name : ""}` : message.text;
}

const SETTING_LABELS: Record<string, MessageKey> = {
  name: "chat.settings.name",
  only_owner_manages: "chat.settings.onlyOwnerManages",
  join_approval: "chat.settings.joinApproval",
  searchable: "chat.settings.searchable",
  history_visible_count: "chat.settings.history",
  forbid_private_chat: "chat.settings.forbidPrivateChat",
  mute_all: "chat.settings.muteAll",
  mention_all_admins_only: "chat.settings.mentionAllAdminsOnly",
  max_members: "chat.settings.maxMembers",
};

export function settingLabel(name: string, t: Translate): string {
  const key = SETTING_LABELS[name];
  return key ? t(key) : name;
}

/** A system line ("张明 邀请 李华 加入了群聊") in the reader's language. */
export function systemText(system: NonNullable<Message["system"]>, t: Translate): string {
  const actor = system.actor_name || t("chat.system.someone");
  const names = system.names.filter(Boolean).join(t("chat.listSeparator"));
  switch (system.action) {
    case "created":
      return names ? t("chat.system.createdWith", { actor, names }) : t("chat.system.created", { actor });
    case "joined":
      return system.actor_name ? t("chat.system.joined", { actor, names }) : t("chat.system.joinedSelf", { names });
    case "left":
      return t("chat.system.left", { names });
    case "removed":
      return t("chat.system.removed", { actor, names });
    case "owner_changed":
      return t("chat.system.ownerChanged", { actor, names });
    case "settings_changed": {
      const what = system.names.map((n) => settingLabel(n, t)).join(t("chat.listSeparator"));
      return what ? t("chat.system.settingsChangedWhat", { actor, what }) : t("chat.system.settingsChanged", { actor });
    }
    case "announcement":
      return t("chat.system.announcement", { actor });
    case "departed":
      return t("chat.system.departed");
    default:
      return t("chat.system.other", { actor });
  }
}

// -- quiet hours

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The same rule as the server's: quiet hours may cross midnight (22:00–08:00). */
export function inQuietHours(preferences: Preferences, now = new Date()): boolean {
  if (!preferences.quiet_hours_enabled) return false;
  let local: number;
  try {
    const parts = new Intl.DateTimeFormat("en-GB", {
      hour: "2-digit",
      minute: "2-digit",
      hour12: false,
      timeZone: preferences.timezone,
    }).formatToParts(now);
    const hour = Number(parts.find((p) => p.type === "hour")?.value ?? 0) % 24;
    const minute = Number(parts.find((p) => p.type === "minute")?.value ?? 0);
    local = hour * 60 + minute;
  } catch {
    return preferences.in_quiet_hours;
  }
  const start = minutesOf(preferences.quiet_start);
  const end = minutesOf(preferences.quiet_end);
  if (start <= end) return start <= local && local < end;
  return local >= start || local < end;
}

/** Everything is a muted member's own until the time passes. */
export function mutedUntil(conversation: Conversation): Date | null {
  if (!conversation.muted_until) return null;
  const until = new Date(conversation.muted_until);
  return until.getTime() > Date.now() ? until : null;
}
