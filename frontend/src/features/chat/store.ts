// The chat state of one person in one organisation: conversations, the loaded part of each
// conversation's history, messages being sent, typing notices. REST answers and stream events both
// flow into it; every merge is idempotent (messages deduplicated by id and seq, watermarks only move
// forward), so an event that arrives twice, or before the REST answer it duplicates, changes nothing.
import { ApiError, api, call, errorMessage, readCookie } from "../../api/client";
import { getLanguage } from "../../i18n";
import {
  newClientMsgId,
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
const RECEIPT_WINDOW = 150;
const TYPING_MS = 6000;

export interface Thread {
  /** A contiguous run of the history, ascending by seq: normally ending with the newest message;
   * after a jump to an older message (a search hit, a pin) a window around it, until scrolling
   * down reaches the newest message again (`hasMoreAfter` false). */
  items: Message[];
  hasMoreBefore: boolean;
  /** Newer messages exist that are not loaded: live messages wait until the window reaches them. */
  hasMoreAfter: boolean;
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  loadingNewer: boolean;
  error: string | null;
  pending: PendingMessage[];
  /** A message to scroll to and highlight once it is shown (seq). */
  anchor: number | null;
}

/** Someone's read watermark moved from `previous` to `readSeq` (read.moved). */
export interface ReadMove {
  conversationId: string;
  membershipId: string;
  previous: number;
  readSeq: number;
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
  hasMoreAfter: false,
  loaded: false,
  loading: false,
  loadingOlder: false,
  loadingNewer: false,
  error: null,
  pending: [],
  anchor: null,
};
const NO_VERSIONS: Versions = { members: 0, pins: 0, receipts: 0, joins: 0 };

export function emptyThread(): Thread {
  return EMPTY_THREAD;
}

export function noVersions(): Versions {
  return NO_VERSIONS;
}

/** A message's unread count only ever falls (readers are only added), so of two copies whose
 * answers may have crossed in flight the lower count is the later knowledge. */
function lowerCount(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  return Math.min(a, b);
}

/** Later knowledge wins, but the sender-only fields of a REST answer survive an event's copy. */
function mergeMessage(old: Message, incoming: Message): Message {
  return {
    ...incoming,
    unread_count: lowerCount(incoming.unread_count, old.unread_count),
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
type ReadListener = (move: ReadMove) => void;

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
  private readers = new Set<ReadListener>();
  /** Bumped whenever a thread is replaced (a jump, back to the newest): older answers are dropped. */
  private generations = new Map<string, number>();
  private receiptTimers = new Map<string, number>();
  private refreshTimers = new Map<string, number>();
  private typingTimer: number | undefined;
  private uploads = new Map<string, XMLHttpRequest>();
  /** Client ids of messages sent from here: their unread counts come with the send's answer. */
  private sentHere = new Set<string>();
  /** Names seen (senders, conversation members): who recalled a message, in previews. */
  private names = new Map<string, string>();
  private closed = false;

  /** `myId`: the person's membership in this organisation (GET /me's current_membership_id). */
  constructor(myId: string | null) {
    this.state = { ...this.state, myId };
  }

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

  /** Someone else's read watermark moved (an open read list follows it). */
  onReadMoved(listener: ReadListener): () => void {
    this.readers.add(listener);
    return () => this.readers.delete(listener);
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

  // -- who am I

  isOwn(message: { sender_membership_id: string | null }): boolean {
    const { myId } = this.state;
    return Boolean(myId) && message.sender_membership_id === myId;
  }

  nameOf = (membershipId: string): string | undefined => this.names.get(membershipId);

  private learnNames(messages: readonly Message[]): void {
    for (const m of messages) if (m.sender_membership_id && m.sender_name) this.names.set(m.sender_membership_id, m.sender_name);
  }

  async members(id: string) {
    const found = await call(api.GET("/api/v1/im/conversations/{conversation_id}/members", { params: { path: { conversation_id: id } } }));
    for (const m of found.items) this.names.set(m.membership_id, m.name);
    return found;
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
      for (const item of list.items) this.notePreview(item.id, item.last_message ?? undefined);
      void this.loadPresence(list.items.map((c) => c.peer_membership_id).filter((id): id is string => Boolean(id)));
    } catch (error) {
      this.set((s) => ({ ...s, listError: errorMessage(error), listLoaded: s.listLoaded }));
    }
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
    this.notePreview(conversation.id, conversation.last_message ?? undefined);
  }

  async refreshConversation(id: string): Promise<void> {
    try {
      const conversation = await call(api.GET("/api/v1/im/conversations/{conversation_id}", { params: { path: { conversation_id: id } } }));
      this.upsertConversation(conversation);
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
    this.generations.set(id, this.generation(id) + 1); // answers on their way change nothing
  }

  async openDirect(membershipId: string): Promise<Conversation> {
    const conversation = await call(api.POST("/api/v1/im/conversations/direct", { body: { membership_id: membershipId } }));
    this.set((s) => ({ ...s, touched: { ...s.touched, [conversation.id]: new Date().toISOString() } }));
    this.upsertConversation(conversation);
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

  private generation(id: string): number {
    return this.generations.get(id) ?? 0;
  }

  /** Forgets the loaded history (keeping messages being sent); answers for the old one are dropped. */
  private resetThread(id: string, loading: boolean): number {
    const generation = this.generation(id) + 1;
    this.generations.set(id, generation);
    this.setThread(id, (t) => ({ ...EMPTY_THREAD, pending: t.pending, loading }));
    return generation;
  }

  private async fetchPage(id: string, query: { before_seq?: number; after_seq?: number; around_seq?: number; limit: number }) {
    const page = await call(
      api.GET("/api/v1/im/conversations/{conversation_id}/messages", { params: { path: { conversation_id: id }, query } }),
    );
    this.learnNames(page.items);
    return page;
  }

  /** The newest page, when the conversation opens. */
  async openThread(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (thread?.loaded || thread?.loading) return;
    const generation = this.generation(id);
    this.setThread(id, (t) => ({ ...t, loading: true, error: null }));
    try {
      const page = await this.fetchPage(id, { limit: PAGE });
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({
        ...t,
        items: mergeItems(t.items, page.items),
        hasMoreBefore: page.has_more_before,
        hasMoreAfter: false,
        loaded: true,
        loading: false,
      }));
      this.notePreview(id, page.items[page.items.length - 1]);
      // A message that arrived while the page was on its way, between its end and the stream's.
      const last = page.items[page.items.length - 1]?.seq ?? 0;
      const known = this.state.conversations[id]?.last_seq ?? 0;
      if (known > last) void this.catchUp(id);
    } catch (error) {
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({ ...t, loading: false, error: errorMessage(error) }));
    }
  }

  /** Back to the newest messages (after a jump into older history). */
  async reloadLatest(id: string): Promise<void> {
    this.resetThread(id, false);
    await this.openThread(id);
  }

  /** Shows the message `seq`: at once when it is loaded, else the page around it replaces the
   * loaded history (scrolling then goes both ways). Resolves whether the message is there (null:
   * another jump or reload replaced this one). */
  async jumpTo(id: string, seq: number): Promise<boolean | null> {
    const thread = this.state.threads[id];
    if (thread?.loaded && thread.items.some((m) => m.seq === seq)) {
      this.setThread(id, (t) => ({ ...t, anchor: seq }));
      return true;
    }
    const generation = this.resetThread(id, true);
    try {
      const page = await this.fetchPage(id, { around_seq: seq, limit: PAGE });
      if (this.generation(id) !== generation) return null;
      const found = page.items.some((m) => m.seq === seq);
      this.setThread(id, (t) => ({
        ...t,
        items: page.items,
        hasMoreBefore: page.has_more_before,
        hasMoreAfter: page.has_more_after,
        loaded: true,
        loading: false,
        anchor: found ? seq : null,
      }));
      if (!page.has_more_after) {
        this.notePreview(id, page.items[page.items.length - 1]);
        const last = page.items[page.items.length - 1]?.seq ?? 0;
        if ((this.state.conversations[id]?.last_seq ?? 0) > last) void this.catchUp(id);
      }
      return found;
    } catch (error) {
      if (this.generation(id) !== generation) return null;
      this.setThread(id, (t) => ({ ...t, loading: false, error: errorMessage(error) }));
      return false;
    }
  }

  /** The anchor was shown. */
  clearAnchor(id: string): void {
    this.setThread(id, (t) => (t.anchor === null ? t : { ...t, anchor: null }));
  }

  async loadOlder(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded || thread.loadingOlder || !thread.hasMoreBefore || thread.items.length === 0) return;
    const generation = this.generation(id);
    this.setThread(id, (t) => ({ ...t, loadingOlder: true }));
    try {
      const page = await this.fetchPage(id, { before_seq: thread.items[0]!.seq, limit: PAGE });
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({ ...t, items: mergeItems(t.items, page.items), hasMoreBefore: page.has_more_before, loadingOlder: false }));
    } catch (error) {
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({ ...t, loadingOlder: false, error: errorMessage(error) }));
    }
  }

  /** Scrolling down a window of older history: the next page, until the newest message. */
  async loadNewer(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded || thread.loadingNewer || !thread.hasMoreAfter || thread.items.length === 0) return;
    const generation = this.generation(id);
    this.setThread(id, (t) => ({ ...t, loadingNewer: true }));
    try {
      const page = await this.fetchPage(id, { after_seq: thread.items[thread.items.length - 1]!.seq, limit: PAGE });
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({
        ...t,
        items: mergeItems(t.items, page.items),
        hasMoreAfter: page.has_more_after && page.items.length > 0,
        loadingNewer: false,
      }));
      if (!page.has_more_after) {
        this.notePreview(id, page.items[page.items.length - 1]);
        // Live messages were not added while the window was apart from the newest: fetch any
        // that came after this page was read.
        const items = this.state.threads[id]?.items ?? [];
        const last = items[items.length - 1]?.seq ?? 0;
        if ((this.state.conversations[id]?.last_seq ?? 0) > last) void this.catchUp(id);
      }
    } catch (error) {
      if (this.generation(id) !== generation) return;
      this.setThread(id, (t) => ({ ...t, loadingNewer: false, error: errorMessage(error) }));
    }
  }

  /** After a resync or a gap: what came after the newest message we hold, page by page. */
  async catchUp(id: string): Promise<void> {
    const thread = this.state.threads[id];
    if (!thread?.loaded || thread.hasMoreAfter) return; // a window of older history catches up by scrolling
    const generation = this.generation(id);
    let last = thread.items[thread.items.length - 1]?.seq ?? 0;
    try {
      for (let round = 0; round < CATCH_UP_ROUNDS; round += 1) {
        const page = await this.fetchPage(id, { after_seq: last, limit: CATCH_UP });
        if (this.generation(id) !== generation) return;
        this.setThread(id, (t) => ({ ...t, items: mergeItems(t.items, page.items) }));
        this.notePreview(id, page.items[page.items.length - 1]);
        if (!page.has_more_after || page.items.length === 0) return;
        last = page.items[page.items.length - 1]!.seq;
      }
      // Too much happened: start again from the newest page.
      await this.reloadLatest(id);
    } catch (error) {
      if (error instanceof ApiError && (error.code === "im.not_in_conversation" || error.code === "im.conversation_disbanded")) {
        this.removeConversation(id);
      }
    }
  }

  /** After a resumed reconnect: reload the list and catch up the open conversations whose last
   * seq moved past what this client holds. */
  async recheck(): Promise<void> {
    await this.loadConversations();
    const loaded = Object.keys(this.state.threads).filter((id) => this.state.threads[id]?.loaded);
    await Promise.all(loaded.map((id) => (this.state.conversations[id] ? this.catchUp(id) : Promise.resolve(this.removeConversation(id)))));
  }

  async resync(): Promise<void> {
    await this.loadConversations();
    const loaded = Object.keys(this.state.threads).filter((id) => this.state.threads[id]?.loaded);
    await Promise.all(loaded.map((id) => (this.state.conversations[id] ? this.catchUp(id) : Promise.resolve(this.removeConversation(id)))));
    loaded.forEach((id) => {
      void this.refreshReceipts(id); // read moves may have been missed
      this.bump(id, "receipts");
      this.bump(id, "members");
      this.bump(id, "pins");
    });
  }

  private notePreview(id: string, message: Message | undefined): void {
    if (!message) return;
    this.learnNames([message]);
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

  /** Another member read from `previous` to `readSeq`: each of my messages in that range has one
   * reader more. Counts are updated here rather than refetched. */
  private countReader(move: ReadMove): void {
    const { conversationId: id, previous, readSeq } = move;
    let unknown = false;
    this.setThread(id, (t) => {
      if (!t.loaded) return t;
      let changed = false;
      const items = t.items.map((m) => {
        if (m.seq <= previous || m.seq > readSeq || !this.isOwn(m) || m.recalled) return m;
        if (m.unread_count === null || m.unread_count === undefined) {
          unknown = true; // an event's copy whose sender's answer has not arrived yet
          return m;
        }
        if (m.unread_count === 0) return m;
        changed = true;
        return { ...m, unread_count: m.unread_count - 1 };
      });
      return changed ? { ...t, items } : t;
    });
    if (unknown) this.refreshReceiptsSoon(id);
    this.readers.forEach((listener) => listener(move));
  }

  private refreshReceiptsSoon(id: string): void {
    window.clearTimeout(this.receiptTimers.get(id));
    this.receiptTimers.set(
      id,
      window.setTimeout(() => {
        this.receiptTimers.delete(id);
        void this.refreshReceipts(id);
      }, 300),
    );
  }

  /** The server's counts for my newest messages (after a resync, or when a count was unknown). */
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
    const generation = this.generation(id);
    try {
      const page = await this.fetchPage(id, { after_seq: from, limit: CATCH_UP });
      if (this.generation(id) !== generation) return;
      const fresh = new Map(page.items.map((m) => [m.id, m]));
      this.setThread(id, (t) => {
        // Only the counts of messages already held: this page may lie beyond a window's end.
        let changed = false;
        const items = t.items.map((m) => {
          const update = fresh.get(m.id);
          if (!update || update.unread_count === null || update.unread_count === undefined) return m;
          if (update.unread_count === m.unread_count) return m;
          changed = true;
          return { ...m, unread_count: update.unread_count };
        });
        return changed ? { ...t, items } : t;
      });
    } catch {
      // shown counts stay until the next change
    }
  }

  /** The read list said how many have not read one of my messages: the count follows it. */
  noteUnreadCount(id: string, messageId: string, count: number): void {
    this.setThread(id, (t) => {
      const index = t.items.findIndex((m) => m.id === messageId);
      if (index < 0 || t.items[index]!.unread_count === count) return t;
      const items = [...t.items];
      items[index] = { ...items[index]!, unread_count: count };
      return { ...t, items };
    });
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
    this.sentHere.add(pending.clientMsgId);
    this.leaveWindow(id);
    this.addPending(pending);
    void this.deliver(pending);
  }

  /** Sending from a window of older history goes back to the newest messages first. */
  private leaveWindow(id: string): void {
    if (this.state.threads[id]?.hasMoreAfter) void this.reloadLatest(id);
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
      this.acceptMessage(id, message);
      this.discard(id, pending.clientMsgId);
    } catch (error) {
      this.updatePending(id, pending.clientMsgId, (p) => ({ ...p, status: "failed", error: errorMessage(error) }));
    }
  }

  /** Uploads with progress (XMLHttpRequest: fetch reports no upload progress), then sends. */
  sendFile(id: string, file: File, kind: FileKind, quote: Quote | null, replyToId: string | null): void {
    const clientMsgId = newClientMsgId();
    this.sentHere.add(clientMsgId);
    this.leaveWindow(id);
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
    this.setThread(id, (t) => (t.loaded && !t.hasMoreAfter ? { ...t, items: mergeItems(t.items, [message]) } : t));
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
    for (const message of posted) this.acceptMessage(message.conversation_id, message);
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
        const previous = Number(event.previous_read_seq ?? NaN);
        if (membershipId === this.state.myId) {
          // My own reading (here or on another device): my unread count.
          this.setConversation(id, (c) => (readSeq > c.read_seq ? { ...c, read_seq: readSeq } : c));
        } else if (Number.isFinite(previous)) {
          if (readSeq > previous) this.countReader({ conversationId: id, membershipId, previous, readSeq });
        } else {
          // A server that does not say where the reader came from: ask for the counts.
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
        const index = message.client_msg_id
          ? t.pending.findIndex((p) => p.clientMsgId === message.client_msg_id)
          : t.pending.findIndex(
              (p) => p.status === "sending" && p.body.kind === message.kind && (p.body.text ?? "").trim() === message.text && (!p.body.file_id || p.body.file_id === message.attachment?.id),
            );
        if (index < 0) return t;
        const pending = [...t.pending];
        pending.splice(index, 1);
        return { ...t, pending };
      });
    }
    this.setThread(id, (t) => {
      // A window of older history takes no live messages: scrolling down reaches them.
      if (!t.loaded || t.hasMoreAfter) return t;
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
    // Sent from another of my devices: no answer brings its unread count here.
    if (own && message.unread_count == null && !(message.client_msg_id && this.sentHere.has(message.client_msg_id))) {
      this.refreshReceiptsSoon(id);
    }
    if (!own) this.incoming.forEach((listener) => listener(message, this.state.conversations[id]));
  }
}
