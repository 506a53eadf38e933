// One DING. The sender sees 未确认 N / 已确认 N, lists that move the moment someone confirms (the
// ding.confirmed event), 再次提醒 (disabled with a countdown within five minutes of the last one),
// and each person's delivery attempts; a recipient sees the DING and confirms with one tap.
import { ArrowLeftOutlined, BellOutlined, CheckCircleFilled, PaperClipOutlined, ThunderboltFilled } from "@ant-design/icons";
import { Alert, App, Avatar, Button, Empty, Modal, Skeleton, Space, Spin, Tabs, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useMe } from "../../app/session";
import { useLanguage, useT } from "../../i18n";
import { useChat } from "../chat/ChatProvider";
import { avatarColour, avatarText } from "../directory/model";
import { formatDateTime } from "../settings/format";
import { AttemptsDrawer } from "./AttemptsDrawer";
import {
  channelKey,
  countdown,
  isDingConfirmed,
  type Ding,
  type DingConfirmedEvent,
  type Recipient,
  type RecipientTab,
} from "./model";

const PAGE = 50;
const TABS: readonly RecipientTab[] = ["unconfirmed", "confirmed"];

interface ListState {
  items: Recipient[];
  next: string | null;
  loading: boolean;
}

type Lists = Record<RecipientTab, ListState>;

const EMPTY_LISTS: Lists = {
  unconfirmed: { items: [], next: null, loading: true },
  confirmed: { items: [], next: null, loading: true },
};

/** The person moves from 未确认 to the top of 已确认 (whether or not their page was loaded). */
function moveConfirmed(lists: Lists, event: DingConfirmedEvent): Lists {
  const before = lists.unconfirmed.items.find((r) => r.membership_id === event.membership_id);
  if (lists.confirmed.items.some((r) => r.membership_id === event.membership_id)) return lists;
  const moved: Recipient = {
    membership_id: event.membership_id,
    name: event.name,
    delivered_at: before?.delivered_at ?? event.confirmed_at,
    held_until: null,
    confirmed_at: event.confirmed_at,
    last_reminded_at: before?.last_reminded_at ?? null,
  };
  return {
    unconfirmed: { ...lists.unconfirmed, items: lists.unconfirmed.items.filter((r) => r.membership_id !== event.membership_id) },
    confirmed: { ...lists.confirmed, items: [moved, ...lists.confirmed.items] },
  };
}

function secondsUntil(deadline: number): number {
  return Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
}

/** Seconds left until `deadline` (a Date.now() value), counted down once a second. */
function useSecondsLeft(deadline: number): number {
  const [seconds, setSeconds] = useState(() => secondsUntil(deadline));
  useEffect(() => {
    setSeconds(secondsUntil(deadline));
    if (deadline <= Date.now()) return;
    const timer = window.setInterval(() => setSeconds(secondsUntil(deadline)), 1000);
    return () => window.clearInterval(timer);
  }, [deadline]);
  return seconds;
}

function RecipientRow({ recipient, onOpen }: { recipient: Recipient; onOpen: () => void }) {
  const t = useT();
  const language = useLanguage();
  let state: string;
  if (recipient.confirmed_at) state = t("ding.detail.confirmedAt", { time: formatDateTime(language, recipient.confirmed_at) });
  else if (recipient.held_until) state = t("ding.detail.heldUntil", { time: formatDateTime(language, recipient.held_until) });
  else state = recipient.delivered_at ? t("ding.detail.delivered") : t("ding.detail.notDelivered");
  return (
    <button type="button" className="zt-ding-person" onClick={onOpen} data-testid="ding-recipient" data-member-id={recipient.membership_id}>
      <Avatar size={32} style={{ backgroundColor: avatarColour(recipient.membership_id), flex: "none", fontSize: 12 }}>
        {avatarText(recipient.name)}
      </Avatar>
      <span className="zt-ding-person-name">{recipient.name}</span>
      <span className={`zt-ding-person-state${recipient.held_until && !recipient.confirmed_at ? " is-held" : ""}`}>{state}</span>
    </button>
  );
}

