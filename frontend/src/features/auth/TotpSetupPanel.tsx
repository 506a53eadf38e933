import { Alert, Button, Flex, Form, QRCode, Skeleton, Typography } from "antd";
import { useEffect, useRef, useState, type ReactNode } from "react";

import { api, call, errorMessage, type LoginResult, type ResponseOf } from "../../api/client";
import { useT } from "../../i18n";
import { TotpCodeInput, totpRules } from "./TotpCodeInput";

type TotpSetup = ResponseOf<"/api/v1/auth/totp/setup", "post">;

function SecretGroups({ secret }: { secret: string }) {
  const groups = secret.match(/.{1,4}/g) ?? [];
  return (
    <>
      {groups.map((group, index) => (
        <span key={index} className="zt-secret-group">
          {group}
        </span>
      ))}
    </>
  );
}

function Step({ index, title, children }: { index: number; title: string; children: ReactNode }) {
  return (
    <Flex gap={12} align="flex-start" style={{ marginBottom: 16 }}>
      <span
        style={{
          flex: "0 0 24px",
          height: 24,
          borderRadius: 12,
          background: "#e6f4ff",
          color: "#1677ff",
          fontWeight: 600,
          display: "inline-flex",
          alignItems: "center",
          justifyContent: "center",
        }}
      >
        {index}
      </span>
      <div style={{ flex: 1, minWidth: 0 }}>
        <Typography.Text strong>{title}</Typography.Text>
        <div style={{ marginTop: 8 }}>{children}</div>
      </div>
    </Flex>
  );
}

/** Asks the server for a new TOTP secret, shows it as a QR and as text, then enables it with a code. */
export function TotpSetupPanel({ onEnabled }: { onEnabled: (result: LoginResult) => void | Promise<void> }) {
  const t = useT();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const requested = useRef(false);

  useEffect(() => {
    if (requested.current) return; // one secret per visit, also under React's development double effects
    requested.current = true;
    call(api.POST("/api/v1/auth/totp/setup"))
      .then(setSetup)
      .catch((thrown: unknown) => setError(errorMessage(thrown)));
  }, []);

  const submit = async ({ code }: { code: string }) => {
    setError(null);
    setSubmitting(true);
    try {
      const result = await call(api.POST("/api/v1/auth/totp/enable", { body: { code: code.trim() } }));
      await onEnabled(result);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setSubmitting(false);
    }
  };

  if (!setup) {
    return error ? <Alert type="error" showIcon title={error} /> : <Skeleton active />;
  }
  return (
    <div data-testid="totp-setup">
      <Step index={1} title={t("totp.setup.step1")}>
        <QRCode value={setup.otpauth_uri} size={168} bordered />
      </Step>
      <Step index={2} title={t("totp.setup.step2")}>
        <Typography.Text type="secondary">{t("totp.setup.secret")}: </Typography.Text>
        <Typography.Text
          className="zt-secret"
          copyable={{ text: setup.secret }}
          data-testid="totp-secret"
          data-secret={setup.secret}
        >
          <SecretGroups secret={setup.secret} />
        </Typography.Text>
      </Step>
      <Step index={3} title={t("totp.setup.step3")}>
        <Form layout="vertical" requiredMark={false} onFinish={submit}>
          <Form.Item name="code" rules={totpRules(t)} style={{ marginBottom: 12 }}>
            <TotpCodeInput />
          </Form.Item>
          {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="totp-error" />}
          <Button type="primary" htmlType="submit" loading={submitting} block data-testid="totp-enable">
            {t("totp.setup.submit")}
          </Button>
        </Form>
      </Step>
    </div>
  );
}
