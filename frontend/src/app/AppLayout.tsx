import { ControlOutlined, DashboardOutlined, EllipsisOutlined, SafetyOutlined, SettingOutlined } from "@ant-design/icons";
import { Badge, Drawer, Layout, Menu, Spin } from "antd";
import { Suspense, useState } from "react";
import { Outlet, useLocation, useNavigate } from "react-router";

import { allowedSections, useAdminRights } from "../features/admin/rights";
import { ChatProvider, useTotalUnread } from "../features/chat/ChatProvider";
import { NoticeBell } from "../features/privacy/operator/NoticeBell";
import { useT } from "../i18n";
import { Brand } from "./Brand";
import { LanguageSwitch, OrgSwitcher, UserMenu } from "./HeaderControls";
import { NAV_ITEMS, type NavItem } from "./navigation";
import { useMe } from "./session";
import { useIsPhone } from "./useIsPhone";

const { Header, Sider, Content } = Layout;

function useSelectedKey(): string {
  const { pathname } = useLocation();
  if (pathname.startsWith("/settings")) return "settings";
  if (pathname.startsWith("/admin")) return "admin";
  if (pathname.startsWith("/operator")) return "operator";
  if (pathname.startsWith("/privacy")) return "privacy";
  return NAV_ITEMS.find((item) => pathname.startsWith(item.path))?.key ?? "";
}

/** 管理后台 is offered only to someone with admin duties in the current organisation. */
function useShowAdmin(): boolean {
  return allowedSections(useAdminRights()).length > 0;
}

/** The messages entry carries the unread total. */
function NavLabel({ item }: { item: NavItem }) {
  const t = useT();
  const unread = useTotalUnread();
  if (item.key !== "messages" || unread === 0) return <>{t(item.label)}</>;
  return (
    <span className="zt-nav-label">
      <span>{t(item.label)}</span>
      <Badge count={unread} overflowCount={99} size="small" data-testid="nav-unread" />
    </span>
  );
}

function NavIcon({ item }: { item: NavItem }) {
  const unread = useTotalUnread();
  if (item.key !== "messages") return <>{item.icon}</>;
  return (
    <Badge count={unread} overflowCount={99} size="small" offset={[6, -2]} data-testid="nav-unread">
      <span className="zt-bottom-nav-icon">{item.icon}</span>
    </Badge>
  );
}

function PageFallback() {
  return (
    <div style={{ padding: 48, textAlign: "center" }}>
      <Spin />
    </div>
  );
}

function DesktopLayout() {
  const t = useT();
  const navigate = useNavigate();
  const selected = useSelectedKey();
  const [collapsed, setCollapsed] = useState(false);
  const showAdmin = useShowAdmin();
  const operator = useMe().is_operator; // 运营控制台, for the platform operator's staff only
  return (
    <Layout style={{ minHeight: "100vh" }}>
      <Sider
        width={208}
        collapsible
        collapsed={collapsed}
        onCollapse={setCollapsed}
        breakpoint="lg"
        theme="light"
        className="zt-sider"
      >
        <div className="zt-sider-brand" onClick={() => navigate("/")}>
          <Brand compact={collapsed} />
        </div>
        <Menu
          mode="inline"
          aria-label={t("nav.menu")}
          data-testid="side-nav"
          selectedKeys={[selected]}
          items={[
            ...NAV_ITEMS.map((item) => ({ key: item.key, icon: item.icon, label: <NavLabel item={item} /> })),
            { type: "divider" as const },
            ...(showAdmin ? [{ key: "admin", icon: <ControlOutlined />, label: t("nav.admin") }] : []),
            ...(operator ? [{ key: "operator", icon: <DashboardOutlined />, label: t("privacy.operator.nav") }] : []),
            { key: "privacy", icon: <SafetyOutlined />, label: t("nav.privacy") },
            { key: "settings", icon: <SettingOutlined />, label: t("nav.settings") },
          ]}
          onClick={({ key }) => navigate(key === "settings" ? "/settings/profile" : key === "admin" ? "/admin" : `/${key}`)}
        />
      </Sider>
      <Layout>
        <Header className="zt-header">
          <OrgSwitcher />
          <div className="zt-header-actions">
            <NoticeBell />
            <LanguageSwitch />
            <UserMenu />
          </div>
        </Header>
        <Content className="zt-content">
          <Suspense fallback={<PageFallback />}>
            <Outlet />
          </Suspense>
        </Content>
      </Layout>
    </Layout>
  );
}

