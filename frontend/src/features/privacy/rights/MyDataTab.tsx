import { CloudDownloadOutlined, DownloadOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Collapse, Flex, Input, Modal, Skeleton, Space, Table, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { useSession } from "../../../app/session";
import { useLanguage, useT } from "../../../i18n";
import { JobProgress } from "../../jobs/JobProgress";
import { formatDateTime } from "../../settings/format";
import { formatBytes, tableLabel } from "./shared";

type Summary = ResponseOf<"/api/v1/privacy/my-data", "get">;
type ExportList = ResponseOf<"/api/v1/privacy/exports", "get">;
type ExportItem = ExportList["items"][number];

const RUNNING = new Set(["queued", "running"]);

/** 我的数据: what the platform holds about me, the export, and cancelling the account. */
export function MyDataTab() {
  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }}>
      <HoldingsCard />
      <ExportCard />
      <CancelAccountCard />
    </Space>
  );
}

function HoldingsCard() {
  const t = useT();
  const [summary, setSummary] = useState<Summary | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setSummary(await call(api.GET("/api/v1/privacy/my-data")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <Card
      size="small"
      title={t("privacy.rights.data.title")}
      extra={<Button type="text" icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("privacy.rights.refresh")} />}
    >
      <Typography.Paragraph type="secondary">{t("privacy.rights.data.desc")}</Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} />}
      {!summary && !error && <Skeleton active />}
      {summary && summary.categories.length === 0 && <Typography.Text>{t("privacy.rights.data.empty")}</Typography.Text>}
      {summary && summary.categories.length > 0 && (
        <>
          <div className="zt-rights-categories" data-testid="my-data-categories">
            {summary.categories.map((category) => (
              <div key={category.data_class} className="zt-rights-category" data-testid={`category-${category.data_class}`}>
                <div className="zt-rights-category-label">{t(`privacy.rights.class.${category.data_class}`)}</div>
                <div className="zt-rights-category-value">{t("privacy.rights.data.values", { count: category.values })}</div>
                <div className="zt-rights-category-desc">
                  {t("privacy.rights.data.places", { count: category.tables.length })} · {t(`privacy.rights.class.${category.data_class}.desc`)}
                </div>
              </div>
            ))}
          </div>
          <Collapse
            ghost
            size="small"
            style={{ marginTop: 8 }}
            items={[
              {
                key: "tables",
                label: t("privacy.rights.data.details"),
                children: (
                  <Table
                    size="small"
                    rowKey="table"
                    pagination={false}
                    dataSource={summary.tables}
                    columns={[
                      { title: t("privacy.rights.data.table"), key: "table", render: (_, row) => tableLabel(t, row.table) },
                      { title: t("privacy.rights.data.rows"), dataIndex: "rows", align: "right", width: 120 },
                    ]}
                  />
                ),
              },
            ]}
          />
        </>
      )}
    </Card>
  );
}

