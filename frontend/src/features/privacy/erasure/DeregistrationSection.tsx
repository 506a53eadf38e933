// 注销组织: what deregistering does, the request (the organisation's name typed and an SMS code),
// the countdown of the cooling-off period, cancelling, an export of the address book first, and during
// the cooling-off period the archive of all the organisation's data (ArchiveCard).
import { CloudDownloadOutlined, DownloadOutlined, StopOutlined, UndoOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Input, Modal, Popconfirm, Progress, Space, Spin, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, type Job, type ResponseOf } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { downloadFile, formatDateTime, problemText } from "../../admin/shared";
import { JobProgress } from "../../jobs/JobProgress";
import { ArchiveCard } from "./ArchiveCard";
import "./erasure.css";

type Status = ResponseOf<"/api/v1/org/deregistration", "get">;

const MINUTE = 60_000;

/** The time left until `until`, refreshed every minute. */
function useRemaining(until: string | null | undefined): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return;
    const timer = window.setInterval(() => setNow(Date.now()), MINUTE / 2);
    return () => window.clearInterval(timer);
  }, [until]);
  return until ? Math.max(0, new Date(until).getTime() - now) : 0;
}

function Countdown({ status }: { status: Status }) {
  const t = useT();
  const left = useRemaining(status.purge_at);
  const total = status.requested_at && status.purge_at ? new Date(status.purge_at).getTime() - new Date(status.requested_at).getTime() : 0;
  const days = Math.floor(left / (24 * 60 * MINUTE));
  const hours = Math.floor((left % (24 * 60 * MINUTE)) / (60 * MINUTE));
  const minutes = Math.floor((left % (60 * MINUTE)) / MINUTE);
  return (
    <div className="zt-deregistration-countdown" data-testid="deregistration-countdown">
      <Typography.Text type="secondary">{t("privacy.erasure.remaining")}</Typography.Text>
      <div className="zt-deregistration-left">
        <span>{t("privacy.erasure.days", { count: days })}</span>
        <span>{t("privacy.erasure.hours", { count: hours })}</span>
        <span>{t("privacy.erasure.minutes", { count: minutes })}</span>
      </div>
      {total > 0 && <Progress percent={Math.round((100 * (total - left)) / total)} showInfo={false} strokeColor="#cf1322" size="small" />}
    </div>
  );
}

function Consequences({ status }: { status: Status }) {
  const t = useT();
  return (
    <Space orientation="vertical" size={8} style={{ width: "100%" }}>
      <Typography.Paragraph style={{ marginBottom: 0 }}>
        {t("privacy.erasure.intro", { org: status.org_name, days: status.cooling_off_days })}
      </Typography.Paragraph>
      <Typography.Text strong>{t("privacy.erasure.consequences")}</Typography.Text>
      <ul className="zt-deregistration-list" data-testid="deregistration-consequences">
        <li>{t("privacy.erasure.consequence.data")}</li>
        <li>{t("privacy.erasure.consequence.key")}</li>
        <li>{t("privacy.erasure.consequence.accounts")}</li>
        <li>{t("privacy.erasure.consequence.audit")}</li>
      </ul>
      <Typography.Text type="secondary">{t("privacy.erasure.members", { count: status.member_count })}</Typography.Text>
    </Space>
  );
}

function ExportCard() {
  const t = useT();
  const { message } = App.useApp();
  const [jobId, setJobId] = useState<string | null>(null);
  const [finished, setFinished] = useState<Job | null>(null);
  const [starting, setStarting] = useState(false);
  const start = async () => {
    setStarting(true);
    setFinished(null);
    try {
      setJobId((await call(api.POST("/api/v1/org/export"))).job_id);
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setStarting(false);
    }
  };
  const download = () =>
    jobId &&
    downloadFile(`/api/v1/org/export/${encodeURIComponent(jobId)}/download`, "directory.xlsx").catch((thrown: unknown) =>
      message.error(problemText(thrown)),
    );
  return (
    <Card size="small" title={<span><CloudDownloadOutlined /> {t("privacy.erasure.exportTitle")}</span>} data-testid="deregistration-export">
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Typography.Text type="secondary">{t("privacy.erasure.exportHelp")}</Typography.Text>
        <Button onClick={() => void start()} loading={starting} disabled={jobId !== null && finished === null}>
          {t("privacy.erasure.exportStart")}
        </Button>
        {jobId && <JobProgress key={jobId} jobId={jobId} onDone={setFinished} />}
        {finished?.status === "succeeded" && (
          <Button type="primary" icon={<DownloadOutlined />} onClick={() => void download()}>
            {t("privacy.erasure.exportDownload")}
          </Button>
        )}
      </Space>
    </Card>
  );
}

