import { ApiOutlined, LockOutlined, QrcodeOutlined, SafetyCertificateOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Form, Input, Modal, Space, Tag, Typography, type ButtonProps } from "antd";
import { useState, type ReactNode } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useMe, useSession } from "../../app/session";
import { useT } from "../../i18n";
import { TotpCodeInput, totpRules } from "../auth/TotpCodeInput";
import { TotpSetupPanel } from "../auth/TotpSetupPanel";

function Section({ icon, title, extra, children, testId }: { icon: ReactNode; title: string; extra?: ReactNode; children: ReactNode; testId: string }) {
  return (
    <Card
      size="small"
      data-testid={testId}
      title={
        <Space>
          <span style={{ color: "#1677ff" }}>{icon}</span>
          {title}
        </Space>
      }
      extra={extra}
      styles={{ body: { padding: 16 } }}
    >
      {children}
    </Card>
  );
}

function TwoFactorSection() {
  const t = useT();
  const me = useMe();
  const { refresh } = useSession();
  const { message } = App.useApp();
  const [enabling, setEnabling] = useState(false);
  const [disabling, setDisabling] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const disable = async ({ code }: { code: string }) => {
    setBusy(true);
    setError(null);
    try {
      await call(api.POST("/api/v1/auth/totp/disable", { body: { code: code.trim() } }));
      setDisabling(false);
      message.success(t("security.twofa.disabled"));
      await refresh();
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      testId="security-twofa"
      icon={<SafetyCertificateOutlined />}
      title={t("security.twofa")}
      extra={me.totp_enabled ? <Tag color="success">{t("security.twofa.on")}</Tag> : <Tag>{t("security.twofa.off")}</Tag>}
    >
      <Flex justify="space-between" align="center" gap={12} wrap>
        <Typography.Text type="secondary">
          {me.totp_enabled ? t("security.twofa.descOn") : t("security.twofa.descOff")}
        </Typography.Text>
        {me.totp_enabled ? (
          <Button danger onClick={() => { setError(null); setDisabling(true); }}>
            {t("security.twofa.disable")}
          </Button>
        ) : (
          <Button type="primary" onClick={() => setEnabling(true)} data-testid="twofa-enable">
            {t("security.twofa.enable")}
          </Button>
        )}
      </Flex>
      <Modal open={enabling} title={t("totp.setup.title")} footer={null} onCancel={() => setEnabling(false)} destroyOnHidden>
        <Typography.Paragraph type="secondary">{t("totp.setup.desc")}</Typography.Paragraph>
        <TotpSetupPanel
          onEnabled={async () => {
            setEnabling(false);
            message.success(t("totp.setup.done"));
            await refresh();
          }}
        />
      </Modal>
      <Modal open={disabling} title={t("security.twofa.disable")} footer={null} onCancel={() => setDisabling(false)} destroyOnHidden>
        <Typography.Paragraph type="secondary">{t("security.twofa.disableDesc")}</Typography.Paragraph>
        <Form layout="vertical" requiredMark={false} onFinish={disable}>
          <Form.Item name="code" rules={totpRules(t)}>
            <TotpCodeInput autoFocus />
          </Form.Item>
          {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
          <Button danger type="primary" htmlType="submit" block loading={busy}>
            {t("security.twofa.disable")}
          </Button>
        </Form>
      </Modal>
    </Section>
  );
}

interface PasswordForm {
  current_password?: string;
  new_password: string;
  confirm: string;
}

function PasswordSection() {
  const t = useT();
  const me = useMe();
  const { refresh } = useSession();
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (values: PasswordForm) => {
    setBusy(true);
    setError(null);
    try {
      await call(
        api.PUT("/api/v1/me/password", {
          body: me.has_password
            ? { new_password: values.new_password, current_password: values.current_password ?? "" }
            : { new_password: values.new_password },
        }),
      );
      setOpen(false);
      message.success(t("security.password.saved"));
      await refresh();
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section
      testId="security-password"
      icon={<LockOutlined />}
      title={t("security.password")}
      extra={me.has_password ? <Tag color="success">{t("security.password.set")}</Tag> : null}
    >
      <Flex justify="space-between" align="center" gap={12} wrap>
        <Typography.Text type="secondary">
          {me.has_password ? t("security.password.rule") : t("security.password.unset")}
        </Typography.Text>
        <Button onClick={() => { setError(null); setOpen(true); }} data-testid="password-open">
          {me.has_password ? t("security.password.change") : t("security.password.setAction")}
        </Button>
      </Flex>
      <Modal
        open={open}
        title={me.has_password ? t("security.password.change") : t("security.password.setAction")}
        footer={null}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <Form<PasswordForm> layout="vertical" requiredMark={false} onFinish={save}>
          {me.has_password && (
            <Form.Item name="current_password" label={t("security.password.current")} rules={[{ required: true, message: t("login.password.required") }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
          )}
          <Form.Item
            name="new_password"
            label={t("security.password.new")}
            extra={t("security.password.rule")}
            rules={[{ required: true, min: 8, message: t("security.password.rule") }]}
          >
            <Input.Password autoComplete="new-password" data-testid="new-password" />
          </Form.Item>
          <Form.Item
            name="confirm"
            label={t("security.password.confirm")}
            dependencies={["new_password"]}
            rules={[
              { required: true, message: t("security.password.mismatch") },
              ({ getFieldValue }) => ({
                validator: (_, value) =>
                  !value || value === getFieldValue("new_password")
                    ? Promise.resolve()
                    : Promise.reject(new Error(t("security.password.mismatch"))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" data-testid="confirm-password" />
          </Form.Item>
          {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} data-testid="password-error" />}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="password-save">
            {t("common.save")}
          </Button>
        </Form>
      </Modal>
    </Section>
  );
}

function TokensSection() {
  const t = useT();
  const [form] = Form.useForm<{ name: string }>();
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async ({ name }: { name: string }) => {
    setBusy(true);
    setError(null);
    try {
      const created = await call(api.POST("/api/v1/me/tokens", { body: { name: name.trim() } }));
      setToken(created.token);
      form.resetFields();
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section testId="security-tokens" icon={<ApiOutlined />} title={t("security.tokens")}>
      <Typography.Paragraph type="secondary">{t("security.tokens.desc")}</Typography.Paragraph>
      <Form form={form} layout="inline" onFinish={create} style={{ rowGap: 8 }}>
        <Form.Item name="name" rules={[{ required: true, whitespace: true, message: t("security.tokens.name.required") }]} style={{ flex: "1 1 220px" }}>
          <Input placeholder={t("security.tokens.name.placeholder")} maxLength={80} aria-label={t("security.tokens.name")} data-testid="token-name" />
        </Form.Item>
        <Form.Item style={{ marginInlineEnd: 0 }}>
          <Button htmlType="submit" loading={busy} data-testid="token-create">
            {t("security.tokens.create")}
          </Button>
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon title={error} style={{ marginTop: 12 }} />}
      <Modal
        open={token !== null}
        title={t("security.tokens.created")}
        onCancel={() => setToken(null)}
        onOk={() => setToken(null)}
        cancelButtonProps={{ style: { display: "none" } }}
        okButtonProps={{ "data-testid": "token-close" } as ButtonProps}
        okText={t("common.close")}
        destroyOnHidden
      >
        <Alert type="warning" showIcon title={t("security.tokens.once")} style={{ marginBottom: 12 }} />
        <Typography.Paragraph copyable={{ text: token ?? "" }} code className="zt-secret" data-testid="token-value">
          {token}
        </Typography.Paragraph>
      </Modal>
    </Section>
  );
}

function QrConfirmSection() {
  const t = useT();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ qr_text: string }>();
  const [pending, setPending] = useState<{ qrText: string; device: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const scan = async ({ qr_text }: { qr_text: string }) => {
    setBusy(true);
    setError(null);
    try {
      const qrText = qr_text.trim();
      const answer = await call(api.POST("/api/v1/auth/qr/scan", { body: { qr_text: qrText } }));
      setPending({ qrText, device: answer.device_label });
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  const decide = async (approve: boolean) => {
    if (!pending) return;
    setBusy(true);
    setError(null);
    try {
      await call(api.POST("/api/v1/auth/qr/confirm", { body: { qr_text: pending.qrText, approve } }));
      message.success(approve ? t("security.qr.approved") : t("security.qr.rejected"));
      setPending(null);
      form.resetFields();
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section testId="security-qr" icon={<QrcodeOutlined />} title={t("security.qr")}>
      <Typography.Paragraph type="secondary">{t("security.qr.desc")}</Typography.Paragraph>
      {pending ? (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Alert type="info" showIcon title={t("security.qr.device", { device: pending.device || "—" })} description={t("security.qr.question")} />
          <Space wrap>
            <Button type="primary" loading={busy} onClick={() => void decide(true)} data-testid="qr-approve">
              {t("security.qr.approve")}
            </Button>
            <Button disabled={busy} onClick={() => void decide(false)} data-testid="qr-reject">
              {t("security.qr.reject")}
            </Button>
          </Space>
        </Space>
      ) : (
        <Form form={form} layout="inline" onFinish={scan} style={{ rowGap: 8 }}>
          <Form.Item name="qr_text" rules={[{ required: true, whitespace: true, message: t("security.qr.input.required") }]} style={{ flex: "1 1 220px" }}>
            <Input placeholder={t("security.qr.input")} aria-label={t("security.qr.input")} data-testid="qr-text" />
          </Form.Item>
          <Form.Item style={{ marginInlineEnd: 0 }}>
            <Button htmlType="submit" loading={busy} data-testid="qr-scan">
              {t("security.qr.scan")}
            </Button>
          </Form.Item>
        </Form>
      )}
      {error && <Alert type="error" showIcon title={error} style={{ marginTop: 12 }} />}
    </Section>
  );
}

export function SecurityTab() {
  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="security">
      <TwoFactorSection />
      <PasswordSection />
      <TokensSection />
      <QrConfirmSection />
    </Space>
  );
}
