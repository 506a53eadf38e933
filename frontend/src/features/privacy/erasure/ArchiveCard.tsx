// 导出组织数据: during the cooling-off period the main admin archives the organisation's directory,
// conversations and files; the card follows the job's progress and offers the signed link when done.
import { DownloadOutlined, FileZipOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Progress, Space, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../../api/client";
import { useLanguage, useT } from "../../../i18n";
import { formatDateTime, problemText } from "../../admin/shared";
import { formatBytes } from "../rights/shared";

type ArchiveStatus = ResponseOf<"/api/v1/org/deregistration/archive", "get">;
type Archive = NonNullable<ArchiveStatus["archive"]>;

const RUNNING = new Set(["queued", "running"]);
const POLL_MS = 1000;

/** The latest archive, polled while its job runs. */
function useArchiveStatus() {
  const [status, setStatus] = useState<ArchiveStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setStatus(await call(api.GET("/api/v1/org/deregistration/archive")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const running = !!status?.archive && RUNNING.has(status.archive.status);
  useEffect(() => {
    if (!running) return;
    const timer = window.setTimeout(() => void load(), POLL_MS);
    return () => window.clearTimeout(timer);
  }, [running, status, load]);
  return { status, setStatus, error, running };
}

function ArchiveOutcome({ archive }: { archive: Archive }) {
  const t = useT();
  const language = useLanguage();
  if (RUNNING.has(archive.status)) {
    return <Progress percent={archive.percent ?? 0} status="active" data-testid="org-archive-progress" />;
  }
  if (archive.download_url) {
    return (
      <Flex gap={12} align="center" wrap>
        <Button type="primary" icon={<DownloadOutlined />} href={archive.download_url} download data-testid="org-archive-download">
          {t("privacy.erasure.archiveDownload")}
        </Button>
        <Typography.Text type="secondary">
          {formatBytes(archive.bytes)} · {t("privacy.erasure.archiveExpires", { time: formatDateTime(language, archive.expires_at) })}
        </Typography.Text>
      </Flex>
    );
  }
  if (archive.status === "failed") return <Alert type="error" showIcon title={t("privacy.erasure.archiveFailed")} />;
  if (archive.status === "cancelled") return <Typography.Text type="secondary">{t("privacy.erasure.archiveCancelled")}</Typography.Text>;
  return <Typography.Text type="secondary">{t("privacy.erasure.archiveExpired")}</Typography.Text>;
}

export function ArchiveCard() {
  const t = useT();
  const { message } = App.useApp();
  const { status, setStatus, error, running } = useArchiveStatus();
  const [starting, setStarting] = useState(false);
  const start = async () => {
    setStarting(true);
    try {
      setStatus(await call(api.POST("/api/v1/org/deregistration/archive")));
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setStarting(false);
    }
  };
  return (
    <Card size="small" title={<span><FileZipOutlined /> {t("privacy.erasure.archiveTitle")}</span>} data-testid="org-archive">
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Typography.Text type="secondary">{t("privacy.erasure.archiveHelp", { hours: status?.link_hours ?? 24 })}</Typography.Text>
        {error && <Alert type="error" showIcon title={error} />}
        <Button onClick={() => void start()} loading={starting} disabled={running} data-testid="org-archive-start">
          {t("privacy.erasure.archiveStart")}
        </Button>
        {status?.archive && <ArchiveOutcome archive={status.archive} />}
      </Space>
    </Card>
  );
}