function ExportCard() {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const [exports, setExports] = useState<ExportList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [watching, setWatching] = useState<string | null>(null); // started here: its bar stays at 100 %

  const load = useCallback(async () => {
    try {
      setExports(await call(api.GET("/api/v1/privacy/exports")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const start = async () => {
    setStarting(true);
    try {
      const started = await call(api.POST("/api/v1/privacy/exports"));
      setWatching(started.job_id);
      message.success(t("privacy.rights.export.started"));
      await load();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setStarting(false);
    }
  };

  const latest: ExportItem | undefined = exports?.items[0];
  const running = latest && RUNNING.has(latest.status) ? latest : undefined;
  const progressOf = running?.job_id ?? watching;
  const ready = exports?.items.find((item) => item.download_url);
  return (
    <Card size="small" title={t("privacy.rights.export.title")}>
      <Typography.Paragraph type="secondary">
        {t("privacy.rights.export.desc", { hours: exports?.link_hours ?? 24 })}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Button
          type="primary"
          icon={<CloudDownloadOutlined />}
          loading={starting}
          disabled={!!running}
          onClick={() => void start()}
          data-testid="export-start"
        >
          {t("privacy.rights.export.start")}
        </Button>
        {progressOf && <JobProgress key={progressOf} jobId={progressOf} onDone={() => void load()} />}
        {ready && ready.download_url && (
          <Flex className="zt-rights-export-link" gap={12} align="center" wrap>
            <Button type="link" icon={<DownloadOutlined />} href={ready.download_url} download data-testid="export-download">
              {t("privacy.rights.export.download")}
            </Button>
            <Typography.Text type="secondary">
              {formatBytes(ready.bytes)} · {t("privacy.rights.export.expires", { time: formatDateTime(language, ready.expires_at) })}
            </Typography.Text>
          </Flex>
        )}
      </Space>
    </Card>
  );
}

function CancelAccountCard() {
  const t = useT();
  const { message } = App.useApp();
  const { refresh } = useSession();
  const [blockedBy, setBlockedBy] = useState<{ id: string; name: string }[] | null>(null);
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState("");
  const [cooldown, setCooldown] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    call(api.GET("/api/v1/privacy/account/cancellation"))
      .then((check) => setBlockedBy(check.blocked_by))
      .catch((thrown: unknown) => setError(errorMessage(thrown)));
  }, []);

  useEffect(() => {
    if (cooldown <= 0) return;
    const timer = window.setTimeout(() => setCooldown((value) => value - 1), 1000);
    return () => window.clearTimeout(timer);
  }, [cooldown]);

  const sendCode = async () => {
    setBusy(true);
    try {
      const sent = await call(api.POST("/api/v1/privacy/account/cancellation/code"));
      setCooldown(sent.cooldown_seconds);
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    setBusy(true);
    try {
      await call(api.POST("/api/v1/privacy/account/cancellation", { body: { code: code.trim() } }));
      message.success(t("privacy.rights.cancel.done"));
      setOpen(false);
      await refresh(); // no session any more: the app goes to the login page
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  const blocked = blockedBy !== null && blockedBy.length > 0;
  return (
    <Card size="small" title={t("privacy.rights.cancel.title")} className="zt-rights-danger">
      <Typography.Paragraph type="secondary">{t("privacy.rights.cancel.desc")}</Typography.Paragraph>
      {blocked && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 12 }}
          title={t("privacy.rights.cancel.blocked", { names: blockedBy.map((org) => org.name).join("、") })}
          data-testid="cancel-blocked"
        />
      )}
      <Button danger disabled={blockedBy === null || blocked} onClick={() => setOpen(true)} data-testid="cancel-open">
        {t("privacy.rights.cancel.open")}
      </Button>
      <Modal
        open={open}
        title={t("privacy.rights.cancel.confirmTitle")}
        onCancel={() => setOpen(false)}
        okText={t("privacy.rights.cancel.confirm")}
        okButtonProps={{ danger: true, disabled: code.trim().length < 4, loading: busy }}
        onOk={() => void confirm()}
        cancelText={t("common.cancel")}
        destroyOnHidden
      >
        <Typography.Paragraph>{t("privacy.rights.cancel.desc")}</Typography.Paragraph>
        <Typography.Paragraph type="secondary">{t("privacy.rights.cancel.codeHint")}</Typography.Paragraph>
        <Space.Compact style={{ width: "100%" }}>
          <Input
            value={code}
            onChange={(event) => setCode(event.target.value)}
            placeholder={t("privacy.rights.cancel.code")}
            inputMode="numeric"
            maxLength={6}
            data-testid="cancel-code"
          />
          <Button onClick={() => void sendCode()} disabled={cooldown > 0} loading={busy && cooldown === 0}>
            {cooldown > 0 ? t("privacy.rights.cancel.resend", { seconds: cooldown }) : t("privacy.rights.cancel.sendCode")}
          </Button>
        </Space.Compact>
        {error && <Alert type="error" showIcon title={error} style={{ marginTop: 12 }} />}
      </Modal>
    </Card>
  );
}
