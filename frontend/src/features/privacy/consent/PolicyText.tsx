import { Alert, Button, Modal, Space, Spin, Tag, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { formatDateTime } from "../../settings/format";
import { useLanguage, useT } from "../../../i18n";

export type PolicyVersion = ResponseOf<"/api/v1/privacy/policy/current", "get">;

/** Loads the current policy, or one version (public: works before login too). */
export function usePolicy(version: number | "current" | null): { policy: PolicyVersion | null; error: string | null } {
  const [policy, setPolicy] = useState<PolicyVersion | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (version === null) return;
    let live = true;
    setPolicy(null);
    setError(null);
    const request =
      version === "current"
        ? api.GET("/api/v1/privacy/policy/current")
        : api.GET("/api/v1/privacy/policy/versions/{version}", { params: { path: { version } } });
    call(request, { quietAuth: true })
      .then((loaded) => live && setPolicy(loaded))
      .catch((thrown: unknown) => live && setError(errorMessage(thrown)));
    return () => {
      live = false;
    };
  }, [version]);
  return { policy, error };
}

/** A policy version: its number, kind, date, what changed, and the text in the reader's language. */
export function PolicyText({ policy, maxHeight = "55vh" }: { policy: PolicyVersion; maxHeight?: string }) {
  const t = useT();
  const language = useLanguage();
  const english = language === "en";
  const summary = english ? policy.summary_en : policy.summary_zh;
  return (
    <Space orientation="vertical" size={8} style={{ width: "100%" }}>
      <Space wrap size={8}>
        <Tag color={policy.kind === "major" ? "red" : "blue"}>{t(`privacy.consent.policy.kind.${policy.kind}`)}</Tag>
        <Typography.Text type="secondary">
          {t("privacy.consent.policy.version", { version: policy.version })} ·{" "}
          {t("privacy.consent.policy.published", { time: formatDateTime(language, policy.published_at) })}
        </Typography.Text>
      </Space>
      {summary && (
        <Alert type="info" showIcon title={t("privacy.consent.policy.changes")} description={summary} />
      )}
      <div className="zt-policy-text" style={{ maxHeight }} data-testid="policy-text" tabIndex={0}>
        {english ? policy.text_en : policy.text_zh}
      </div>
    </Space>
  );
}

/** A link that opens the current policy (or one version) in a dialog. */
export function PolicyLink({ version = "current", label }: { version?: number | "current"; label?: string }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button type="link" size="small" style={{ padding: 0, height: "auto" }} onClick={() => setOpen(true)} data-testid="policy-link">
        {label ?? t("privacy.consent.links.policy")}
      </Button>
      <PolicyDialog version={open ? version : null} onClose={() => setOpen(false)} />
    </>
  );
}

export function PolicyDialog({ version, onClose }: { version: number | "current" | null; onClose: () => void }) {
  const t = useT();
  const { policy, error } = usePolicy(version);
  return (
    <Modal
      open={version !== null}
      title={t("privacy.consent.policy.title")}
      onCancel={onClose}
      footer={null}
      width={760}
      destroyOnHidden
    >
      {error && <Alert type="error" showIcon title={t("privacy.consent.policy.loadFailed", { message: error })} />}
      {!error && !policy && <Spin />}
      {policy && <PolicyText policy={policy} />}
    </Modal>
  );
}
