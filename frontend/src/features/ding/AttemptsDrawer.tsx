// Every delivery attempt to one recipient and its result: "应用内已送达", "电话未接听", "短信已发送" …
import { Alert, Drawer, Empty, Spin, Tag, Timeline, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { formatDateTime } from "../settings/format";
import { attemptKey, type Attempt, type RecipientAttempts } from "./model";

function colour(attempt: Attempt): string {
  if (attempt.result === "failed" || attempt.result === "unanswered") return "red";
  if (attempt.result === "held_quiet_hours" || attempt.result === "queued") return "gray";
  return attempt.result === "sent" && attempt.channel === "call" ? "blue" : "green";
}

export function AttemptsDrawer({
  dingId,
  membershipId,
  onClose,
}: {
  dingId: string;
  membershipId: string | null;
  onClose: () => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [found, setFound] = useState<RecipientAttempts | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setFound(null);
    setError(null);
    if (!membershipId) return;
    call(
      api.GET("/api/v1/ding/{ding_id}/recipients/{membership_id}/attempts", {
        params: { path: { ding_id: dingId, membership_id: membershipId } },
      }),
    ).then(setFound, (thrown: unknown) => setError(errorMessage(thrown)));
  }, [dingId, membershipId]);

  let body;
  if (error) body = <Alert type="error" showIcon title={error} />;
  else if (!found) body = <div className="zt-ding-loading"><Spin /></div>;
  else if (found.items.length === 0) body = <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("ding.attempts.none")} />;
  else {
    body = (
      <>
        {found.held_until && (
          <Alert
            type="info"
            showIcon
            className="zt-ding-held"
            title={t("ding.attempts.heldUntil", { time: formatDateTime(language, found.held_until) })}
          />
        )}
        <Timeline
          items={found.items.map((attempt, index) => ({
            key: index,
            color: colour(attempt),
            content: (
              <div className="zt-ding-attempt" data-testid="ding-attempt" data-channel={attempt.channel} data-result={attempt.result}>
                <div>
                  <Typography.Text strong>{t(attemptKey(attempt))}</Typography.Text>
                  {attempt.round_number > 1 && <Tag className="zt-ding-round">{t("ding.attempts.round", { round: attempt.round_number })}</Tag>}
                </div>
                <Typography.Text type="secondary" className="zt-ding-attempt-time">
                  {formatDateTime(language, attempt.finished_at ?? attempt.attempted_at ?? attempt.created_at)}
                  {attempt.detail && ` · ${attempt.detail}`}
                </Typography.Text>
              </div>
            ),
          }))}
        />
      </>
    );
  }

  return (
    <Drawer
      open={membershipId !== null}
      onClose={onClose}
      placement={phone ? "bottom" : "right"}
      size={phone ? "70%" : 420}
      title={found ? t("ding.attempts.title", { name: found.name }) : " "}
      destroyOnHidden
    >
      <div data-testid="ding-attempts">{body}</div>
    </Drawer>
  );
}
