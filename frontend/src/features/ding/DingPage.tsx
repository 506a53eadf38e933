// DING: 我收到的 / 我发出的 beside the open DING; on a phone, two screens. /ding/new opens the form
// (with what "DING 一下" in chat passed along as the location's state).
import { PlusOutlined, ThunderboltOutlined } from "@ant-design/icons";
import { Button, Segmented } from "antd";
import { useCallback, useEffect, useState } from "react";
import { useLocation, useNavigate, useParams, useSearchParams } from "react-router";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { useChat } from "../chat/ChatProvider";
import { DingComposer, type ComposerStart } from "./DingComposer";
import { DingDetail } from "./DingDetail";
import { DingList, type ListKind, type ListState } from "./DingList";
import "./ding.css";
import { isDingConfirmed, isDingNew } from "./model";

const PAGE = 20;
const EMPTY: ListState = { items: [], next: null, loading: true, error: null };

function useDingList(kind: ListKind) {
  const [state, setState] = useState<ListState>(EMPTY);
  const load = useCallback(
    async (cursor: string | null) => {
      setState((current) => ({ ...current, loading: true }));
      try {
        const query = { limit: PAGE, cursor };
        const page = await call(
          kind === "sent"
            ? api.GET("/api/v1/ding/sent", { params: { query } })
            : api.GET("/api/v1/ding/received", { params: { query } }),
        );
        setState((current) => ({
          items: cursor ? [...current.items, ...page.items] : page.items,
          next: page.next_cursor,
          loading: false,
          error: null,
        }));
      } catch (thrown) {
        setState((current) => ({ ...current, loading: false, error: errorMessage(thrown) }));
      }
    },
    [kind],
  );
  useEffect(() => {
    void load(null);
  }, [load]);
  const reload = useCallback(() => void load(null), [load]);
  return { state, reload, more: () => void load(state.next) };
}

export default function DingPage() {
  const t = useT();
  const phone = useIsPhone();
  const navigate = useNavigate();
  const location = useLocation();
  const { dingId } = useParams();
  const [search, setSearch] = useSearchParams();
  const { subscribeEvents } = useChat();
  const kind: ListKind = search.get("tab") === "sent" ? "sent" : "received";
  const received = useDingList("received");
  const sent = useDingList("sent");
  const list = kind === "sent" ? sent : received;
  const composing = dingId === "new";
  const openId = dingId && !composing ? dingId : null;
  const start = composing ? ((location.state as ComposerStart | null) ?? null) : null;
  const { reload: reloadReceived } = received;
  const { reload: reloadSent } = sent;

  useEffect(
    () =>
      subscribeEvents((event) => {
        if (isDingNew(event)) reloadReceived();
        if (isDingConfirmed(event)) {
          reloadReceived();
          reloadSent();
        }
        if (event.type === "ding.updated") reloadSent();
      }),
    [subscribeEvents, reloadReceived, reloadSent],
  );

  const open = (id: string) => navigate(`/ding/${id}${kind === "sent" ? "?tab=sent" : ""}`);
  const changed = () => {
    reloadSent();
    reloadReceived();
  };

  const side = (
    <div className="zt-ding-side" data-testid="ding-side">
      <div className="zt-ding-side-head">
        <Segmented
          value={kind}
          onChange={(value) => setSearch(value === "sent" ? { tab: "sent" } : {})}
          options={[
            { value: "received", label: <span data-testid="ding-tab-received">{t("ding.tab.received")}</span> },
            { value: "sent", label: <span data-testid="ding-tab-sent">{t("ding.tab.sent")}</span> },
          ]}
        />
        <Button type="primary" danger icon={<PlusOutlined />} onClick={() => navigate("/ding/new")} data-testid="ding-new">
          {t("ding.new")}
        </Button>
      </div>
      <DingList kind={kind} state={list.state} activeId={openId} onOpen={open} onMore={list.more} />
    </div>
  );

  const composer = (
    <DingComposer
      open={composing}
      start={start}
      onClose={() => (location.key === "default" ? navigate("/ding") : navigate(-1))}
      onSent={(ding) => {
        changed();
        navigate(`/ding/${ding.id}?tab=sent`, { replace: true });
      }}
    />
  );

  if (phone) {
    return (
      <div className="zt-ding-phone" data-testid="page-ding">
        {openId ? <DingDetail key={openId} dingId={openId} onBack={() => navigate(`/ding${kind === "sent" ? "?tab=sent" : ""}`)} onChanged={changed} /> : side}
        {composer}
      </div>
    );
  }
  return (
    <div className="zt-ding" data-testid="page-ding">
      <aside className="zt-ding-aside">{side}</aside>
      <section className="zt-ding-main">
        {openId ? (
          <DingDetail key={openId} dingId={openId} onChanged={changed} />
        ) : (
          <div className="zt-ding-empty">
            <ThunderboltOutlined className="zt-ding-empty-icon" />
            <div>{t("ding.pick")}</div>
          </div>
        )}
      </section>
      {composer}
    </div>
  );
}