function DingHeader({ ding }: { ding: Ding }) {
  const t = useT();
  const language = useLanguage();
  return (
    <div className="zt-ding-head">
      <Avatar size={44} style={{ backgroundColor: "#f5222d", flex: "none" }} icon={<ThunderboltFilled />} />
      <div className="zt-ding-head-main">
        <Typography.Title level={5} className="zt-ding-head-title">
          {ding.role === "sender" ? t("ding.sentTo", { count: ding.recipient_count }) : t("ding.from", { name: ding.sender_name })}
        </Typography.Title>
        <Space size={4} wrap>
          <Typography.Text type="secondary">{formatDateTime(language, ding.sent_at ?? ding.created_at)}</Typography.Text>
          <Tag color="blue">{t(channelKey(ding.channel))}</Tag>
          {ding.emergency && <Tag color="red">{t("ding.emergency")}</Tag>}
          {ding.status === "scheduled" && (
            <Tag color="gold">{t("ding.status.scheduled", { time: formatDateTime(language, ding.scheduled_at) })}</Tag>
          )}
          {ding.status === "cancelled" && <Tag>{t("ding.status.cancelled")}</Tag>}
          {ding.source_message_id && <Tag>{t("ding.fromMessage")}</Tag>}
        </Space>
      </div>
    </div>
  );
}

