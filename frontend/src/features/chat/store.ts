// The chat state of one person in one organisation: conversations, the loaded part of each
// conversation's history, messages being sent, typing notices. REST answers and stream events both
// flow into it; every merge is idempotent (messages deduplicated by id and seq, watermarks only move
// forward), so an event that arrives twice, or before the REST answer it duplicates, changes nothing.
import { ApiError, api, call, errorMessage, readCookie } from "../../api/client";
import { getLanguage } from "../../i18n";
import {
  newClientMsgId,
  sortConversations,
  unreadOf,
  type Conversation,
  type FileKind,
  type Message,
  type MessageIn,
  type PendingMessage,
  type Quote,
} from "./model";
import type { ConnectionStatus, StreamEvent } from "./realtime";

const PAGE = 50;
const CATCH_UP = 200;
const CATCH_UP_ROUNDS = 5;
const PREVIEWS = 30;
const RECEIPT_WINDOW = 150;
const TYPING_MS = 6000;

export interface Thread {
  /** A contiguous run of the history, ascending by seq, ending with the newest message. */
  items: Message[];
  hasMoreBefore: boolean;
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  error: string | null;
  pending: PendingMessage[];
}

export interface Versions {
  members: number;
  pins: number;
  receipts: number;
  joins: number;
}

export interface ChatState {
  conversations: Record<string, Conversation>;
  /** When a conversation without messages was opened here: orders it in the list. */
  touched: Record<string, string>;
  listLoaded: boolean;
  listError: string | null;
  threads: Record<string, Thread>;
  /** The newest message seen for each conversation (list previews). */
  previews: Record<string, Message>;
  typing: Record<string, Record<string, { name: string; until: number }>>;
  myId: string | null;
  status: ConnectionStatus;
  versions: Record<string, Versions>;
  drafts: Record<string, string>;
  /** Whether direct-chat peers are online (membership id → online). */
  presence: Record<string, boolean>;
}

const EMPTY_THREAD: Thread = {
  items: [],
  hasMoreBefore: false,
  loaded: false,
  loading: false,
  loadingOlder: false,
  error: null,
  pending: [],
};
const NO_VERSIONS: Versions = { members: 0, pins: 0, receipts: 0, joins: 0 };

export function emptyThread(): Thread {
  return EMPTY_THREAD;
}

export function noVersions(): Versions {
  return NO_VERSIONS;
}

/** Later knowledge wins, but the sender-only fields of a REST answer survive an event's copy. */
function mergeMessage(old: Message, incoming: Message): Message {
  return {
    ...incoming,
    unread_count: incoming.unread_count ?? old.unread_count ?? null,
    client_msg_id: incoming.client_msg_id ?? old.client_msg_id ?? null,
  };
}

function mergeItems(items: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return items;
  const bySeq = new Map(items.map((m) => [m.seq, m]));
  let changed = false;
  for (const message of incoming) {
    const old = bySeq.get(message.seq);
    if (old && old.id !== message.id) continue; // seq already taken: keep what we have
    bySeq.set(message.seq, old ? mergeMessage(old, message) : message);
    changed = true;
  }
  if (!changed) return items;
  return Array.from(bySeq.values()).sort((a, b) => a.seq - b.seq);
}

/** A REST copy of a conversation, keeping any newer sequence numbers the stream already brought. */
function mergeConversation(local: Conversation | undefined, server: Conversation): Conversation {
  if (!local) return { ...server, unread: unreadOf(server) };
  const merged: Conversation = {
    ...server,
    last_seq: Math.max(local.last_seq, server.last_seq),
    read_seq: Math.max(local.read_seq, server.read_seq),
    last_message_at:
      local.last_message_at && (!server.last_message_at || local.last_message_at > server.last_message_at)
        ? local.last_message_at
        : server.last_message_at,
  };
  return { ...merged, unread: unreadOf(merged) };
}

function withoutKey<T>(record: Record<string, T>, key: string): Record<string, T> {
  if (!(key in record)) return record;
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function parseBody(text: string): { id?: string; message?: string } | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === "object" ? (parsed as { id?: string; message?: string }) : null;
  } catch {
    return null;
  }
}