function PhoneLayout() {
  const t = useT();
  const navigate = useNavigate();
  const selected = useSelectedKey();
  const [moreOpen, setMoreOpen] = useState(false);
  const showAdmin = useShowAdmin();
  const operator = useMe().is_operator;
  const primary = NAV_ITEMS.filter((item) => item.primary);
  const rest = NAV_ITEMS.filter((item) => !item.primary);
  const moreSelected = selected !== "" && !primary.some((item) => item.key === selected);
  const go = (path: string) => {
    setMoreOpen(false);
    navigate(path);
  };
  return (
    <Layout style={{ minHeight: "100dvh" }}>
      <Header className="zt-header zt-header-phone">
        <span onClick={() => navigate("/")} style={{ display: "inline-flex" }}>
          <Brand compact />
        </span>
        <OrgSwitcher compact />
        <div className="zt-header-actions">
          <NoticeBell />
          <LanguageSwitch compact />
          <UserMenu compact />
        </div>
      </Header>
      <Content className="zt-content zt-content-phone">
        <Suspense fallback={<PageFallback />}>
          <Outlet />
        </Suspense>
      </Content>
      <nav className="zt-bottom-nav" aria-label={t("nav.menu")} data-testid="bottom-nav">
        {primary.map((item) => (
          <button
            key={item.key}
            type="button"
            className={`zt-bottom-nav-item${selected === item.key ? " is-active" : ""}`}
            aria-current={selected === item.key ? "page" : undefined}
            onClick={() => go(item.path)}
          >
            {item.key === "messages" ? <NavIcon item={item} /> : <span className="zt-bottom-nav-icon">{item.icon}</span>}
            <span className="zt-bottom-nav-label">{t(item.label)}</span>
          </button>
        ))}
        <button
          type="button"
          className={`zt-bottom-nav-item${moreSelected ? " is-active" : ""}`}
          onClick={() => setMoreOpen(true)}
          data-testid="bottom-nav-more"
        >
          <span className="zt-bottom-nav-icon">
            <EllipsisOutlined />
          </span>
          <span className="zt-bottom-nav-label">{t("nav.more")}</span>
        </button>
      </nav>
      <Drawer
        placement="bottom"
        open={moreOpen}
        onClose={() => setMoreOpen(false)}
        title={t("nav.more")}
        size="auto"
        styles={{ body: { padding: 12 } }}
      >
        <div className="zt-more-grid" data-testid="more-grid">
          {[
            ...rest,
            ...(showAdmin ? [{ key: "admin", path: "/admin", label: "nav.admin" as const, icon: <ControlOutlined /> }] : []),
            ...(operator
              ? [{ key: "operator", path: "/operator", label: "privacy.operator.nav" as const, icon: <DashboardOutlined /> }]
              : []),
            { key: "privacy", path: "/privacy/data", label: "nav.privacy" as const, icon: <SafetyOutlined /> },
            { key: "settings", path: "/settings/profile", label: "nav.settings" as const, icon: <SettingOutlined /> },
          ].map(
            (item) => (
              <button
                key={item.key}
                type="button"
                className={`zt-more-item${selected === item.key ? " is-active" : ""}`}
                onClick={() => go(item.path)}
              >
                <span className="zt-more-icon">{item.icon}</span>
                <span>{t(item.label)}</span>
              </button>
            ),
          )}
        </div>
      </Drawer>
    </Layout>
  );
}

export default function AppLayout() {
  const phone = useIsPhone();
  return <ChatProvider>{phone ? <PhoneLayout /> : <DesktopLayout />}</ChatProvider>;
}