function RequestModal({ status, open, onClose, onDone }: { status: Status; open: boolean; onClose: () => void; onDone: (next: Status) => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [cooldown, setCooldown] = useState(0);
  const [busy, setBusy] = useState<"code" | "request" | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (cooldown <= 0) return;
    const timer = window.setTimeout(() => setCooldown((left) => left - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [cooldown]);
  useEffect(() => {
    if (!open) {
      setName("");
      setCode("");
      setSentTo(null);
      setError(null);
    }
  }, [open]);

  const nameMatches = name.trim() === status.org_name;
  const sendCode = async () => {
    setBusy("code");
    setError(null);
    try {
      const sent = await call(api.POST("/api/v1/org/deregistration/code"));
      setSentTo(sent.mobile_masked);
      setCooldown(sent.cooldown_seconds);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setBusy(null);
    }
  };
  const submit = async () => {
    setBusy("request");
    setError(null);
    try {
      onDone(await call(api.POST("/api/v1/org/deregistration", { body: { org_name: name.trim(), code: code.trim() } })));
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Modal
      open={open}
      title={t("privacy.erasure.confirmTitle", { org: status.org_name })}
      onCancel={onClose}
      destroyOnHidden
      footer={[
        <Button key="back" onClick={onClose}>
          {t("privacy.erasure.cancelModal")}
        </Button>,
        <Button
          key="confirm"
          type="primary"
          danger
          disabled={!nameMatches || code.trim().length < 4}
          loading={busy === "request"}
          onClick={() => void submit()}
          data-testid="deregistration-confirm"
        >
          {t("privacy.erasure.confirm")}
        </Button>,
      ]}
    >
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Alert type="error" showIcon title={t("privacy.erasure.confirmWarning")} />
        <div>
          <Typography.Text>{t("privacy.erasure.typeName")}</Typography.Text>
          <Input
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder={status.org_name}
            status={name && !nameMatches ? "error" : undefined}
            autoComplete="off"
            data-testid="deregistration-name"
          />
          {name && !nameMatches && <Typography.Text type="danger" style={{ fontSize: 12 }}>{t("privacy.erasure.nameMismatch")}</Typography.Text>}
        </div>
        <div>
          <Typography.Text>{t("privacy.erasure.code")}</Typography.Text>
          <Flex gap={8}>
            <Input
              value={code}
              onChange={(event) => setCode(event.target.value)}
              inputMode="numeric"
              maxLength={6}
              autoComplete="one-time-code"
              style={{ flex: 1 }}
              data-testid="deregistration-code"
            />
            <Button disabled={!nameMatches || cooldown > 0} loading={busy === "code"} onClick={() => void sendCode()} data-testid="deregistration-send-code">
              {cooldown > 0 ? t("privacy.erasure.resendIn", { seconds: cooldown }) : t("privacy.erasure.sendCode")}
            </Button>
          </Flex>
          {sentTo && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("privacy.erasure.codeSent", { mobile: sentTo })}</Typography.Text>}
        </div>
        {error && <Alert type="error" showIcon title={error} data-testid="deregistration-error" />}
      </Space>
    </Modal>
  );
}

export function DeregistrationSection() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const [cancelling, setCancelling] = useState(false);

  const load = useCallback(async () => {
    try {
      setStatus(await call(api.GET("/api/v1/org/deregistration")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const cancel = async () => {
    setCancelling(true);
    try {
      setStatus(await call(api.DELETE("/api/v1/org/deregistration")));
      message.success(t("privacy.erasure.cancelled"));
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setCancelling(false);
    }
  };

  if (error) return <Alert type="error" showIcon title={error} />;
  if (!status) return <Spin />;

  const main = (
    <Card size="small" title={<span><StopOutlined /> {t("privacy.erasure.title")}</span>} data-testid="admin-deregistration">
      <Space orientation="vertical" size={16} style={{ width: "100%" }}>
        {status.state === "cooling_off" && (
          <Alert
            type="warning"
            showIcon
            title={t("privacy.erasure.coolingTitle")}
            description={
              <Space orientation="vertical" size={4} style={{ width: "100%" }}>
                <span>{t("privacy.erasure.coolingText", { date: formatDateTime(language, status.purge_at) })}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t("privacy.erasure.requestedAt", { date: formatDateTime(language, status.requested_at) })}
                </Typography.Text>
              </Space>
            }
            data-testid="deregistration-cooling"
          />
        )}
        {status.state === "purging" && <Alert type="error" showIcon title={t("privacy.erasure.purgingTitle")} description={t("privacy.erasure.purgingText")} />}
        {status.state === "cooling_off" && <Countdown status={status} />}
        {status.can_manage && status.state === "cooling_off" && (
          <Popconfirm title={t("privacy.erasure.cancelConfirm")} onConfirm={() => void cancel()}>
            <Button type="primary" block={phone} icon={<UndoOutlined />} loading={cancelling} data-testid="deregistration-cancel">
              {t("privacy.erasure.cancel")}
            </Button>
          </Popconfirm>
        )}
        <Consequences status={status} />
        {!status.can_manage && <Alert type="info" showIcon title={t("privacy.erasure.mainAdminOnly")} />}
        {status.can_manage && status.state === "active" && (
          <Button type="primary" danger block={phone} icon={<StopOutlined />} onClick={() => setAsking(true)} data-testid="deregistration-request">
            {t("privacy.erasure.request")}
          </Button>
        )}
      </Space>
      <RequestModal
        status={status}
        open={asking}
        onClose={() => setAsking(false)}
        onDone={(next) => {
          setStatus(next);
          setAsking(false);
          message.success(t("privacy.erasure.requested"));
        }}
      />
    </Card>
  );
  return (
    <div className="zt-admin-two" data-testid="deregistration-section">
      {main}
      {status.state !== "purging" && (
        <Space orientation="vertical" size={16} style={{ width: "100%" }}>
          {status.can_manage && status.state === "cooling_off" && <ArchiveCard />}
          <ExportCard />
        </Space>
      )}
    </div>
  );
}