type IncomingListener = (message: Message, conversation: Conversation | undefined) => void;

export class ChatStore {
  private state: ChatState = {
    conversations: {},
    touched: {},
    listLoaded: false,
    listError: null,
    threads: {},
    previews: {},
    typing: {},
    myId: null,
    status: "connecting",
    versions: {},
    drafts: {},
    presence: {},
  };
  private listeners = new Set<() => void>();
  private incoming = new Set<IncomingListener>();
  private receiptTimers = new Map<string, number>();
  private refreshTimers = new Map<string, number>();
  private typingTimer: number | undefined;
  private uploads = new Map<string, XMLHttpRequest>();
  private resolvingMyId = false;
  private closed = false;

  constructor(
    private readonly myName: string,
    private readonly myMobile: string,
  ) {}

  // -- subscription

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ChatState => this.state;

  onIncoming(listener: IncomingListener): () => void {
    this.incoming.add(listener);
    return () => this.incoming.delete(listener);
  }

  /** Starts (again: React's strict mode stops and restarts effects once in development). */
  open(): void {
    this.closed = false;
  }

  /** Stops timers and uploads; later answers of requests in flight change nothing. */
  close(): void {
    this.closed = true;
    this.receiptTimers.forEach((timer) => window.clearTimeout(timer));
    this.refreshTimers.forEach((timer) => window.clearTimeout(timer));
    window.clearTimeout(this.typingTimer);
    this.uploads.forEach((xhr) => xhr.abort());
  }

  private set(update: (state: ChatState) => ChatState): void {
    if (this.closed) return;
    const next = update(this.state);
    if (next === this.state) return;
    this.state = next;
    this.listeners.forEach((listener) => listener());
  }

  private setThread(id: string, update: (thread: Thread) => Thread): void {
    this.set((s) => {
      const thread = s.threads[id] ?? EMPTY_THREAD;
      const next = update(thread);
      return next === thread ? s : { ...s, threads: { ...s.threads, [id]: next } };
    });
  }

  private setConversation(id: string, update: (c: Conversation) => Conversation): void {
    this.set((s) => {
      const current = s.conversations[id];
      if (!current) return s;
      const next = update(current);
      if (next === current) return s;
      return { ...s, conversations: { ...s.conversations, [id]: { ...next, unread: unreadOf(next) } } };
    });
  }

  bump(id: string, what: keyof Versions): void {
    this.set((s) => {
      const current = s.versions[id] ?? NO_VERSIONS;
      return { ...s, versions: { ...s.versions, [id]: { ...current, [what]: current[what] + 1 } } };
    });
  }

  setStatus(status: ConnectionStatus): void {
    this.set((s) => (s.status === status ? s : { ...s, status }));
  }

  setDraft(id: string, text: string): void {
    this.set((s) => (s.drafts[id] === text ? s : { ...s, drafts: { ...s.drafts, [id]: text } }));
  }

  // -- who am I (the API does not say which membership is the caller's, so it is learnt)

  setMyId(id: string | null | undefined): void {
    if (!id) return;
    this.set((s) => (s.myId ? s : { ...s, myId: id }));
  }

  isOwn(message: { sender_membership_id: string | null; client_msg_id?: string | null; unread_count?: number | null }): boolean {
    const { myId } = this.state;
    if (!message.sender_membership_id) return false;
    if (myId) return message.sender_membership_id === myId;
    return Boolean(message.client_msg_id) || (message.unread_count !== null && message.unread_count !== undefined);
  }

  private learnFromMessages(messages: Message[]): void {
    if (this.state.myId) return;
    const own = messages.find((m) => m.client_msg_id && m.sender_membership_id);
    if (own) this.setMyId(own.sender_membership_id);
  }

  /** A group I own names me; a direct chat's members are me and the peer; else the address book,
   * where my name (and, among namesakes, my masked mobile) finds me. */
  private async resolveMyId(): Promise<void> {
    if (this.state.myId || this.resolvingMyId) return;
    const conversations = Object.values(this.state.conversations);
    const owned = conversations.find((c) => c.rank === "owner" && c.settings?.owner_membership_id);
    if (owned) {
      this.setMyId(owned.settings?.owner_membership_id);
      return;
    }
    const direct = conversations.find((c) => c.kind === "direct" && c.peer_membership_id);
    this.resolvingMyId = true;
    try {
      if (direct) {
        const members = await this.members(direct.id);
        this.learnFromMembers(direct, members.items);
      }
      if (!this.state.myId) await this.findMeInDirectory();
    } catch {
      // learnt later from a sent message
    } finally {
      this.resolvingMyId = false;
    }
  }