export function DingDetail({ dingId, onBack, onChanged }: { dingId: string; onBack?: () => void; onChanged: () => void }) {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const { subscribeEvents } = useChat();
  const myId = useMe().current_membership_id;
  const [ding, setDing] = useState<Ding | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [lists, setLists] = useState<Lists>(EMPTY_LISTS);
  const [counts, setCounts] = useState({ confirmed: 0, unconfirmed: 0 });
  const [tab, setTab] = useState<RecipientTab>("unconfirmed");
  const [attemptsFor, setAttemptsFor] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The server says how long until 再次提醒 is allowed; counted from when it said so, so the
  // client's clock does not matter.
  const [remindAt, setRemindAt] = useState(0);
  const wait = useSecondsLeft(remindAt);
  const show = useCallback((found: Ding) => {
    setDing(found);
    setRemindAt(Date.now() + (found.remind_wait_seconds ?? 0) * 1000);
  }, []);

  const loadPage = useCallback(
    async (which: RecipientTab, cursor: string | null) => {
      setLists((current) => ({ ...current, [which]: { ...current[which], loading: true } }));
      try {
        const page = await call(
          api.GET("/api/v1/ding/{ding_id}/recipients", {
            params: { path: { ding_id: dingId }, query: { tab: which, limit: PAGE, cursor } },
          }),
        );
        setCounts({ confirmed: page.confirmed_count, unconfirmed: page.unconfirmed_count });
        setLists((current) => ({
          ...current,
          [which]: { items: cursor ? [...current[which].items, ...page.items] : page.items, next: page.next_cursor, loading: false },
        }));
      } catch (thrown) {
        setError(errorMessage(thrown));
      }
    },
    [dingId],
  );

  const load = useCallback(async () => {
    try {
      const found = await call(api.GET("/api/v1/ding/{ding_id}", { params: { path: { ding_id: dingId } } }));
      show(found);
      setError(null);
      if (found.role === "sender") {
        setCounts({ confirmed: found.confirmed_count ?? 0, unconfirmed: found.recipient_count - (found.confirmed_count ?? 0) });
        await Promise.all(TABS.map((which) => loadPage(which, null)));
      }
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, [dingId, loadPage]);

  useEffect(() => {
    setDing(null);
    setLists(EMPTY_LISTS);
    setTab("unconfirmed");
    void load();
  }, [load]);

  useEffect(
    () =>
      subscribeEvents((event) => {
        if (event.type === "ding.updated" && event.ding_id === dingId) void load();
        if (!isDingConfirmed(event) || event.ding_id !== dingId) return;
        setCounts({ confirmed: event.confirmed_count, unconfirmed: event.unconfirmed_count });
        setLists((current) => moveConfirmed(current, event));
        setDing((current) => {
          if (current?.role === "sender") return { ...current, confirmed_count: event.confirmed_count };
          const mine = current?.role === "recipient" && event.membership_id === myId; // confirmed from the banner
          return mine ? { ...current, my_confirmed_at: event.confirmed_at } : current;
        });
      }),
    [subscribeEvents, dingId, load, myId],
  );

  const act = async (action: "remind" | "cancel" | "confirm") => {
    setBusy(true);
    try {
      const params = { params: { path: { ding_id: dingId } } };
      const changed = await call(
        action === "remind"
          ? api.POST("/api/v1/ding/{ding_id}/remind", params)
          : action === "cancel"
            ? api.POST("/api/v1/ding/{ding_id}/cancel", params)
            : api.POST("/api/v1/ding/{ding_id}/confirm", params),
      );
      show(changed);
      if (action === "remind") message.success(t("ding.detail.reminded"));
      if (action === "cancel") message.success(t("ding.detail.cancelled"));
      onChanged();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  if (error && !ding) return <Alert type="error" showIcon title={error} className="zt-ding-error" />;
  if (!ding) return <Skeleton active className="zt-ding-skeleton" />;

  const sender = ding.role === "sender";
  return (
    <div className="zt-ding-detail" data-testid="ding-detail" data-ding-id={ding.id} data-role={ding.role}>
      {onBack && (
        <Button type="link" icon={<ArrowLeftOutlined />} onClick={onBack} className="zt-ding-back">
          {t("ding.back")}
        </Button>
      )}
      <DingHeader ding={ding} />
      <div className="zt-ding-text" data-testid="ding-detail-text">{ding.text}</div>
      {ding.attachment && (
        <a className="zt-ding-file" href={`/api/v1/ding/${encodeURIComponent(ding.id)}/attachment`} download={ding.attachment.name}>
          <PaperClipOutlined /> {ding.attachment.name}
        </a>
      )}
      {!sender &&
        (ding.my_confirmed_at ? (
          <Alert
            type="success"
            showIcon
            icon={<CheckCircleFilled />}
            title={t("ding.detail.youConfirmed", { time: formatDateTime(language, ding.my_confirmed_at) })}
            data-testid="ding-confirmed-note"
          />
        ) : (
          <Button type="primary" danger size="large" block loading={busy} onClick={() => void act("confirm")} data-testid="ding-confirm">
            {t("ding.detail.confirm")}
          </Button>
        ))}
      {sender && (
        <>
          <Space className="zt-ding-actions" wrap>
            {ding.status === "sent" && (
              <Button
                icon={<BellOutlined />}
                disabled={wait > 0 || counts.unconfirmed === 0}
                loading={busy}
                onClick={() => void act("remind")}
                data-testid="ding-remind"
                data-wait={wait}
              >
                {wait > 0 ? t("ding.detail.remindIn", { time: countdown(wait) }) : t("ding.detail.remind")}
              </Button>
            )}
            {ding.status === "scheduled" && (
              <Button
                danger
                loading={busy}
                onClick={() =>
                  Modal.confirm({ title: t("ding.detail.cancelConfirm"), onOk: () => act("cancel") })
                }
                data-testid="ding-cancel"
              >
                {t("ding.detail.cancel")}
              </Button>
            )}
          </Space>
          <Tabs
            activeKey={tab}
            onChange={(key) => setTab(key as RecipientTab)}
            items={TABS.map((which) => ({
              key: which,
              label: (
                <span data-testid={`ding-tab-${which}`} data-count={counts[which]}>
                  {t(which === "unconfirmed" ? "ding.detail.unconfirmed" : "ding.detail.confirmed", { count: counts[which] })}
                </span>
              ),
              children: (
                <div className="zt-ding-people-list" data-testid={`ding-list-${which}`}>
                  {lists[which].items.map((recipient) => (
                    <RecipientRow key={recipient.membership_id} recipient={recipient} onOpen={() => setAttemptsFor(recipient.membership_id)} />
                  ))}
                  {lists[which].loading && <div className="zt-ding-loading"><Spin size="small" /></div>}
                  {!lists[which].loading && lists[which].items.length === 0 && (
                    <Empty
                      image={Empty.PRESENTED_IMAGE_SIMPLE}
                      description={t(which === "unconfirmed" ? "ding.detail.noneUnconfirmed" : "ding.detail.noneConfirmed")}
                    />
                  )}
                  {!lists[which].loading && lists[which].next && (
                    <Button type="link" block onClick={() => void loadPage(which, lists[which].next)}>
                      {t("ding.loadMore")}
                    </Button>
                  )}
                </div>
              ),
            }))}
          />
          <AttemptsDrawer dingId={ding.id} membershipId={attemptsFor} onClose={() => setAttemptsFor(null)} />
        </>
      )}
    </div>
  );
}
