// One work notice as its sender follows it: the message, sending progress, who has read it and who
// has not (paged, by name), the ids that named nobody, and 撤回.
import { ReloadOutlined, RollbackOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Avatar,
  Button,
  Descriptions,
  Drawer,
  Empty,
  Flex,
  List,
  Popconfirm,
  Progress,
  Skeleton,
  Statistic,
  Tabs,
  Typography,
} from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime, problemText } from "../admin/shared";
import { avatarColour, avatarText } from "../directory/model";
import { MessageView } from "./MessageView";
import type { NoticeDetail, NoticeSummary, RecipientPage } from "./model";
import { StatusTag } from "./StatusTag";

const PAGE = 20;
const POLL_MS = 1000;

function Recipients({ noticeId, read, total, version }: { noticeId: string; read: boolean; total: number; version: number }) {
  const t = useT();
  const language = useLanguage();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<RecipientPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    call(
      api.GET("/api/v1/org/work-notices/{work_notice_id}/recipients", {
        params: { path: { work_notice_id: noticeId }, query: { read, offset: (page - 1) * PAGE, limit: PAGE } },
      }),
    )
      .then((answer) => {
        if (stopped) return;
        setData(answer);
        setError(null);
      })
      .catch((thrown: unknown) => !stopped && setError(problemText(thrown)));
    return () => {
      stopped = true;
    };
  }, [noticeId, read, page, version]);

  if (error) return <Alert type="error" showIcon title={error} />;
  return (
    <List
      className="zt-wn-people"
      size="small"
      loading={data === null}
      dataSource={data?.items ?? []}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("worknotices.nobody")} /> }}
      pagination={
        (data?.total ?? total) > PAGE
          ? { current: page, pageSize: PAGE, total: data?.total ?? total, onChange: setPage, size: "small", showSizeChanger: false }
          : false
      }
      renderItem={(person) => (
        <List.Item data-testid={read ? "wn-reader" : "wn-nonreader"}>
          <Flex align="center" gap={10} style={{ minWidth: 0 }}>
            <Avatar size={28} style={{ background: avatarColour(person.membership_id), flex: "none" }}>
              {avatarText(person.name)}
            </Avatar>
            <Typography.Text ellipsis>{person.name}</Typography.Text>
          </Flex>
          {person.read_at && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("worknotices.readAt", { time: formatDateTime(language, person.read_at) })}
            </Typography.Text>
          )}
        </List.Item>
      )}
    />
  );
}

