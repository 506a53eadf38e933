// Who has read one of my messages and who has not: 未读 (N) and 已读 (N) tabs, each a list by name
// that loads page by page as it scrolls (a group may have thousands of members). Follows readers
// live: a read.moved event moves a reader from 未读 to 已读 and updates both counts, without
// asking the server again.
import { Alert, Avatar, Button, Empty, Modal, Spin, Tabs, Typography } from "antd";
import { useCallback, useEffect, useRef, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import type { Message, ReadList } from "./model";
import { noVersions } from "./store";

const PAGE = 50;

type Tab = ReadList["tab"];
type Person = ReadList["items"][number];
interface Counts {
  read: number;
  unread: number;
  hidden: number;
}
/** One tab's list as far as it was loaded. */
interface Pages {
  people: Person[];
  cursor: string | null;
  started: boolean;
  loading: boolean;
  done: boolean;
}
interface ReadState {
  /** From the first page the server sent, then moved by read events. */
  counts: Counts | null;
  pages: Record<Tab, Pages>;
  error: string | null;
}

const NO_PAGES: Pages = { people: [], cursor: null, started: false, loading: false, done: false };
const NOTHING_YET: ReadState = { counts: null, pages: { unread: NO_PAGES, read: NO_PAGES }, error: null };

/** The server's order: by name, then id (namesakes). */
function byName(a: Person, b: Person): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.membership_id < b.membership_id ? -1 : a.membership_id > b.membership_id ? 1 : 0;
}

/** A page appended to its tab: nobody twice, and readers seen moving stay out of 未读. */
function withPage(pages: Pages, page: ReadList, moved: ReadonlySet<string>): Pages {
  const held = new Set(pages.people.map((p) => p.membership_id));
  const fresh = page.items.filter(
    (p) => !held.has(p.membership_id) && !(page.tab === "unread" && moved.has(p.membership_id)),
  );
  const done = page.next_cursor === null;
  return { people: [...pages.people, ...fresh], cursor: page.next_cursor, started: true, loading: false, done };
}

/** The first page's counts. A reader seen moving while it was on its way is already counted as a
 * reader, unless the page still lists them under 未读. */
function countsOf(page: ReadList, moved: ReadonlySet<string>): Counts {
  const late = page.tab === "unread" ? page.items.filter((p) => moved.has(p.membership_id)).length : 0;
  return { read: page.read_count + late, unread: page.unread_count - late, hidden: page.hidden_count };
}

function withResponse(state: ReadState, page: ReadList, moved: ReadonlySet<string>): ReadState {
  return {
    counts: state.counts ?? countsOf(page, moved),
    pages: { ...state.pages, [page.tab]: withPage(state.pages[page.tab], page, moved) },
    error: null,
  };
}

/** A reader moved past the message: out of 未读, and into 已读 where the loaded part of that list
 * reaches their name (further on, a later page brings them). */
function withReader(state: ReadState, id: string, knownName: string | undefined): ReadState {
  const { unread, read } = state.pages;
  const name = unread.people.find((p) => p.membership_id === id)?.name ?? knownName;
  const row = name === undefined ? null : { membership_id: id, name };
  const last = read.people[read.people.length - 1];
  const reaches = row !== null && read.started && (read.done || (last !== undefined && byName(row, last) < 0));
  const inRead = reaches && !read.people.some((p) => p.membership_id === id);
  return {
    ...state,
    counts: state.counts && {
      ...state.counts,
      read: state.counts.read + 1,
      unread: Math.max(0, state.counts.unread - 1),
    },
    pages: {
      unread: { ...unread, people: unread.people.filter((p) => p.membership_id !== id) },
      read: inRead ? { ...read, people: [...read.people, row].sort(byName) } : read,
    },
  };
}

/** The read list of `message`: what is loaded of each tab, and a way to load a tab's next page. */
function useReadList(message: Message, tab: Tab) {
  const { store } = useChat();
  const { id: messageId, conversation_id: conversationId, seq } = message;
  const version = useChatState((s) => (s.versions[conversationId] ?? noVersions()).receipts);
  const [state, setState] = useState<ReadState>(NOTHING_YET);
  /** Readers seen moving past this message since the list was (re)loaded. */
  const moved = useRef(new Set<string>());
  const inFlight = useRef(new Set<Tab>());
  /** Answers to requests from before a reload change nothing. */
  const generation = useRef(0);

  // A resync may have missed read events: start again from the server.
  useEffect(() => {
    generation.current += 1;
    moved.current = new Set();
    inFlight.current = new Set();
    setState(NOTHING_YET);
  }, [version]);

  const loadPage = useCallback(
    (which: Tab, cursor: string | null) => {
      if (inFlight.current.has(which)) return;
      const mine = inFlight.current;
      mine.add(which);
      const asked = generation.current;
      setState((s) => ({ ...s, pages: { ...s.pages, [which]: { ...s.pages[which], started: true, loading: true } } }));
      const query = { tab: which, limit: PAGE, ...(cursor ? { cursor } : {}) };
      call(api.GET("/api/v1/im/messages/{message_id}/reads", { params: { path: { message_id: messageId }, query } }))
        .then((page) => {
          if (asked === generation.current) setState((s) => withResponse(s, page, moved.current));
        })
        .catch((thrown: unknown) => {
          if (asked !== generation.current) return;
          setState((s) => ({
            ...s,
            error: errorMessage(thrown),
            pages: { ...s.pages, [which]: { ...s.pages[which], loading: false } },
          }));
        })
        .finally(() => mine.delete(which));
    },
    [messageId],
  );

  const started = state.pages[tab].started;
  useEffect(() => {
    if (!started) loadPage(tab, null);
  }, [tab, started, loadPage]);

  useEffect(
    () =>
      store.onReadMoved((move) => {
        if (move.conversationId !== conversationId || seq <= move.previous || seq > move.readSeq) return;
        if (moved.current.has(move.membershipId)) return;
        moved.current.add(move.membershipId);
        setState((s) => withReader(s, move.membershipId, store.nameOf(move.membershipId)));
      }),
    [conversationId, seq, store],
  );

  // The "N人未读" under the message agrees with the list.
  const unread = state.counts?.unread;
  useEffect(() => {
    if (unread !== undefined) store.noteUnreadCount(conversationId, messageId, unread);
  }, [conversationId, messageId, unread, store]);

  const loadMore = (which: Tab) => {
    const pages = state.pages[which];
    if (!pages.done) loadPage(which, pages.cursor);
  };
  const retry = () => {
    setState((s) => ({ ...s, error: null }));
    loadMore(tab);
  };
  return { ...state, loadMore, retry };
}