  private async findMeInDirectory(): Promise<void> {
    const name = this.myName.trim();
    if (!name) return;
    const found = await call(api.GET("/api/v1/directory/search", { params: { query: { q: name.slice(0, 64) } } }));
    const namesakes = found.members.filter((m) => m.name === name);
    if (namesakes.length === 1) {
      this.setMyId(namesakes[0]!.id);
      return;
    }
    for (const candidate of namesakes.slice(0, 10)) {
      const card = await call(api.GET("/api/v1/directory/members/{membership_id}", { params: { path: { membership_id: candidate.id } } }));
      if (card.mobile_masked && card.mobile_masked === this.myMobile) {
        this.setMyId(candidate.id);
        return;
      }
    }
  }

  learnFromMembers(conversation: Conversation, members: { membership_id: string; name: string }[]): void {
    if (this.state.myId) return;
    if (conversation.kind === "direct" && conversation.peer_membership_id) {
      const me = members.find((m) => m.membership_id !== conversation.peer_membership_id);
      if (me) this.setMyId(me.membership_id);
      return;
    }
    const named = members.filter((m) => m.name === this.myName);
    if (named.length === 1) this.setMyId(named[0]!.membership_id);
  }

  async members(id: string) {
    return call(api.GET("/api/v1/im/conversations/{conversation_id}/members", { params: { path: { conversation_id: id } } }));
  }

  // -- conversations

  async loadConversations(): Promise<void> {
    try {
      const list = await call(api.GET("/api/v1/im/conversations"));
      this.set((s) => {
        const conversations: Record<string, Conversation> = {};
        for (const item of list.items) conversations[item.id] = mergeConversation(s.conversations[item.id], item);
        return { ...s, conversations, listLoaded: true, listError: null };
      });
      void this.resolveMyId();
      void this.loadPreviews();
      void this.loadPresence(list.items.map((c) => c.peer_membership_id).filter((id): id is string => Boolean(id)));
    } catch (error) {
      this.set((s) => ({ ...s, listError: errorMessage(error), listLoaded: s.listLoaded }));
    }
  }

  /** The list shows each conversation's newest message; the list API does not carry it, so the
   * first conversations' newest messages are fetched one by one (a few at a time). */
  private async loadPreviews(): Promise<void> {
    const wanted = sortConversations(Object.values(this.state.conversations), this.state.touched)
      .filter((c) => c.last_seq > c.visible_after_seq && !this.state.previews[c.id])
      .slice(0, PREVIEWS)
      .map((c) => c.id);
    const next = async (): Promise<void> => {
      const id = wanted.shift();
      if (!id || this.closed) return;
      try {
        const page = await call(
          api.GET("/api/v1/im/conversations/{conversation_id}/messages", { params: { path: { conversation_id: id }, query: { limit: 1 } } }),
        );
        this.learnFromMessages(page.items);
        this.notePreview(id, page.items[page.items.length - 1]);
      } catch {
        // no preview for this one
      }
      await next();
    };
    await Promise.all([next(), next(), next(), next()]);
  }

  async loadPresence(membershipIds: string[]): Promise<void> {
    const ids = Array.from(new Set(membershipIds)).slice(0, 500);
    if (ids.length === 0) return;
    try {
      const answer = await call(api.POST("/api/v1/im/presence", { body: { membership_ids: ids } }));
      const online = new Set(answer.online);
      this.set((s) => {
        const presence = { ...s.presence };
        for (const id of ids) presence[id] = online.has(id);
        return { ...s, presence };
      });
    } catch {
      // presence is a nicety
    }
  }

  upsertConversation(conversation: Conversation): void {
    this.set((s) => ({
      ...s,
      conversations: { ...s.conversations, [conversation.id]: mergeConversation(s.conversations[conversation.id], conversation) },
    }));
    if (conversation.rank === "owner") this.setMyId(conversation.settings?.owner_membership_id);
  }

