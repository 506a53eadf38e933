import { CloudDownloadOutlined, DownloadOutlined, FileExcelOutlined, InboxOutlined, UploadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Checkbox, Flex, Radio, Space, Typography, Upload } from "antd";
import { useEffect, useRef, useState } from "react";

import { api, call, type Job } from "../../api/client";
import { useT } from "../../i18n";
import { JobProgress } from "../jobs/JobProgress";
import { downloadFile, problemText } from "./shared";

type Mode = "all_or_nothing" | "skip_invalid_rows";

interface ImportResult {
  created?: number;
  updated?: number;
  unchanged?: number;
  failed?: number;
  departments_created?: number;
  applied?: boolean;
  error_report_available?: boolean;
  file_error?: { code?: string; message?: string } | null;
}

function ImportSummary({ jobId, job }: { jobId: string; job: Job }) {
  const t = useT();
  const { message } = App.useApp();
  const result = (job.result ?? {}) as ImportResult;
  const download = (format: "xlsx" | "csv") =>
    downloadFile(`/api/v1/org/import/${encodeURIComponent(jobId)}/errors?format=${format}`, `import-errors.${format}`).catch(
      (thrown: unknown) => message.error(problemText(thrown)),
    );
  if (job.status !== "succeeded") return null;
  if (result.file_error) {
    return <Alert type="error" showIcon title={t("admin.import.fileError")} description={result.file_error.message} data-testid="import-file-error" />;
  }
  const failed = result.failed ?? 0;
  return (
    <Space orientation="vertical" style={{ width: "100%" }} data-testid="import-result">
      {failed > 0 && !result.applied ? (
        <Alert type="warning" showIcon title={t("admin.import.notApplied", { failed })} />
      ) : failed > 0 ? (
        <Alert type="warning" showIcon title={t("admin.import.partly", { failed })} />
      ) : (
        <Alert type="success" showIcon title={t("admin.import.done")} />
      )}
      <div className="zt-import-counts">
        {(
          [
            ["created", t("admin.import.created"), result.created ?? 0],
            ["updated", t("admin.import.updated"), result.updated ?? 0],
            ["unchanged", t("admin.import.unchanged"), result.unchanged ?? 0],
            ["failed", t("admin.import.failed"), failed],
            ["departments", t("admin.import.departmentsCreated"), result.departments_created ?? 0],
          ] as const
        ).map(([key, label, value]) => (
          <div key={key} className={`zt-import-count${key === "failed" && value > 0 ? " is-bad" : ""}`}>
            <span className="zt-import-count-value" data-testid={`import-${key}`}>
              {value}
            </span>
            <span className="zt-import-count-label">{label}</span>
          </div>
        ))}
      </div>
      {result.error_report_available && (
        <Flex gap={8} wrap align="center">
          <Typography.Text type="secondary">{t("admin.import.errorReport")}</Typography.Text>
          <Button icon={<DownloadOutlined />} onClick={() => void download("xlsx")} data-testid="import-errors-xlsx">
            {t("admin.import.errorReportXlsx")}
          </Button>
          <Button type="link" onClick={() => void download("csv")} data-testid="import-errors-csv">
            CSV
          </Button>
        </Flex>
      )}
    </Space>
  );
}

