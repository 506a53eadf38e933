import { Alert, Button, Form } from "antd";
import { useState } from "react";

import { api, call, errorMessage, isApiError } from "../../api/client";
import { useSession } from "../../app/session";
import { useT } from "../../i18n";
import { AuthShell } from "./AuthShell";
import { TotpCodeInput, totpRules } from "./TotpCodeInput";

export default function TotpVerifyPage() {
  const t = useT();
  const { completeLoginStep, logout } = useSession();
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async ({ code }: { code: string }) => {
    setError(null);
    setSubmitting(true);
    try {
      const result = await call(api.POST("/api/v1/auth/totp/verify", { body: { code: code.trim() } }));
      await completeLoginStep(result.status);
    } catch (thrown) {
      if (isApiError(thrown, "auth.totp_not_set_up")) {
        // The page was reached without knowing the stage (a reload in a new tab): set it up instead.
        await completeLoginStep("totp_setup_required");
        return;
      }
      setError(errorMessage(thrown));
      setSubmitting(false);
    }
  };
  return (
    <AuthShell title={t("totp.verify.title")} subtitle={t("totp.verify.desc")}>
      <Form layout="vertical" requiredMark={false} onFinish={submit} data-testid="totp-verify-form">
        <Form.Item name="code" label={t("totp.code")} rules={totpRules(t)}>
          <TotpCodeInput autoFocus />
        </Form.Item>
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="totp-error" />}
        <Button type="primary" htmlType="submit" size="large" block loading={submitting} data-testid="totp-submit">
          {t("totp.verify.submit")}
        </Button>
        <Button type="link" block style={{ marginTop: 8 }} onClick={() => void logout()}>
          {t("totp.otherAccount")}
        </Button>
      </Form>
    </AuthShell>
  );
}