  async refreshConversation(id: string): Promise<void> {
    try {
      const conversation = await call(api.GET("/api/v1/im/conversations/{conversation_id}", { params: { path: { conversation_id: id } } }));
      this.upsertConversation(conversation);
      void this.resolveMyId();
    } catch (error) {
      if (error instanceof ApiError && (error.code === "im.not_in_conversation" || error.code === "im.conversation_disbanded")) {
        this.removeConversation(id);
      }
    }
  }

  private refreshConversationSoon(id: string): void {
    window.clearTimeout(this.refreshTimers.get(id));
    this.refreshTimers.set(
      id,
      window.setTimeout(() => {
        this.refreshTimers.delete(id);
        void this.refreshConversation(id);
      }, 150),
    );
  }

  removeConversation(id: string): void {
    this.set((s) => ({
      ...s,
      conversations: withoutKey(s.conversations, id),
      threads: withoutKey(s.threads, id),
      previews: withoutKey(s.previews, id),
      typing: withoutKey(s.typing, id),
    }));
  }

  async openDirect(membershipId: string): Promise<Conversation> {
    const conversation = await call(api.POST("/api/v1/im/conversations/direct", { body: { membership_id: membershipId } }));
    this.set((s) => ({ ...s, touched: { ...s.touched, [conversation.id]: new Date().toISOString() } }));
    this.upsertConversation(conversation);
    void this.resolveMyId();
    if (conversation.peer_membership_id) void this.loadPresence([conversation.peer_membership_id]);
    return conversation;
  }

  async createGroup(name: string, memberIds: string[]): Promise<Conversation> {
    const conversation = await call(api.POST("/api/v1/im/conversations/group", { body: { name, member_ids: memberIds } }));
    this.set((s) => ({ ...s, touched: { ...s.touched, [conversation.id]: new Date().toISOString() } }));
    this.upsertConversation(conversation);
    return conversation;
  }

  async setPersonal(id: string, flags: { do_not_disturb?: boolean; pinned?: boolean }): Promise<void> {
    const conversation = await call(
      api.PATCH("/api/v1/im/conversations/{conversation_id}/me", { params: { path: { conversation_id: id } }, body: flags }),
    );
    this.upsertConversation(conversation);
  }

  // -- history