function ImportCard({ onImported }: { onImported: () => void }) {
  const t = useT();
  const { message } = App.useApp();
  const [file, setFile] = useState<File | null>(null);
  const [mode, setMode] = useState<Mode>("all_or_nothing");
  const [createDepartments, setCreateDepartments] = useState(true);
  const [uploading, setUploading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [finished, setFinished] = useState<Job | null>(null);
  const progressRef = useRef<HTMLDivElement | null>(null);
  // The progress and then the summary appear below the form: bring them into view.
  useEffect(() => {
    if (jobId) progressRef.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [jobId, finished]);

  const template = (format: "xlsx" | "csv") =>
    downloadFile(`/api/v1/org/import/template?format=${format}`, `template.${format}`).catch((thrown: unknown) =>
      message.error(problemText(thrown)),
    );

  const upload = async () => {
    if (!file) return;
    setUploading(true);
    setError(null);
    setFinished(null);
    try {
      const started = await call(
        api.POST("/api/v1/org/import/upload", {
          body: { file: "", mode, create_departments: createDepartments },
          bodySerializer: (body) => {
            const form = new FormData();
            form.append("file", file, file.name);
            form.append("mode", body.mode ?? "all_or_nothing");
            form.append("create_departments", String(body.create_departments));
            return form;
          },
        }),
      );
      setJobId(started.job_id);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setUploading(false);
    }
  };

  const running = jobId !== null && finished === null;
  return (
    <Card size="small" title={<span><UploadOutlined /> {t("admin.import.title")}</span>} data-testid="import-card">
      <Space orientation="vertical" size={16} style={{ width: "100%" }}>
        <div>
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {t("admin.import.help")}
          </Typography.Paragraph>
          <Flex gap={8} wrap>
            <Button icon={<FileExcelOutlined />} onClick={() => void template("xlsx")} data-testid="template-xlsx">
              {t("admin.import.templateXlsx")}
            </Button>
            <Button icon={<DownloadOutlined />} onClick={() => void template("csv")} data-testid="template-csv">
              {t("admin.import.templateCsv")}
            </Button>
          </Flex>
        </div>
        <Upload.Dragger
          accept=".xlsx,.csv"
          maxCount={1}
          multiple={false}
          beforeUpload={(chosen) => {
            setFile(chosen);
            setJobId(null);
            setFinished(null);
            return false;
          }}
          onRemove={() => {
            setFile(null);
            return true;
          }}
          fileList={file ? [{ uid: "chosen", name: file.name, status: "done" }] : []}
          disabled={running}
          data-testid="import-file"
        >
          <p className="ant-upload-drag-icon">
            <InboxOutlined />
          </p>
          <p className="ant-upload-text">{t("admin.import.drop")}</p>
          <p className="ant-upload-hint">{t("admin.import.dropHint")}</p>
        </Upload.Dragger>
        <div>
          <Typography.Text strong>{t("admin.import.mode")}</Typography.Text>
          <Radio.Group value={mode} onChange={(e) => setMode(e.target.value as Mode)} style={{ display: "flex", flexDirection: "column", gap: 6, marginTop: 6 }}>
            <Radio value="all_or_nothing" data-testid="mode-all">
              {t("admin.import.modeAll")}
            </Radio>
            <Radio value="skip_invalid_rows" data-testid="mode-skip">
              {t("admin.import.modeSkip")}
            </Radio>
          </Radio.Group>
        </div>
        <Checkbox checked={createDepartments} onChange={(e) => setCreateDepartments(e.target.checked)} data-testid="create-departments">
          {t("admin.import.createDepartments")}
        </Checkbox>
        {error && <Alert type="error" showIcon title={error} data-testid="import-error" />}
        <Button type="primary" icon={<UploadOutlined />} disabled={!file || running} loading={uploading} onClick={() => void upload()} data-testid="import-start">
          {t("admin.import.start")}
        </Button>
        {jobId && (
          <div ref={progressRef}>
            <div data-testid="import-job" data-job-id={jobId}>
              <JobProgress
                key={jobId}
                jobId={jobId}
                allowCancel
                onDone={(job) => {
                  setFinished(job);
                  if (job.status === "succeeded") onImported();
                }}
              />
            </div>
            {finished && (
              <div style={{ marginTop: 12 }}>
                <ImportSummary jobId={jobId} job={finished} />
              </div>
            )}
          </div>
        )}
      </Space>
    </Card>
  );
}

function ExportCard() {
  const t = useT();
  const { message } = App.useApp();
  const [jobId, setJobId] = useState<string | null>(null);
  const [finished, setFinished] = useState<Job | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setStarting(true);
    setError(null);
    setFinished(null);
    try {
      const started = await call(api.POST("/api/v1/org/export"));
      setJobId(started.job_id);
    } catch (thrown) {
      setError(problemText(thrown));
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
    <Card size="small" title={<span><CloudDownloadOutlined /> {t("admin.export.title")}</span>} data-testid="export-card">
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Typography.Text type="secondary">{t("admin.export.help")}</Typography.Text>
        {error && <Alert type="error" showIcon title={error} />}
        <Button onClick={() => void start()} loading={starting} disabled={jobId !== null && finished === null} data-testid="export-start">
          {t("admin.export.start")}
        </Button>
        {jobId && <JobProgress key={jobId} jobId={jobId} onDone={setFinished} />}
        {finished?.status === "succeeded" && (
          <Button type="primary" icon={<DownloadOutlined />} onClick={() => void download()} data-testid="export-download">
            {t("admin.export.download")}
          </Button>
        )}
      </Space>
    </Card>
  );
}

export function ImportSection({ onChanged }: { onChanged: () => void }) {
  return (
    <div className="zt-admin-two" data-testid="admin-import">
      <ImportCard onImported={onChanged} />
      <ExportCard />
    </div>
  );
}
