// The work notices a person received: the list at /work-notices, one notice at /work-notices/{id}
// (where the bell leads). Opening one marks it read, here and under the bell.
import { ArrowLeftOutlined, NotificationOutlined, RollbackOutlined } from "@ant-design/icons";
import { Alert, Avatar, Badge, Button, Card, Empty, Flex, List, Result, Skeleton, Typography } from "antd";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api, call, errorMessage, isApiError } from "../../api/client";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime } from "../settings/format";
import { MessageView } from "./MessageView";
import { parseMessage, summaryOf, type Received } from "./model";
import { useNewestFirst } from "./useNewestFirst";
import "./worknotices.css";

const PAGE = 50; // notices per request; older ones load on demand

const fetchReceived = (before?: string) =>
  call(api.GET("/api/v1/work-notices", { params: { query: before ? { limit: PAGE, before } : { limit: PAGE } } }));

function SenderAvatar() {
  return (
    <Avatar size={36} style={{ background: "#1677ff", flex: "none" }} icon={<NotificationOutlined />} />
  );
}

function ReceivedList() {
  const t = useT();
  const language = useLanguage();
  const navigate = useNavigate();
  const { items, error, more, loadingMore, loadMore } = useNewestFirst(fetchReceived, PAGE, errorMessage);

  return (
    <div className="zt-wn-page" data-testid="page-work-notices">
      <Typography.Title level={4} className="zt-page-title">
        {t("worknotices.mine")}
      </Typography.Title>
      <Card variant="borderless" styles={{ body: { padding: "4px 16px" } }}>
        {error && <Alert type="error" showIcon title={error} style={{ margin: "12px 0" }} />}
        <List
          loading={items === null && !error}
          dataSource={items ?? []}
          locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("worknotices.mineEmpty")} /> }}
          renderItem={(item) => {
            const unread = !item.read_at && !item.recalled;
            return (
              <List.Item onClick={() => navigate(`/work-notices/${item.id}`)} style={{ cursor: "pointer" }} data-testid="wn-received-item">
                <div className={`zt-wn-item${unread ? " is-unread" : ""}`}>
                  <Badge dot={unread} offset={[-4, 4]}>
                    <SenderAvatar />
                  </Badge>
                  <div className="zt-wn-item-main">
                    <div>
                      <Typography.Text className="zt-wn-item-title" ellipsis type={item.recalled ? "secondary" : undefined}>
                        {item.recalled ? t("worknotices.recalled") : summaryOf(parseMessage(item.msg)) || t("worknotices.title")}
                      </Typography.Text>
                    </div>
                    <div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {item.sender_name || t("worknotices.admin")} · {formatDateTime(language, item.created_at)}
                      </Typography.Text>
                    </div>
                  </div>
                </div>
              </List.Item>
            );
          }}
        />
        {more && (
          <Flex justify="center" style={{ padding: "8px 0 12px" }}>
            <Button onClick={() => void loadMore()} loading={loadingMore} data-testid="wn-received-more">
              {t("worknotices.more")}
            </Button>
          </Flex>
        )}
      </Card>
    </div>
  );
}

function ReceivedNotice({ id }: { id: string }) {
  const t = useT();
  const language = useLanguage();
  const [notice, setNotice] = useState<Received | null>(null);
  const [error, setError] = useState<{ missing: boolean; text: string } | null>(null);

  useEffect(() => {
    let stopped = false;
    setNotice(null);
    setError(null);
    const path = { params: { path: { work_notice_id: id } } };
    call(api.GET("/api/v1/work-notices/{work_notice_id}", path))
      .then(async (found) => {
        if (stopped) return;
        setNotice(found);
        if (found.recalled || found.read_at) return;
        // Shown: it counts as read (the sender's 已读, and the bell's notice with it).
        try {
          const read = await call(api.POST("/api/v1/work-notices/{work_notice_id}/read", path));
          if (!stopped) setNotice(read);
        } catch {
          // still shown; it counts as read the next time it opens
        }
      })
      .catch((thrown: unknown) => {
        if (!stopped) setError({ missing: isApiError(thrown, "not_found"), text: errorMessage(thrown) });
      });
    return () => {
      stopped = true;
    };
  }, [id]);

  const message = notice ? parseMessage(notice.msg) : null;
  return (
    <div className="zt-wn-page" data-testid="page-work-notice">
      <Link to="/work-notices" className="zt-wn-page-back" data-testid="wn-back">
        <ArrowLeftOutlined /> {t("worknotices.back")}
      </Link>
      <Typography.Title level={4} className="zt-page-title">
        {notice && !notice.recalled ? summaryOf(message) || t("worknotices.title") : t("worknotices.title")}
      </Typography.Title>
      <Card variant="borderless">
        {error ? (
          error.missing ? (
            <Result status="404" subTitle={t("worknotices.notFound")} />
          ) : (
            <Alert type="error" showIcon title={error.text} />
          )
        ) : !notice ? (
          <Skeleton active />
        ) : (
          <>
            <div className="zt-wn-page-meta">
              <SenderAvatar />
              <div className="zt-wn-page-meta-text">
                <Typography.Text strong>{notice.sender_name || t("worknotices.admin")}</Typography.Text>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {formatDateTime(language, notice.created_at)}
                </Typography.Text>
              </div>
            </div>
            {notice.recalled || !notice.msg ? (
              <Typography.Text type="secondary" className="zt-wn-recalled" data-testid="wn-recalled">
                <RollbackOutlined />
                <span>{t("worknotices.recalled")}</span>
              </Typography.Text>
            ) : (
              <MessageView message={notice.msg} />
            )}
          </>
        )}
      </Card>
    </div>
  );
}

/** /work-notices and /work-notices/:workNoticeId. */
export default function ReceivedPage() {
  const { workNoticeId } = useParams();
  return workNoticeId ? <ReceivedNotice id={workNoticeId} /> : <ReceivedList />;
}