  async openThread(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (thread?.loaded || thread?.loading) return;
    this.setThread(id, (t) => ({ ...t, loading: true, error: null }));
    try {
      const page = await call(
        api.GET("/api/v1/im/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id }, query: { limit: PAGE } },
        }),
      );
      this.learnFromMessages(page.items);
      this.setThread(id, (t) => ({
        ...t,
        items: mergeItems(t.items, page.items),
        hasMoreBefore: page.has_more_before,
        loaded: true,
        loading: false,
      }));
      this.notePreview(id, page.items[page.items.length - 1]);
    } catch (error) {
      this.setThread(id, (t) => ({ ...t, loading: false, error: errorMessage(error) }));
    }
  }

  async loadOlder(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded || thread.loadingOlder || !thread.hasMoreBefore || thread.items.length === 0) return;
    this.setThread(id, (t) => ({ ...t, loadingOlder: true }));
    try {
      const page = await call(
        api.GET("/api/v1/im/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id }, query: { before_seq: thread.items[0]!.seq, limit: PAGE } },
        }),
      );
      this.learnFromMessages(page.items);
      this.setThread(id, (t) => ({ ...t, items: mergeItems(t.items, page.items), hasMoreBefore: page.has_more_before, loadingOlder: false }));
    } catch (error) {
      this.setThread(id, (t) => ({ ...t, loadingOlder: false, error: errorMessage(error) }));
    }
  }

  /** Loads older pages until `seq` is in the thread (a search hit or a pinned message). */
  async loadUntil(id: string, seq: number): Promise<boolean> {
    for (let round = 0; round < 20; round += 1) {
      const thread = this.state.threads[id];
      if (!thread?.loaded) return false;
      if (thread.items.some((m) => m.seq === seq)) return true;
      if (!thread.hasMoreBefore || (thread.items[0] && thread.items[0].seq < seq)) return false;
      await this.loadOlder(id);
      if (this.state.threads[id]?.error) return false;
    }
    return false;
  }

  /** After a resync: what came after the newest message we hold, page by page. */
  async catchUp(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded) return;
    let last = thread.items[thread.items.length - 1]?.seq ?? 0;
    try {
      for (let round = 0; round < CATCH_UP_ROUNDS; round += 1) {
        const page = await call(
          api.GET("/api/v1/im/conversations/{conversation_id}/messages", {
            params: { path: { conversation_id: id }, query: { after_seq: last, limit: CATCH_UP } },
          }),
        );
        this.learnFromMessages(page.items);
        this.setThread(id, (t) => ({ ...t, items: mergeItems(t.items, page.items) }));
        this.notePreview(id, page.items[page.items.length - 1]);
        if (!page.has_more_after || page.items.length === 0) return;
        last = page.items[page.items.length - 1]!.seq;
      }
      // Too much happened: start again from the newest page.
      this.setThread(id, (t) => ({ ...EMPTY_THREAD, pending: t.pending }));
      await this.openThread(id);
    } catch (error) {
      if (error instanceof ApiError && (error.code === "im.not_in_conversation" || error.code === "im.conversation_disbanded")) {
        this.removeConversation(id);
      }
    }
  }

  async resync(): Promise<void> {
    await this.loadConversations();
    const loaded = Object.keys(this.state.threads).filter((id) => this.state.threads[id]?.loaded);
    await Promise.all(loaded.map((id) => (this.state.conversations[id] ? this.catchUp(id) : Promise.resolve(this.removeConversation(id)))));
    loaded.forEach((id) => {
      this.bump(id, "receipts");
      this.bump(id, "members");
      this.bump(id, "pins");
    });
  }

  private notePreview(id: string, message: Message | undefined): void {
    if (!message) return;
    this.set((s) => {
      const current = s.previews[id];
      if (current && current.seq > message.seq) return s;
      if (current && current.id === message.id && current === message) return s;
      return { ...s, previews: { ...s.previews, [id]: current?.id === message.id ? mergeMessage(current, message) : message } };
    });
  }

  // -- reading

  async markRead(id: string, seq: number): Promise<void> {
    const conversation = this.state.conversations[id];
    if (!conversation || seq <= conversation.read_seq) return;
    this.setConversation(id, (c) => ({ ...c, read_seq: Math.max(c.read_seq, seq) }));
    try {
      const answer = await call(
        api.POST("/api/v1/im/conversations/{conversation_id}/read", { params: { path: { conversation_id: id } }, body: { seq } }),
      );
      this.upsertConversation(answer);
    } catch {
      // the next visible message tries again
    }
  }

  /** Someone read up to `readSeq`: my messages up to there have one reader more. */
  private refreshReceiptsSoon(id: string): void {
    window.clearTimeout(this.receiptTimers.get(id));
    this.receiptTimers.set(
      id,
      window.setTimeout(() => {
        this.receiptTimers.delete(id);
        void this.refreshReceipts(id);
      }, 120),
    );
  }

  async refreshReceipts(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded) return;
    // Only the newest stretch of the history (what is likely on screen) is refreshed.
    const newest = thread.items[thread.items.length - 1]?.seq ?? 0;
    const waiting = thread.items.filter(
      (m) => m.seq > newest - RECEIPT_WINDOW && this.isOwn(m) && !m.recalled && m.unread_count !== 0,
    );
    if (waiting.length === 0) return;
    const from = waiting[0]!.seq - 1;
    try {
      const page = await call(
        api.GET("/api/v1/im/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id }, query: { after_seq: from, limit: CATCH_UP } },
        }),
      );
      this.learnFromMessages(page.items);
      this.setThread(id, (t) => {
        const fresh = new Map(page.items.map((m) => [m.id, m]));
        let changed = false;
        const items = t.items.map((m) => {
          const update = fresh.get(m.id);
          if (!update || update.unread_count === m.unread_count) return m;
          changed = true;
          return { ...m, unread_count: update.unread_count };
        });
        return changed ? { ...t, items: mergeItems(items, page.items) } : { ...t, items: mergeItems(t.items, page.items) };
      });
    } catch {
      // shown counts stay until the next change
    }
  }

  // -- sending

  private addPending(pending: PendingMessage): void {
    this.setThread(pending.conversationId, (t) => ({ ...t, pending: [...t.pending, pending] }));
  }

  private updatePending(id: string, clientMsgId: string, update: (p: PendingMessage) => PendingMessage | null): void {
    this.setThread(id, (t) => {
      const index = t.pending.findIndex((p) => p.clientMsgId === clientMsgId);
      if (index < 0) return t;
      const next = update(t.pending[index]!);
      const pending = [...t.pending];
      if (next) pending[index] = next;
      else pending.splice(index, 1);
      return { ...t, pending };
    });
  }

  /** Shows the message at once, sends it, and replaces it with the server's copy. */
  send(id: string, body: Omit<MessageIn, "client_msg_id">, quote: Quote | null): void {
    const pending: PendingMessage = {
      clientMsgId: newClientMsgId(),
      conversationId: id,
      body: { ...body, client_msg_id: undefined },
      quote,
      createdAt: new Date().toISOString(),
      status: "sending",
      error: null,
      upload: null,
    };
    pending.body.client_msg_id = pending.clientMsgId;
    this.addPending(pending);
    void this.deliver(pending);
  }

  retry(id: string, clientMsgId: string): void {
    const pending = this.state.threads[id]?.pending.find((p) => p.clientMsgId === clientMsgId);
    if (!pending || pending.status !== "failed") return;
    if (pending.upload && !pending.body.file_id) {
      this.discard(id, clientMsgId);
      return;
    }
    this.updatePending(id, clientMsgId, (p) => ({ ...p, status: "sending", error: null }));
    void this.deliver({ ...pending, status: "sending" });
  }

  discard(id: string, clientMsgId: string): void {
    this.uploads.get(clientMsgId)?.abort();
    this.setThread(id, (t) => {
      const gone = t.pending.find((p) => p.clientMsgId === clientMsgId);
      if (gone?.upload?.previewUrl) URL.revokeObjectURL(gone.upload.previewUrl);
      return { ...t, pending: t.pending.filter((p) => p.clientMsgId !== clientMsgId) };
    });
  }

  private async deliver(pending: PendingMessage): Promise<void> {
    const id = pending.conversationId;
    try {
      const message = await call(
        api.POST("/api/v1/im/conversations/{conversation_id}/messages", {
          params: { path: { conversation_id: id } },
          body: pending.body,
        }),
      );
      this.setMyId(message.sender_membership_id);
      this.acceptMessage(id, message);
      this.discard(id, pending.clientMsgId);
    } catch (error) {
      this.updatePending(id, pending.clientMsgId, (p) => ({ ...p, status: "failed", error: errorMessage(error) }));
    }
  }

  /** Uploads with progress (XMLHttpRequest: fetch reports no upload progress), then sends. */
  sendFile(id: string, file: File, kind: FileKind, quote: Quote | null, replyToId: string | null): void {
    const clientMsgId = newClientMsgId();
    const pending: PendingMessage = {
      clientMsgId,
      conversationId: id,
      body: { kind, text: "", mentions: [], mention_all: false, reply_to_id: replyToId, client_msg_id: clientMsgId },
      quote,
      createdAt: new Date().toISOString(),
      status: "uploading",
      error: null,
      upload: {
        name: file.name,
        size: file.size,
        kind,
        progress: 0,
        previewUrl: kind === "image" ? URL.createObjectURL(file) : null,
      },
    };
    this.addPending(pending);
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("kind", kind);
    const xhr = new XMLHttpRequest();
    this.uploads.set(clientMsgId, xhr);
    xhr.open("POST", `/api/v1/im/conversations/${encodeURIComponent(id)}/files/upload`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Accept-Language", getLanguage());
    const csrf = readCookie("zt_csrf");
    if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      const progress = Math.min(99, Math.round((event.loaded / event.total) * 100));
      this.updatePending(id, clientMsgId, (p) => (p.upload ? { ...p, upload: { ...p.upload, progress } } : p));
    };
    const fail = (message: string) => {
      this.uploads.delete(clientMsgId);
      this.updatePending(id, clientMsgId, (p) => ({ ...p, status: "failed", error: message }));
    };
    xhr.onerror = () => fail(errorMessage(null));
    xhr.onabort = () => this.uploads.delete(clientMsgId);
    xhr.onload = () => {
      this.uploads.delete(clientMsgId);
      const body = parseBody(xhr.responseText);
      if (xhr.status < 200 || xhr.status >= 300 || !body?.id) {
        fail(body?.message ?? errorMessage(null));
        return;
      }
      const fileId = body.id;
      this.updatePending(id, clientMsgId, (p) => ({
        ...p,
        status: "sending",
        body: { ...p.body, file_id: fileId },
        upload: p.upload ? { ...p.upload, progress: 100 } : null,
      }));
      const next = this.state.threads[id]?.pending.find((p) => p.clientMsgId === clientMsgId);
      if (next) void this.deliver(next);
    };
    xhr.send(form);
  }

  /** A message of ours that the server confirmed (a send, a forward). */
  acceptMessage(id: string, message: Message): void {
    this.setThread(id, (t) => (t.loaded ? { ...t, items: mergeItems(t.items, [message]) } : t));
    this.setConversation(id, (c) => ({
      ...c,
      last_seq: Math.max(c.last_seq, message.seq),
      read_seq: Math.max(c.read_seq, message.seq),
      last_message_at: !c.last_message_at || message.created_at > c.last_message_at ? message.created_at : c.last_message_at,
    }));
    this.notePreview(id, message);
  }

  // -- changing messages

  async recall(messageId: string): Promise<void> {
    this.applyUpdated(await call(api.POST("/api/v1/im/messages/{message_id}/recall", { params: { path: { message_id: messageId } } })));
  }

  async setPinned(messageId: string, pinned: boolean): Promise<void> {
    const request = pinned
      ? api.PUT("/api/v1/im/messages/{message_id}/pin", { params: { path: { message_id: messageId } } })
      : api.DELETE("/api/v1/im/messages/{message_id}/pin", { params: { path: { message_id: messageId } } });
    this.applyUpdated(await call(request));
  }

  async react(messageId: string, emoji: string): Promise<void> {
    this.applyUpdated(
      await call(api.POST("/api/v1/im/messages/{message_id}/reactions", { params: { path: { message_id: messageId } }, body: { emoji } })),
    );
  }

  async forward(messageIds: string[], targets: string[], merged: boolean): Promise<void> {
    const posted = await call(api.POST("/api/v1/im/forward", { body: { message_ids: messageIds, target_conversation_ids: targets, merged } }));
    for (const message of posted) {
      this.setMyId(message.sender_membership_id);
      this.acceptMessage(message.conversation_id, message);
    }
  }

  private applyUpdated(message: Message): void {
    const id = message.conversation_id;
    this.setThread(id, (t) => {
      if (!t.items.some((m) => m.id === message.id)) return t;
      return { ...t, items: t.items.map((m) => (m.id === message.id ? mergeMessage(m, message) : m)) };
    });
    this.set((s) => {
      const preview = s.previews[id];
      if (!preview || preview.id !== message.id) return s;
      return { ...s, previews: { ...s.previews, [id]: mergeMessage(preview, message) } };
    });
    this.bump(id, "pins");
  }

  // -- typing

  private noteTyping(id: string, membershipId: string, name: string): void {
    if (membershipId === this.state.myId) return;
    this.set((s) => ({
      ...s,
      typing: { ...s.typing, [id]: { ...(s.typing[id] ?? {}), [membershipId]: { name, until: Date.now() + TYPING_MS } } },
    }));
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.pruneTyping(), TYPING_MS + 50);
  }

  private stopTyping(id: string, membershipId: string | null): void {
    if (!membershipId) return;
    this.set((s) => {
      const entries = s.typing[id];
      if (!entries || !(membershipId in entries)) return s;
      return { ...s, typing: { ...s.typing, [id]: withoutKey(entries, membershipId) } };
    });
  }

  private pruneTyping(): void {
    const now = Date.now();
    let soonest = Infinity;
    this.set((s) => {
      let changed = false;
      const typing: ChatState["typing"] = {};
      for (const [id, entries] of Object.entries(s.typing)) {
        const kept: Record<string, { name: string; until: number }> = {};
        for (const [mid, entry] of Object.entries(entries)) {
          if (entry.until > now) {
            kept[mid] = entry;
            soonest = Math.min(soonest, entry.until);
          } else changed = true;
        }
        typing[id] = kept;
      }
      return changed ? { ...s, typing } : s;
    });
    if (soonest < Infinity) this.typingTimer = window.setTimeout(() => this.pruneTyping(), soonest - now + 50);
  }

  // -- the event stream

  applyEvent(event: StreamEvent): void {
    const id = typeof event.conversation_id === "string" ? event.conversation_id : null;
    switch (event.type) {
      case "message.new": {
        const message = event.message as Message | undefined;
        if (!id || !message) return;
        this.receive(id, message);
        break;
      }
      case "message.updated": {
        const message = event.message as Message | undefined;
        if (message) this.applyUpdated(message);
        break;
      }
      case "read.moved": {
        if (!id) return;
        const membershipId = String(event.membership_id ?? "");
        const readSeq = Number(event.read_seq ?? 0);
        const { myId } = this.state;
        if (myId && membershipId === myId) {
          this.setConversation(id, (c) => (readSeq > c.read_seq ? { ...c, read_seq: readSeq } : c));
        } else {
          if (!myId) this.refreshConversationSoon(id); // might be my own reading, on another device
          this.refreshReceiptsSoon(id);
          this.bump(id, "receipts");
        }
        break;
      }
      case "conversation.updated":
        if (!id) return;
        this.refreshConversationSoon(id);
        this.bump(id, "members");
        break;
      case "join.requested":
        if (id) this.bump(id, "joins");
        break;
      case "conversation.removed":
        if (id) this.removeConversation(id);
        break;
      case "presence":
        if (typeof event.membership_id === "string") {
          const membershipId = event.membership_id;
          const online = Boolean(event.online);
          this.set((s) => (s.presence[membershipId] === online ? s : { ...s, presence: { ...s.presence, [membershipId]: online } }));
        }
        break;
      case "typing":
        if (id && typeof event.membership_id === "string") this.noteTyping(id, event.membership_id, String(event.name ?? ""));
        break;
      default:
        break;
    }
  }

  private receive(id: string, message: Message): void {
    const known = this.state.conversations[id];
    const own = this.isOwn(message);
    this.stopTyping(id, message.sender_membership_id);
    if (own) {
      // The copy sent by this client may still be waiting for its answer: stop showing it twice.
      this.setThread(id, (t) => {
        const index = t.pending.findIndex(
          (p) => p.status === "sending" && p.body.kind === message.kind && (p.body.text ?? "").trim() === message.text && (!p.body.file_id || p.body.file_id === message.attachment?.id),
        );
        if (index < 0) return t;
        const pending = [...t.pending];
        pending.splice(index, 1);
        return { ...t, pending };
      });
    }
    this.setThread(id, (t) => {
      if (!t.loaded) return t;
      const last = t.items[t.items.length - 1];
      if (last && message.seq > last.seq + 1) void Promise.resolve().then(() => this.catchUp(id));
      return { ...t, items: mergeItems(t.items, [message]) };
    });
    this.notePreview(id, message);
    if (!known) {
      // A conversation someone else just started: learn it, then tell the listeners.
      void this.refreshConversation(id).then(() => {
        if (!own) this.incoming.forEach((listener) => listener(message, this.state.conversations[id]));
      });
      return;
    } else {
      this.setConversation(id, (c) => ({
        ...c,
        last_seq: Math.max(c.last_seq, message.seq),
        read_seq: own ? Math.max(c.read_seq, message.seq) : c.read_seq,
        last_message_at: !c.last_message_at || message.created_at > c.last_message_at ? message.created_at : c.last_message_at,
      }));
      if (message.kind === "system") {
        this.refreshConversationSoon(id);
        this.bump(id, "members");
      }
    }
    if (own && message.unread_count === null) this.refreshReceiptsSoon(id);
    if (!own) this.incoming.forEach((listener) => listener(message, this.state.conversations[id]));
  }
}
