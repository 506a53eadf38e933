// 我收到的 / 我发出的: DINGs newest first, a page at a time; the received ones show whether the
// person confirmed, the sent ones how many of their people did.
import { ThunderboltFilled } from "@ant-design/icons";
import { Alert, Button, Empty, Skeleton, Tag } from "antd";

import { useLanguage, useT } from "../../i18n";
import { formatDateTime } from "../settings/format";
import { channelKey, type Ding } from "./model";

export type ListKind = "received" | "sent";

export interface ListState {
  items: Ding[];
  next: string | null;
  loading: boolean;
  error: string | null;
}

function Status({ ding }: { ding: Ding }) {
  const t = useT();
  const language = useLanguage();
  if (ding.status === "scheduled") return <Tag color="gold">{t("ding.status.scheduled", { time: formatDateTime(language, ding.scheduled_at) })}</Tag>;
  if (ding.status === "cancelled") return <Tag>{t("ding.status.cancelled")}</Tag>;
  if (ding.role === "recipient") {
    return ding.my_confirmed_at ? <Tag color="green">{t("ding.mine.confirmed")}</Tag> : <Tag color="red">{t("ding.mine.unconfirmed")}</Tag>;
  }
  const confirmed = ding.confirmed_count ?? 0;
  return (
    <Tag color={confirmed === ding.recipient_count ? "green" : "orange"} data-testid="ding-row-progress">
      {t("ding.confirmedOf", { confirmed, total: ding.recipient_count })}
    </Tag>
  );
}

export function DingList({
  kind,
  state,
  activeId,
  onOpen,
  onMore,
}: {
  kind: ListKind;
  state: ListState;
  activeId: string | null;
  onOpen: (id: string) => void;
  onMore: () => void;
}) {
  const t = useT();
  const language = useLanguage();
  if (state.error) return <Alert type="error" showIcon title={state.error} />;
  if (state.loading && state.items.length === 0) return <Skeleton active className="zt-ding-skeleton" />;
  if (state.items.length === 0) {
    return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t(kind === "received" ? "ding.empty.received" : "ding.empty.sent")} />;
  }
  return (
    <div className="zt-ding-list" data-testid={`ding-list-${kind}`}>
      {state.items.map((ding) => (
        <button
          key={ding.id}
          type="button"
          className={`zt-ding-row${ding.id === activeId ? " is-active" : ""}${ding.role === "recipient" && !ding.my_confirmed_at ? " is-unconfirmed" : ""}`}
          onClick={() => onOpen(ding.id)}
          data-testid="ding-row"
          data-ding-id={ding.id}
        >
          <span className="zt-ding-row-icon">
            <ThunderboltFilled />
          </span>
          <span className="zt-ding-row-main">
            <span className="zt-ding-row-top">
              <span className="zt-ding-row-name">
                {kind === "received" ? ding.sender_name : t("ding.sentTo", { count: ding.recipient_count })}
              </span>
              <span className="zt-ding-row-time">{formatDateTime(language, ding.sent_at ?? ding.scheduled_at ?? ding.created_at)}</span>
            </span>
            <span className="zt-ding-row-text">{ding.text}</span>
            <span className="zt-ding-row-tags">
              {ding.emergency && <Tag color="red">{t("ding.emergency")}</Tag>}
              <Tag>{t(channelKey(ding.channel))}</Tag>
              <Status ding={ding} />
            </span>
          </span>
        </button>
      ))}
      {state.next && (
        <Button type="link" block loading={state.loading} onClick={onMore}>
          {t("ding.loadMore")}
        </Button>
      )}
    </div>
  );
}