export function DetailDrawer({
  noticeId,
  onClose,
  onChanged,
}: {
  noticeId: string | null;
  onClose: () => void;
  /** The notice as last seen here (progress, counts, recall), for the list behind. */
  onChanged: (notice: NoticeSummary) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [detail, setDetail] = useState<NoticeDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<"unread" | "read">("unread");
  const [version, setVersion] = useState(0);
  const [recalling, setRecalling] = useState(false);

  const load = useCallback(async (id: string) => {
    const next = await call(api.GET("/api/v1/org/work-notices/{work_notice_id}", { params: { path: { work_notice_id: id } } }));
    setDetail(next);
    setError(null);
    onChanged(next);
    return next;
  }, [onChanged]);

  // Open: load it, then every second while it is still being sent.
  useEffect(() => {
    setDetail(null);
    setError(null);
    setTab("unread");
    if (!noticeId) return;
    let stopped = false;
    let first = true;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const next = await load(noticeId);
        if (stopped) return;
        if (first) setTab(next.unread > 0 || next.read === 0 ? "unread" : "read");
        first = false;
        setVersion((v) => v + 1);
        if (next.status === "sending") timer = window.setTimeout(() => void poll(), POLL_MS);
      } catch (thrown) {
        if (!stopped) setError(problemText(thrown));
      }
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [noticeId, load]);

  const refresh = async () => {
    if (!noticeId) return;
    try {
      await load(noticeId);
      setVersion((v) => v + 1);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  };

  const recall = async () => {
    if (!noticeId) return;
    setRecalling(true);
    try {
      await call(api.POST("/api/v1/org/work-notices/{work_notice_id}/recall", { params: { path: { work_notice_id: noticeId } } }));
      message.success(t("worknotices.recalledToast"));
      await refresh();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setRecalling(false);
    }
  };

  const sender = detail ? detail.sender_name || t("worknotices.admin") : "";
  return (
    <Drawer
      open={noticeId !== null}
      onClose={onClose}
      title={detail?.title || t("worknotices.detailTitle")}
      size={phone ? "100%" : 560}
      destroyOnHidden
      extra={
        <Button type="text" icon={<ReloadOutlined />} onClick={() => void refresh()} aria-label={t("worknotices.refresh")} />
      }
      footer={
        detail && detail.status !== "recalled" ? (
          <Flex justify="flex-end">
            <Popconfirm
              title={t("worknotices.recallConfirm")}
              okButtonProps={{ danger: true }}
              onConfirm={() => recall()}
              styles={{ root: { maxWidth: 320 } }}
            >
              <Button danger icon={<RollbackOutlined />} loading={recalling} data-testid="wn-recall">
                {t("worknotices.recall")}
              </Button>
            </Popconfirm>
          </Flex>
        ) : null
      }
      data-testid="wn-detail"
    >
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      {!detail ? (
        !error && <Skeleton active />
      ) : (
        <div data-status={detail.status} data-testid="wn-detail-body">
          <div className="zt-wn-detail-section">
            <Descriptions
              size="small"
              column={phone ? 1 : 2}
              items={[
                { key: "status", label: t("worknotices.col.status"), children: <StatusTag status={detail.status} /> },
                { key: "sender", label: t("worknotices.sender"), children: sender },
                { key: "time", label: t("worknotices.col.time"), children: formatDateTime(language, detail.created_at) },
                { key: "task", label: t("worknotices.taskId"), children: <Typography.Text copyable>{String(detail.task_id)}</Typography.Text> },
              ]}
            />
          </div>
          {detail.status === "sending" && (
            <div className="zt-wn-detail-section" data-testid="wn-detail-progress">
              <Progress percent={detail.percent} status="active" />
              <Typography.Text type="secondary">
                {detail.total ? t("worknotices.progress", { done: detail.done, total: detail.total }) : t("worknotices.progressCounting")}
              </Typography.Text>
            </div>
          )}
          <div className="zt-wn-detail-section">
            <Flex gap={32} wrap>
              <Statistic title={t("worknotices.read")} value={detail.read} data-testid="wn-detail-read" />
              <Statistic title={t("worknotices.unread")} value={detail.unread} data-testid="wn-detail-unread" />
              <Statistic title={t("worknotices.total")} value={detail.total} />
            </Flex>
          </div>
          {detail.invalid_user_ids.length > 0 && (
            <Alert
              className="zt-wn-detail-section"
              type="warning"
              showIcon
              title={t("worknotices.invalidUsers", { ids: detail.invalid_user_ids.join("、") })}
              data-testid="wn-invalid-users"
            />
          )}
          {detail.invalid_department_ids.length > 0 && (
            <Alert
              className="zt-wn-detail-section"
              type="warning"
              showIcon
              title={t("worknotices.invalidDepartments", { ids: detail.invalid_department_ids.join("、") })}
              data-testid="wn-invalid-departments"
            />
          )}
          <div className="zt-wn-detail-section zt-wn-detail-msg">
            {detail.msg ? (
              <MessageView message={detail.msg} />
            ) : (
              <span className="zt-wn-recalled" data-testid="wn-detail-recalled">
                <RollbackOutlined />
                <span>{t("worknotices.recalledContent")}</span>
              </span>
            )}
          </div>
          <div className="zt-wn-detail-section">
            <Tabs
              activeKey={tab}
              onChange={(key) => setTab(key as "unread" | "read")}
              items={[
                {
                  key: "unread",
                  label: <span data-testid="wn-tab-unread">{t("worknotices.unreadTab", { count: detail.unread })}</span>,
                  children: <Recipients noticeId={detail.id} read={false} total={detail.unread} version={version} />,
                },
                {
                  key: "read",
                  label: <span data-testid="wn-tab-read">{t("worknotices.readTab", { count: detail.read })}</span>,
                  children: <Recipients noticeId={detail.id} read total={detail.read} version={version} />,
                },
              ]}
            />
          </div>
        </div>
      )}
    </Drawer>
  );
}