function People({
  pages,
  paused,
  onMore,
  testId,
}: {
  pages: Pages;
  paused: boolean;
  onMore: () => void;
  testId: string;
}) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const end = useRef<HTMLDivElement>(null);
  const more = !pages.done && !paused;

  // Near the bottom of the list (or while the list does not fill its box): the next page. The
  // observer is made again after each page, so a list that still does not fill asks again.
  useEffect(() => {
    if (!box.current || !end.current || !more || pages.loading) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) onMore();
      },
      { root: box.current, rootMargin: "0px 0px 120px 0px" },
    );
    observer.observe(end.current);
    return () => observer.disconnect();
  }, [more, pages.loading, onMore]);

  if (pages.done && pages.people.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("chat.reads.nobody")} />;
  }
  return (
    <div ref={box} className="zt-read-scroll" data-testid={testId} data-loaded={pages.people.length}>
      <div className="zt-read-people">
        {pages.people.map((person) => (
          <div key={person.membership_id} className="zt-read-person" data-testid="read-person">
            <Avatar size={32} style={{ backgroundColor: avatarColour(person.membership_id), fontSize: 12, flex: "none" }}>
              {avatarText(person.name)}
            </Avatar>
            <span className="zt-read-name" data-testid="read-name">
              {person.name}
            </span>
          </div>
        ))}
      </div>
      {pages.loading && (
        <div className="zt-read-more">
          <Spin size="small" />
        </div>
      )}
      {more && !pages.loading && (
        <div ref={end} className="zt-read-more">
          <Button type="link" size="small" onClick={onMore} data-testid="reads-more">
            {t("chat.reads.more")}
          </Button>
        </div>
      )}
    </div>
  );
}

function ReadListBody({ message }: { message: Message }) {
  const t = useT();
  const [tab, setTab] = useState<Tab>("unread"); // DingTalk opens on 未读
  const { counts, pages, error, loadMore, retry } = useReadList(message, tab);

  const pane = (which: Tab) => (
    <People pages={pages[which]} paused={error !== null} onMore={() => loadMore(which)} testId={`${which}-people`} />
  );
  return (
    <div data-testid="read-list">
      {error && (
        <Alert
          type="error"
          showIcon
          title={error}
          action={
            <Button size="small" onClick={retry} data-testid="reads-retry">
              {t("common.retry")}
            </Button>
          }
        />
      )}
      {!error && !counts && (
        <div style={{ textAlign: "center", padding: 24 }}>
          <Spin />
        </div>
      )}
      {counts && (
        <>
          <Tabs
            activeKey={tab}
            onChange={(key) => setTab(key === "read" ? "read" : "unread")}
            items={[
              {
                key: "unread",
                label: <span data-testid="reads-tab-unread">{t("chat.reads.unread", { count: counts.unread })}</span>,
                children: pane("unread"),
              },
              {
                key: "read",
                label: <span data-testid="reads-tab-read">{t("chat.reads.read", { count: counts.read })}</span>,
                children: pane("read"),
              },
            ]}
          />
          {counts.hidden > 0 && (
            <Typography.Paragraph type="secondary" style={{ fontSize: 12, margin: "8px 0 0" }}>
              {t("chat.reads.hidden", { count: counts.hidden })}
            </Typography.Paragraph>
          )}
        </>
      )}
    </div>
  );
}

export function ReadListModal({ message, onClose }: { message: Message | null; onClose: () => void }) {
  const t = useT();
  const phone = useIsPhone();
  return (
    <Modal
      open={message !== null}
      onCancel={onClose}
      footer={null}
      title={t("chat.reads.title")}
      width={phone ? "100%" : 460}
      className={phone ? "zt-modal-phone" : undefined}
      destroyOnHidden
    >
      {/* Keyed: another message starts from nothing (its tab, its pages, its counts). */}
      {message && <ReadListBody key={message.id} message={message} />}
    </Modal>
  );
}
