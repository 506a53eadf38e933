import { BellOutlined, LaptopOutlined, SafetyOutlined, UserOutlined } from "@ant-design/icons";
import { Card, Tabs, Typography } from "antd";
import { Navigate, useNavigate, useParams } from "react-router";

import { useT } from "../../i18n";
import { DevicesTab } from "./DevicesTab";
import { NotificationsTab } from "./NotificationsTab";
import { ProfileTab } from "./ProfileTab";
import { SecurityTab } from "./SecurityTab";

const TABS = ["profile", "notifications", "devices", "security"] as const;
type TabKey = (typeof TABS)[number];

export default function SettingsPage() {
  const t = useT();
  const navigate = useNavigate();
  const { tab } = useParams();
  if (!TABS.includes(tab as TabKey)) return <Navigate to="/settings/profile" replace />;
  return (
    <div data-testid="page-settings">
      <Typography.Title level={4} className="zt-page-title">
        {t("settings.title")}
      </Typography.Title>
      <Card variant="borderless" styles={{ body: { paddingTop: 8 } }}>
        <Tabs
          activeKey={tab}
          onChange={(key) => navigate(`/settings/${key}`)}
          destroyOnHidden
          items={[
            { key: "profile", label: <span><UserOutlined /> {t("settings.profile")}</span>, children: <ProfileTab /> },
            { key: "notifications", label: <span><BellOutlined /> {t("settings.notifications")}</span>, children: <NotificationsTab /> },
            { key: "devices", label: <span><LaptopOutlined /> {t("settings.devices")}</span>, children: <DevicesTab /> },
            { key: "security", label: <span><SafetyOutlined /> {t("settings.security")}</span>, children: <SecurityTab /> },
          ]}
        />
      </Card>
    </div>
  );
}
