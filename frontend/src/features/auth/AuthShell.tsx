import { Card, Typography } from "antd";
import type { ReactNode } from "react";

import { Brand } from "../../app/Brand";
import { LanguageSwitch } from "../../app/HeaderControls";
import { useT } from "../../i18n";
import { AuthPolicyLinks } from "../privacy/consent/AuthPolicyLinks";

/** The frame of every login step: a calm brand panel on the left (hidden on phones) and a card. */
export function AuthShell({ title, subtitle, children }: { title: string; subtitle?: ReactNode; children: ReactNode }) {
  const t = useT();
  return (
    <div className="zt-auth">
      <aside className="zt-auth-aside">
        <Brand inverse />
        <div>
          <h1>{t("app.tagline")}</h1>
          <p>{t("app.taglineDetail")}</p>
        </div>
        <span style={{ opacity: 0.7, fontSize: 12 }}>{t("app.fullName")}</span>
      </aside>
      <main className="zt-auth-main" style={{ position: "relative" }}>
        <div className="zt-auth-topbar">
          <LanguageSwitch />
        </div>
        <div className="zt-auth-phone-brand">
          <Brand />
          <span>{t("app.tagline")}</span>
        </div>
        <Card className="zt-auth-card" variant="borderless" styles={{ body: { padding: "28px 28px 20px" } }}>
          <Typography.Title level={3} style={{ marginTop: 0, marginBottom: subtitle ? 4 : 20 }}>
            {title}
          </Typography.Title>
          {subtitle && (
            <Typography.Paragraph type="secondary" style={{ marginBottom: 20 }}>
              {subtitle}
            </Typography.Paragraph>
          )}
          {children}
        </Card>
        <div className="zt-auth-footer">
          {t("login.footer")}
          <AuthPolicyLinks />
        </div>
      </main>
    </div>
  );
}
