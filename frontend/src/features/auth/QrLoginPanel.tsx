import { CheckCircleFilled, ReloadOutlined } from "@ant-design/icons";
import { Button, QRCode, Typography } from "antd";
import { useCallback, useEffect, useRef, useState } from "react";

import { api, call, errorMessage, type QrStatus, type ResponseOf } from "../../api/client";
import { useSession } from "../../app/session";
import { useT } from "../../i18n";

type QrTicket = ResponseOf<"/api/v1/auth/qr", "post">;

const POLL_MS = 1500;
const AUTO_REFRESHES = 5; // then wait for a click, so an idle tab does not mint codes forever

/** Web login by QR: shows a one-time code that a logged-in client confirms, polling until done. */
export function QrLoginPanel() {
  const t = useT();
  const { completeLoginStep } = useSession();
  const [ticket, setTicket] = useState<QrTicket | null>(null);
  const [status, setStatus] = useState<QrStatus | "loading">("loading");
  const [error, setError] = useState<string | null>(null);
  const [polls, setPolls] = useState(0); // counts answers, so an unchanged status polls again
  const refreshes = useRef(0);
  const alive = useRef(true);

  const start = useCallback(async () => {
    setStatus("loading");
    setError(null);
    try {
      const created = await call(api.POST("/api/v1/auth/qr"));
      if (!alive.current) return;
      setTicket(created);
      setStatus("pending");
    } catch (thrown) {
      if (!alive.current) return;
      setError(errorMessage(thrown));
      setStatus("expired");
    }
  }, []);

  useEffect(() => {
    alive.current = true;
    void start();
    return () => {
      alive.current = false;
    };
  }, [start]);

  useEffect(() => {
    if (!ticket || (status !== "pending" && status !== "scanned")) return;
    const timer = window.setTimeout(async () => {
      try {
        const answer = await call(
          api.GET("/api/v1/auth/qr/{qr_id}", { params: { path: { qr_id: ticket.id }, query: { secret: ticket.poll_secret } } }),
          { quietAuth: true },
        );
        if (!alive.current) return;
        if (answer.status === "ok") {
          await completeLoginStep("ok");
          return;
        }
        if (answer.status === "expired" && refreshes.current < AUTO_REFRESHES) {
          refreshes.current += 1;
          void start();
          return;
        }
        setStatus(answer.status);
        setPolls((count) => count + 1);
      } catch (thrown) {
        if (!alive.current) return;
        setError(errorMessage(thrown));
        setStatus("expired");
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [ticket, status, polls, start, completeLoginStep]);

  const manualRefresh = () => {
    refreshes.current = 0;
    void start();
  };
  const qrStatus = status === "loading" ? "loading" : status === "scanned" ? "scanned" : status === "pending" || status === "ok" ? "active" : "expired";
  const statusText =
    status === "cancelled"
        ? t("login.qr.cancelled")
        : status === "expired"
          ? error ?? t("login.qr.expired")
          : null;

  return (
    <div className="zt-qr-box" data-testid="qr-login" data-status={status}>
      <QRCode
        value={ticket?.qr_text ?? "-"}
        size={196}
        status={qrStatus}
        onRefresh={manualRefresh}
        statusRender={(info) =>
          info.status === "loading" ? undefined : (
            <div style={{ textAlign: "center", padding: 12 }}>
              {info.status === "scanned" ? (
                <CheckCircleFilled style={{ fontSize: 40, color: "#52c41a" }} />
              ) : (
                <Typography.Text>{statusText}</Typography.Text>
              )}
              {info.status === "expired" && (
                <div style={{ marginTop: 8 }}>
                  <Button type="link" icon={<ReloadOutlined />} onClick={manualRefresh}>
                    {t("login.qr.refresh")}
                  </Button>
                </div>
              )}
            </div>
          )
        }
      />
      <Typography.Text strong data-testid="qr-status-text" type={status === "scanned" ? "success" : undefined}>
        {status === "scanned" ? t("login.qr.scanned") : t("login.qr.hint")}
      </Typography.Text>
      <Typography.Text type="secondary" style={{ fontSize: 13 }}>
        {t("login.qr.hintDetail")}
      </Typography.Text>
    </div>
  );
}
