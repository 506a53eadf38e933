// 管理后台 → 工作通知: the notices sent, each with its progress while it is being sent and 已读 N /
// 未读 M after; 发工作通知 opens the compose form, a row opens its detail.
import { NotificationOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Progress, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useRef, useState, type HTMLAttributes } from "react";

import { api, call } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT, type MessageKey } from "../../i18n";
import { formatDateTime, problemText } from "../admin/shared";
import type { TreeIndex, TreeItem } from "../directory/model";
import { ComposeDrawer, type SentNotice } from "./ComposeDrawer";
import { DetailDrawer } from "./DetailDrawer";
import type { NoticeSummary } from "./model";
import { StatusTag } from "./StatusTag";
import { useNewestFirst } from "./useNewestFirst";
import "./worknotices.css";

const POLL_MS = 1000;
const PAGE = 50; // notices per request; older ones load on demand

const fetchSent = (before?: string) =>
  call(api.GET("/api/v1/org/work-notices", { params: { query: before ? { limit: PAGE, before } : { limit: PAGE } } }));

function Counts({ notice }: { notice: NoticeSummary }) {
  const t = useT();
  return (
    <Typography.Text data-testid="wn-counts" data-read={notice.read} data-unread={notice.unread} style={{ whiteSpace: "nowrap" }}>
      {t("worknotices.counts", { read: notice.read, unread: notice.unread })}
    </Typography.Text>
  );
}

/** The sending's progress bar (live while sending, full once sent); a recalled notice shows its tag. */
function SendProgress({ notice }: { notice: NoticeSummary }) {
  const t = useT();
  if (notice.status === "recalled") return <StatusTag status={notice.status} />;
  const sending = notice.status === "sending";
  return (
    <div className="zt-wn-progress" data-testid="wn-progress" data-percent={notice.percent} data-status={notice.status}>
      <Progress percent={notice.percent} size="small" status={sending ? "active" : "success"} />
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {sending
          ? notice.total
            ? t("worknotices.progress", { done: notice.done, total: notice.total })
            : t("worknotices.progressCounting")
          : t("worknotices.sentTo", { total: notice.total })}
      </Typography.Text>
    </div>
  );
}

export function WorkNoticesSection({ index, wholeOrg }: { index: TreeIndex<TreeItem>; wholeOrg: boolean }) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const {
    items: notices,
    setItems: setNotices,
    error,
    more,
    loadingMore,
    loadMore,
    reload: load,
  } = useNewestFirst(fetchSent, PAGE, problemText);
  const [composing, setComposing] = useState(false);
  const [opened, setOpened] = useState<string | null>(null);
  /** Notices followed live because they were sending (kept until they report 100 %). */
  const [watching, setWatching] = useState<string[]>([]);

  const merge = useCallback((notice: NoticeSummary) => {
    setNotices((current) => {
      if (!current) return [notice];
      const at = current.findIndex((n) => n.id === notice.id);
      if (at < 0) return [notice, ...current];
      const next = current.slice();
      next[at] = { ...next[at]!, ...notice };
      return next;
    });
  }, []);

  // Follow every notice still being sent, once a second, until it is sent (or recalled).
  useEffect(() => {
    const sending = (notices ?? []).filter((n) => n.status === "sending").map((n) => n.id);
    setWatching((current) => (sending.every((id) => current.includes(id)) ? current : Array.from(new Set([...current, ...sending]))));
  }, [notices]);
  const watchingRef = useRef(watching);
  watchingRef.current = watching;
  useEffect(() => {
    if (watching.length === 0) return;
    let stopped = false;
    const timer = window.setInterval(() => {
      for (const id of watchingRef.current) {
        call(api.GET("/api/v1/org/work-notices/{work_notice_id}", { params: { path: { work_notice_id: id } } }))
          .then((next) => {
            if (stopped) return;
            merge(next);
            if (next.status !== "sending") setWatching((current) => current.filter((w) => w !== id));
          })
          .catch(() => {
            if (!stopped) setWatching((current) => current.filter((w) => w !== id));
          });
      }
    }, POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [watching.length, merge]);

  const sent = (notice: SentNotice) => {
    setComposing(false);
    message.success(t("worknotices.sent"));
    merge(notice);
  };

  const columns: ColumnsType<NoticeSummary> = [
    {
      title: t("worknotices.col.notice"),
      key: "notice",
      render: (_: unknown, notice) => (
        <Space orientation="vertical" size={2} style={{ minWidth: 0, width: "100%" }}>
          <Typography.Text className="zt-wn-row-title" ellipsis={{ tooltip: notice.title }} type={notice.status === "recalled" ? "secondary" : undefined}>
            {notice.title || t("worknotices.status.recalled")}
          </Typography.Text>
          <Space size={4} wrap>
            <Tag bordered={false}>{t(`worknotices.type.${notice.msgtype}` as MessageKey)}</Tag>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {notice.sender_name || t("worknotices.admin")}
              {phone && ` · ${formatDateTime(language, notice.created_at)}`}
            </Typography.Text>
          </Space>
          {phone && (
            <Flex gap={8} align="center" wrap>
              <SendProgress notice={notice} />
              {notice.status !== "sending" && <Counts notice={notice} />}
            </Flex>
          )}
        </Space>
      ),
    },
    {
      title: t("worknotices.col.time"),
      dataIndex: "created_at",
      width: 170,
      responsive: ["md"],
      render: (value: string) => formatDateTime(language, value),
    },
    {
      title: t("worknotices.col.status"),
      key: "status",
      width: 190,
      responsive: ["md"],
      render: (_: unknown, notice) => <SendProgress notice={notice} />,
    },
    {
      title: t("worknotices.col.reads"),
      key: "reads",
      width: 160,
      responsive: ["md"],
      render: (_: unknown, notice) => <Counts notice={notice} />,
    },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 64 : 80,
      render: (_: unknown, notice) => (
        <Button
          type="link"
          size="small"
          onClick={(event) => {
            event.stopPropagation();
            setOpened(notice.id);
          }}
          data-testid="wn-open"
        >
          {t("worknotices.detail")}
        </Button>
      ),
    },
  ];

  return (
    <Card
      size="small"
      title={
        <span>
          <NotificationOutlined /> {t("worknotices.title")}
        </span>
      }
      extra={
        <Space size={4}>
          <Button type="text" icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("worknotices.refresh")} />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setComposing(true)} data-testid="wn-compose-open">
            {t("worknotices.compose")}
          </Button>
        </Space>
      }
      data-testid="admin-work-notices"
    >
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("worknotices.help")}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Table<NoticeSummary>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={notices ?? []}
        loading={notices === null && !error}
        pagination={false} // pages of 50 from the server, the older ones under 加载更早的通知
        locale={{ emptyText: t("worknotices.empty") }}
        onRow={(notice) =>
          ({
          onClick: () => setOpened(notice.id),
          style: { cursor: "pointer" },
          "data-testid": "wn-row",
          "data-status": notice.status,
        }) as HTMLAttributes<HTMLElement>}
        data-testid="wn-table"
      />
      {more && (
        <Flex justify="center" style={{ marginTop: 12 }}>
          <Button onClick={() => void loadMore()} loading={loadingMore} data-testid="wn-more">
            {t("worknotices.more")}
          </Button>
        </Flex>
      )}
      <ComposeDrawer open={composing} onClose={() => setComposing(false)} onSent={sent} index={index} wholeOrg={wholeOrg} />
      <DetailDrawer noticeId={opened} onClose={() => setOpened(null)} onChanged={merge} />
    </Card>
  );
}
