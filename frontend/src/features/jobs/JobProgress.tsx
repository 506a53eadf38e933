import { Button, Flex, Progress, Space, Typography } from "antd";
import { useEffect, useRef, useState } from "react";

import { api, call, errorMessage, type Job } from "../../api/client";
import { useT } from "../../i18n";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/**
 * Polls GET /api/v1/jobs/{id} and shows its progress until the job ends; used by imports,
 * exports and anything else that runs as a background job.
 */
export function JobProgress({
  jobId,
  intervalMs = 1000,
  allowCancel = false,
  onDone,
}: {
  jobId: string;
  intervalMs?: number;
  /** Offer a cancel button while the job runs (POST /api/v1/jobs/{id}/cancel). */
  allowCancel?: boolean;
  onDone?: (job: Job) => void;
}) {
  const t = useT();
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const onDoneRef = useRef(onDone);
  onDoneRef.current = onDone;

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const next = await call(api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: jobId } } }));
        if (stopped) return;
        setJob(next);
        setError(null);
        if (TERMINAL.has(next.status)) {
          onDoneRef.current?.(next);
          return;
        }
      } catch (thrown) {
        if (stopped) return;
        setError(errorMessage(thrown));
      }
      timer = window.setTimeout(poll, intervalMs);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [jobId, intervalMs]);

  const cancel = async () => {
    setCancelling(true);
    try {
      setJob(await call(api.POST("/api/v1/jobs/{job_id}/cancel", { params: { path: { job_id: jobId } } })));
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setCancelling(false);
    }
  };

  const status = job?.status ?? "queued";
  // percent is null while the job cannot yet say how much work there is
  const percent = job?.progress.percent ?? 0;
  const progressStatus =
    status === "failed" || status === "cancelled" ? "exception" : status === "succeeded" ? "success" : "active";
  const total = job?.progress.total;
  const counts = job && job.progress.done > 0 ? (total ? `${job.progress.done}/${total}` : String(job.progress.done)) : null;
  const line =
    error ?? (status === "failed" && job?.error ? job.error : null) ?? [t(`job.${status}`), job?.progress.message, counts].filter(Boolean).join(" · ");
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="job-progress" data-status={status}>
      <Progress percent={status === "succeeded" ? 100 : percent} status={progressStatus} />
      <Flex justify="space-between" align="center" gap={8} wrap>
        <Typography.Text type={error || status === "failed" ? "danger" : "secondary"}>{line}</Typography.Text>
        {allowCancel && !TERMINAL.has(status) && (
          <Button size="small" onClick={() => void cancel()} loading={cancelling}>
            {t("common.cancel")}
          </Button>
        )}
      </Flex>
    </Space>
  );
}
