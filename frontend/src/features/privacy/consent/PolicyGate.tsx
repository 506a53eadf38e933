import { App, Button, Descriptions, Modal, Space, Spin, Typography } from "antd";
import type { Middleware } from "openapi-fetch";
import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { useSession } from "../../../app/session";
import { useT } from "../../../i18n";
import { CookieNotice } from "./CookieNotice";
import { PolicyDialog, PolicyLink, PolicyText, usePolicy } from "./PolicyText";
import "./consent.css";

type PolicyStatus = ResponseOf<"/api/v1/privacy/policy/status", "get">;
type DataNotice = ResponseOf<"/api/v1/privacy/notices/first-login", "get">[number];

const GATE_CODE = "privacy.consent.policy_ack_required";
const RECHECK_MS = 60_000;

// Any API call refused by the gate (a major version was published while the app was open)
// makes the gate check again, so the pop-up appears without a reload.
const gateListeners = new Set<() => void>();
const gateWatch: Middleware = {
  async onResponse({ response }) {
    if (response.status !== 428 || gateListeners.size === 0) return undefined;
    const body = (await response.clone().json().catch(() => null)) as { code?: string } | null;
    if (body?.code === GATE_CODE) recheckPolicyGate();
    return undefined;
  },
};
api.use(gateWatch);

/** Makes the gate check again: called when the server refuses the chat socket (a major version
 *  published while the app was open ends every socket, and only the acknowledged come back). */
export function recheckPolicyGate(): void {
  gateListeners.forEach((listener) => listener());
}

/** Holds the logged-in app behind the privacy policy: a major version newer than the last one
 *  the person accepted is shown as a pop-up that only accepting (or logging out) closes; a newer
 *  minor version is a dismissible notice; the first login shows which data the organisation
 *  provided. The server enforces the same gate on every call; this is how a person meets it. */
