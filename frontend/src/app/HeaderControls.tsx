import { BankOutlined, DownOutlined, GlobalOutlined, LogoutOutlined, SafetyOutlined, SettingOutlined } from "@ant-design/icons";
import { App, Avatar, Button, Dropdown, Select, Space, Typography } from "antd";
import { useState } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../api/client";
import { LANGUAGES, setLanguage, useLanguage, useT, type Language } from "../i18n";
import { useMe, useSession } from "./session";

export function OrgSwitcher({ compact = false }: { compact?: boolean }) {
  const me = useMe();
  const { setMe } = useSession();
  const { message } = App.useApp();
  const t = useT();
  const [busy, setBusy] = useState(false);

  if (me.organizations.length === 0) {
    return <Typography.Text type="secondary">{t("header.noOrg")}</Typography.Text>;
  }
  if (me.organizations.length === 1) {
    return (
      <span className="zt-org-name" data-testid="org-switcher" title={me.organizations[0]!.name}>
        <BankOutlined />
        <span>{me.organizations[0]!.name}</span>
      </span>
    );
  }
  const switchTo = async (orgId: string) => {
    setBusy(true);
    try {
      const updated = await call(api.PUT("/api/v1/me/current-org", { body: { org_id: orgId } }));
      setMe(updated);
      const org = updated.organizations.find((o) => o.id === orgId);
      message.success(t("header.orgSwitched", { name: org?.name ?? "" }));
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Select
      aria-label={t("header.org")}
      data-testid="org-switcher"
      value={me.current_org_id ?? undefined}
      loading={busy}
      disabled={busy}
      onChange={switchTo}
      options={me.organizations.map((org) => ({ value: org.id, label: org.name }))}
      style={{ minWidth: compact ? 0 : 200, maxWidth: compact ? 150 : 320 }}
      popupMatchSelectWidth={false}
      variant={compact ? "borderless" : "outlined"}
    />
  );
}

export function LanguageSwitch({ compact = false }: { compact?: boolean }) {
  const language = useLanguage();
  const { state } = useSession();
  const { message } = App.useApp();
  const t = useT();
  const choose = (next: Language) => {
    if (next === language) return;
    setLanguage(next);
    if (state.kind === "ready") {
      // Remembered with the account too, so the next device starts in the same language.
      call(api.PUT("/api/v1/me/language", { body: { language: next } })).catch((error: unknown) =>
        message.error(errorMessage(error)),
      );
    }
  };
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        selectable: true,
        selectedKeys: [language],
        items: LANGUAGES.map((code) => ({ key: code, label: t(`lang.${code}`) })),
        onClick: ({ key }) => choose(key as Language),
      }}
    >
      <Button type="text" icon={<GlobalOutlined />} aria-label={t("lang.label")} data-testid="language-switch">
        {!compact && t(`lang.${language}`)}
      </Button>
    </Dropdown>
  );
}

export function UserMenu({ compact = false }: { compact?: boolean }) {
  const me = useMe();
  const { logout } = useSession();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const t = useT();
  const display = me.name || me.mobile_masked;
  return (
    <Dropdown
      trigger={["click"]}
      menu={{
        items: [
          { key: "settings", icon: <SettingOutlined />, label: t("user.settings") },
          { key: "privacy", icon: <SafetyOutlined />, label: t("nav.privacy") },
          { type: "divider" },
          { key: "logout", icon: <LogoutOutlined />, label: t("user.logout"), danger: true },
        ],
        onClick: async ({ key }) => {
          if (key === "settings") navigate("/settings/profile");
          if (key === "privacy") navigate("/privacy/data");
          if (key === "logout") {
            try {
              await logout();
              message.success(t("user.loggedOut"));
            } catch (error) {
              message.error(errorMessage(error));
            }
          }
        },
      }}
    >
      <Button type="text" data-testid="user-menu" style={{ height: 40, paddingInline: 6 }}>
        <Space size={8}>
          <Avatar size={28} style={{ backgroundColor: "#1677ff" }}>
            {display.slice(0, 1)}
          </Avatar>
          {!compact && (
            <>
              <span className="zt-user-name">{display}</span>
              <DownOutlined style={{ fontSize: 10, color: "rgba(0,0,0,0.45)" }} />
            </>
          )}
        </Space>
      </Button>
    </Dropdown>
  );
}
