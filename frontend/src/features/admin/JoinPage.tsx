import { BankOutlined, MobileOutlined, SafetyOutlined, UserOutlined } from "@ant-design/icons";
import { Alert, Button, Form, Input, Result, Skeleton, Space, Typography } from "antd";
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";

import { api, call, errorMessage, isApiError, type ResponseOf } from "../../api/client";
import { useLanguage, useT } from "../../i18n";
import { AuthShell } from "../auth/AuthShell";
import { looksLikeMobile, normaliseMobile } from "../auth/validation";
import { formatDateTime } from "../settings/format";

type Invite = ResponseOf<"/api/v1/join/{token}", "get">;

interface JoinValues {
  mobile: string;
  code: string;
  name: string;
}

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

/** /join/:token — anyone with an invitation link asks to join; an admin approves. No login needed. */
export default function JoinPage() {
  const t = useT();
  const language = useLanguage();
  const { token = "" } = useParams();
  const [form] = Form.useForm<JoinValues>();
  const [invite, setInvite] = useState<Invite | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [sent, setSent] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);
  const [remaining, startCountdown] = useCountdown();

  useEffect(() => {
    call(api.GET("/api/v1/join/{token}", { params: { path: { token } } }), { quietAuth: true })
      .then(setInvite)
      .catch((thrown: unknown) => setLoadError(errorMessage(thrown)));
  }, [token]);

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
      await call(api.POST("/api/v1/join/{token}/code", { params: { path: { token } }, body: { mobile } }), { quietAuth: true });
      setSent(true);
      startCountdown(60);
    } catch (thrown) {
      setError(errorMessage(thrown));
      if (isApiError(thrown) && thrown.retryAfter) startCountdown(thrown.retryAfter);
    } finally {
      setSending(false);
    }
  };

  const submit = async (values: JoinValues) => {
    setError(null);
    setSubmitting(true);
    try {
      await call(
        api.POST("/api/v1/join/{token}", {
          params: { path: { token } },
          body: { mobile: normaliseMobile(values.mobile), code: values.code.trim(), name: values.name.trim() },
        }),
        { quietAuth: true },
      );
      setDone(true);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setSubmitting(false);
    }
  };

  if (loadError) {
    return (
      <AuthShell title={t("join.title")}>
        <Result status="warning" title={t("join.invalid")} subTitle={loadError} data-testid="join-invalid" />
      </AuthShell>
    );
  }
  if (!invite) {
    return (
      <AuthShell title={t("join.title")}>
        <Skeleton active />
      </AuthShell>
    );
  }
  if (done) {
    return (
      <AuthShell title={t("join.title")}>
        <Result
          status="success"
          title={t("join.submitted")}
          subTitle={t("join.submittedDesc", { org: invite.organization_name })}
          extra={
            <Link to="/login">
              <Button type="primary">{t("join.toLogin")}</Button>
            </Link>
          }
          data-testid="join-done"
        />
      </AuthShell>
    );
  }
  return (
    <AuthShell title={t("join.title")}>
      <div data-testid="join-invite" style={{ marginBottom: 20, textAlign: "center" }}>
        <Space orientation="vertical" size={2}>
          <Typography.Text type="secondary">{t("join.invitedTo")}</Typography.Text>
          <Typography.Title level={4} style={{ margin: 0 }}>
            <BankOutlined /> {invite.organization_name}
          </Typography.Title>
          <Typography.Text>{t("join.department", { department: invite.department_name })}</Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t("join.expires", { time: formatDateTime(language, invite.expires_at) })}
          </Typography.Text>
        </Space>
      </div>
      <Form<JoinValues> form={form} layout="vertical" requiredMark={false} onFinish={submit} data-testid="join-form">
        <Form.Item
          name="mobile"
          label={t("login.mobile")}
          rules={[
            {
              validator: (_, value: string | undefined) =>
                value && looksLikeMobile(value) ? Promise.resolve() : Promise.reject(new Error(t("login.mobile.invalid"))),
            },
          ]}
        >
          <Input size="large" prefix={<MobileOutlined style={{ color: "rgba(0,0,0,0.35)" }} />} placeholder={t("login.mobile.placeholder")} inputMode="tel" maxLength={20} data-testid="join-mobile" />
        </Form.Item>
        <Form.Item label={t("login.code")}>
          <Space.Compact style={{ width: "100%" }}>
            <Form.Item name="code" noStyle rules={[{ required: true, whitespace: true, message: t("login.code.required") }]}>
              <Input
                size="large"
                prefix={<SafetyOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
                placeholder={t("login.code.placeholder")}
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={8}
                data-testid="join-code"
              />
            </Form.Item>
            <Button size="large" onClick={() => void send()} loading={sending} disabled={remaining > 0} data-testid="join-send-code" style={{ minWidth: 128 }}>
              {remaining > 0 ? t("login.resendIn", { seconds: remaining }) : t("login.sendCode")}
            </Button>
          </Space.Compact>
        </Form.Item>
        <Form.Item name="name" label={t("join.name")} rules={[{ required: true, whitespace: true, message: t("join.nameRequired") }]}>
          <Input size="large" prefix={<UserOutlined style={{ color: "rgba(0,0,0,0.35)" }} />} placeholder={t("join.namePlaceholder")} maxLength={100} data-testid="join-name" />
        </Form.Item>
        {sent && !error && <Alert type="info" showIcon title={t("join.codeSent")} style={{ marginBottom: 16 }} data-testid="join-code-sent" />}
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 16 }} data-testid="join-error" />}
        <Button type="primary" htmlType="submit" size="large" block loading={submitting} data-testid="join-submit">
          {t("join.submit")}
        </Button>
      </Form>
    </AuthShell>
  );
}