export function PolicyGate({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<PolicyStatus | null>(null);
  const [failed, setFailed] = useState(false);
  const lastCheck = useRef(0);

  const check = useCallback(async () => {
    lastCheck.current = Date.now();
    try {
      setStatus(await call(api.GET("/api/v1/privacy/policy/status")));
      setFailed(false);
    } catch {
      setFailed(true); // the server still enforces the gate; let the app show its own errors
    }
  }, []);

  useEffect(() => {
    void check();
    const listener = () => void check();
    gateListeners.add(listener);
    const onFocus = () => {
      if (Date.now() - lastCheck.current > RECHECK_MS) void check();
    };
    window.addEventListener("focus", onFocus);
    return () => {
      gateListeners.delete(listener);
      window.removeEventListener("focus", onFocus);
    };
  }, [check]);

  if (status === null && !failed) {
    return (
      <div className="zt-policy-gate-backdrop" style={{ display: "grid", placeItems: "center" }}>
        <Spin size="large" />
      </div>
    );
  }
  if (status?.required) {
    return <RequiredPolicy version={status.required.version} onAccepted={setStatus} />;
  }
  return (
    <>
      {children}
      {status?.notice && <MinorPolicyNotice version={status.notice.version} onAccepted={setStatus} />}
      <FirstLoginNotice />
      <CookieNotice />
    </>
  );
}

async function acknowledge(version: number): Promise<PolicyStatus> {
  return call(api.POST("/api/v1/privacy/policy/acknowledge", { body: { version } }));
}

function RequiredPolicy({ version, onAccepted }: { version: number; onAccepted: (status: PolicyStatus) => void }) {
  const t = useT();
  const { message } = App.useApp();
  const { logout } = useSession();
  const { policy, error } = usePolicy(version);
  const [busy, setBusy] = useState(false);
  const accept = async () => {
    setBusy(true);
    try {
      onAccepted(await acknowledge(version));
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="zt-policy-gate-backdrop">
      <Modal
        open
        title={t("privacy.consent.gate.title", { version })}
        closable={false}
        mask={{ closable: false }}
        keyboard={false}
        width={800}
        footer={
          <Space wrap style={{ justifyContent: "flex-end" }}>
            <Button onClick={() => void logout()} data-testid="policy-gate-logout">
              {t("privacy.consent.gate.logout")}
            </Button>
            <Button type="primary" loading={busy} disabled={!policy} onClick={() => void accept()} data-testid="policy-gate-accept">
              {t("privacy.consent.gate.acknowledge")}
            </Button>
          </Space>
        }
      >
        <div data-testid="policy-gate-modal">
          <Typography.Paragraph>{t("privacy.consent.gate.intro")}</Typography.Paragraph>
          {error && <Typography.Text type="danger">{t("privacy.consent.policy.loadFailed", { message: error })}</Typography.Text>}
          {!policy && !error && <Spin />}
          {policy && <PolicyText policy={policy} maxHeight="45vh" />}
        </div>
      </Modal>
    </div>
  );
}

function MinorPolicyNotice({ version, onAccepted }: { version: number; onAccepted: (status: PolicyStatus) => void }) {
  const t = useT();
  const { notification } = App.useApp();
  const [reading, setReading] = useState(false);
  useEffect(() => {
    const key = `policy-notice-${version}`;
    const dismiss = () => {
      notification.destroy(key);
      acknowledge(version).then(onAccepted).catch(() => undefined);
    };
    notification.info({
      key,
      title: t("privacy.consent.notice.title", { version }),
      duration: false,
      closable: false,
      props: { "data-testid": "policy-minor-notice" } as Record<string, string>,
      actions: (
        <Space>
          <Button size="small" onClick={() => setReading(true)}>
            {t("privacy.consent.notice.read")}
          </Button>
          <Button size="small" type="primary" onClick={dismiss} data-testid="policy-minor-dismiss">
            {t("privacy.consent.notice.dismiss")}
          </Button>
        </Space>
      ),
    });
    return () => notification.destroy(key);
  }, [version, notification, onAccepted, t]);
  return <PolicyDialog version={reading ? version : null} onClose={() => setReading(false)} />;
}

// Automated browser tests of other features set this to keep the one-time notice out of their way.
const FIRST_LOGIN_NOTICE_OFF = "zt_first_login_notice";

function firstLoginNoticeOff(): boolean {
  try {
    return window.localStorage.getItem(FIRST_LOGIN_NOTICE_OFF) === "off";
  } catch {
    return false;
  }
}

/** Once per organisation: which data the organisation provided about the person. */
function FirstLoginNotice() {
  const t = useT();
  const [notices, setNotices] = useState<DataNotice[]>([]);
  useEffect(() => {
    if (firstLoginNoticeOff()) return;
    call(api.GET("/api/v1/privacy/notices/first-login"))
      .then(setNotices)
      .catch(() => undefined);
  }, []);
  if (notices.length === 0) return null;
  const seen = () => {
    const membershipIds = notices.map((notice) => notice.membership_id);
    setNotices([]);
    void call(api.POST("/api/v1/privacy/notices/first-login/seen", { body: { membership_ids: membershipIds } })).catch(
      () => undefined,
    );
  };
  return (
    <Modal
      open
      title={t("privacy.consent.firstLogin.title")}
      onCancel={seen}
      mask={{ closable: false }}
      width={640}
      footer={
        <Button type="primary" onClick={seen} data-testid="first-login-notice-ok">
          {t("privacy.consent.firstLogin.ok")}
        </Button>
      }
    >
      <div data-testid="first-login-notice">
      {notices.map((notice) => (
        <div key={notice.membership_id}>
          <Typography.Paragraph>{t("privacy.consent.firstLogin.intro", { org: notice.org_name })}</Typography.Paragraph>
          <Descriptions
            className="zt-provided-fields"
            size="small"
            bordered
            column={1}
            items={notice.fields.map((field, index) => ({
              key: `${field.key}-${index}`,
              label: field.key === "custom" ? field.label : fieldLabel(t, field.key),
              children: fieldValue(t, field.key, field.value),
            }))}
          />
        </div>
      ))}
      <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
        {t("privacy.consent.firstLogin.correct")} <PolicyLink />。
      </Typography.Paragraph>
      </div>
    </Modal>
  );
}

type Translate = ReturnType<typeof useT>;
const FIELD_KEYS = [
  "name",
  "mobile",
  "job_number",
  "title",
  "org_email",
  "office_phone",
  "work_place",
  "hired_date",
  "departments",
  "manager",
  "roles",
  "avatar",
  "birth_date",
] as const;

function fieldLabel(t: Translate, key: string): string {
  const known = FIELD_KEYS.find((candidate) => candidate === key);
  return known ? t(`privacy.consent.field.${known}`) : key;
}

function fieldValue(t: Translate, key: string, value: string): string {
  if (key === "avatar") return t("privacy.consent.field.avatarSet");
  if (key === "birth_date") return t("privacy.consent.field.birthDateSet");
  return value;
}
