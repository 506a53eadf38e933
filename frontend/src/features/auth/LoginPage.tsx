import { LockOutlined, MessageOutlined, MobileOutlined, QrcodeOutlined, SafetyOutlined } from "@ant-design/icons";
import { Alert, Button, Form, Input, Space, Tabs } from "antd";
import { useEffect, useRef, useState } from "react";

import { api, call, errorMessage, isApiError } from "../../api/client";
import { useSession } from "../../app/session";
import { useT } from "../../i18n";
import { AuthShell } from "./AuthShell";
import { QrLoginPanel } from "./QrLoginPanel";
import { looksLikeMobile, normaliseMobile } from "./validation";

function useCountdown(): [number, (seconds: number) => void] {
  const [remaining, setRemaining] = useState(0);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearInterval(timer.current), []);
  const start = (seconds: number) => {
    window.clearInterval(timer.current);
    setRemaining(seconds);
    timer.current = window.setInterval(() => {
      setRemaining((value) => {
        if (value <= 1) window.clearInterval(timer.current);
        return Math.max(0, value - 1);
      });
    }, 1000);
  };
  return [remaining, start];
}

function MobileField() {
  const t = useT();
  return (
    <Form.Item
      name="mobile"
      label={t("login.mobile")}
      rules={[{ validator: (_, value: string | undefined) => (value && looksLikeMobile(value) ? Promise.resolve() : Promise.reject(new Error(t("login.mobile.invalid")))) }]}
    >
      <Input
        size="large"
        prefix={<MobileOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
        placeholder={t("login.mobile.placeholder")}
        inputMode="tel"
        autoComplete="username"
        maxLength={20}
        data-testid="login-mobile"
      />
    </Form.Item>
  );
}

function SmsLoginForm() {
  const t = useT();
  const { completeLoginStep } = useSession();
  const [form] = Form.useForm<{ mobile: string; code: string }>();
  const [remaining, startCountdown] = useCountdown();
  const [sending, setSending] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const send = async () => {
    setError(null);
    try {
      await form.validateFields(["mobile"]);
    } catch {
      return;
    }
    setSending(true);
    try {
      const mobile = normaliseMobile(form.getFieldValue("mobile") as string);
      const answer = await call(api.POST("/api/v1/auth/sms/send", { body: { mobile } }));
      setSent(true);
      startCountdown(answer.cooldown_seconds || 60);
    } catch (thrown) {
      setError(errorMessage(thrown));
      if (isApiError(thrown) && thrown.retryAfter) startCountdown(thrown.retryAfter);
    } finally {
      setSending(false);
    }
  };

  const submit = async (values: { mobile: string; code: string }) => {
    setError(null);
    setSubmitting(true);
    try {
      const result = await call(
        api.POST("/api/v1/auth/sms/login", { body: { mobile: normaliseMobile(values.mobile), code: values.code.trim() } }),
      );
      await completeLoginStep(result.status);
    } catch (thrown) {
      setError(errorMessage(thrown));
      setSubmitting(false);
    }
  };

  return (
    <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} data-testid="sms-login-form">
      <MobileField />
      <Form.Item label={t("login.code")} required={false}>
        <Space.Compact style={{ width: "100%" }}>
          <Form.Item name="code" noStyle rules={[{ required: true, whitespace: true, message: t("login.code.required") }]}>
            <Input
              size="large"
              prefix={<SafetyOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
              placeholder={t("login.code.placeholder")}
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={8}
              data-testid="login-code"
            />
          </Form.Item>
          <Button size="large" onClick={send} loading={sending} disabled={remaining > 0} data-testid="send-code" style={{ minWidth: 128 }}>
            {remaining > 0 ? t("login.resendIn", { seconds: remaining }) : t("login.sendCode")}
          </Button>
        </Space.Compact>
      </Form.Item>
      {sent && !error && <Alert type="info" showIcon title={t("login.codeSent")} style={{ marginBottom: 16 }} data-testid="code-sent" />}
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
      <Button type="primary" htmlType="submit" size="large" block loading={submitting} data-testid="login-submit">
        {t("login.submit")}
      </Button>
    </Form>
  );
}

function PasswordLoginForm() {
  const t = useT();
  const { completeLoginStep } = useSession();
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (values: { mobile: string; password: string }) => {
    setError(null);
    setSubmitting(true);
    try {
      const result = await call(
        api.POST("/api/v1/auth/password/login", { body: { mobile: normaliseMobile(values.mobile), password: values.password } }),
      );
      await completeLoginStep(result.status);
    } catch (thrown) {
      setError(errorMessage(thrown));
      setSubmitting(false);
    }
  };
  return (
    <Form layout="vertical" requiredMark={false} onFinish={submit} data-testid="password-login-form">
      <MobileField />
      <Form.Item name="password" label={t("login.password")} rules={[{ required: true, message: t("login.password.required") }]}>
        <Input.Password
          size="large"
          prefix={<LockOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
          placeholder={t("login.password.placeholder")}
          autoComplete="current-password"
          data-testid="login-password"
        />
      </Form.Item>
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="login-error" />}
      <Button type="primary" htmlType="submit" size="large" block loading={submitting} data-testid="login-submit">
        {t("login.submit")}
      </Button>
    </Form>
  );
}

export default function LoginPage() {
  const t = useT();
  const [tab, setTab] = useState("sms");
  return (
    <AuthShell title={t("login.title")} subtitle={t("login.subtitle")}>
      <Tabs
        activeKey={tab}
        onChange={setTab}
        destroyOnHidden
        items={[
          { key: "sms", label: <span><MessageOutlined /> {t("login.tab.sms")}</span>, children: <SmsLoginForm /> },
          { key: "password", label: <span><LockOutlined /> {t("login.tab.password")}</span>, children: <PasswordLoginForm /> },
          { key: "qr", label: <span><QrcodeOutlined /> {t("login.tab.qr")}</span>, children: <QrLoginPanel /> },
        ]}
      />
    </AuthShell>
  );
}
