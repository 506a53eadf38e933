import { Card, Tabs, Typography } from "antd";
import { Navigate, useNavigate, useParams } from "react-router";

import { useT } from "../../i18n";
import { DevicesTab } from "../settings/DevicesTab";
import { ConsentsTab } from "./consent/ConsentsTab";
import { DisclosuresTab } from "./rights/DisclosuresTab";
import { MyDataTab } from "./rights/MyDataTab";
import { RequestsTab } from "./rights/RequestsTab";

const TABS = ["data", "consents", "devices", "disclosures", "requests"] as const;
type TabKey = (typeof TABS)[number];

/** 隐私中心: the person's own view of their data, consents, devices, disclosures and requests. */
export default function PrivacyCentrePage() {
  const t = useT();
  const navigate = useNavigate();
  const { tab } = useParams();
  if (!TABS.includes(tab as TabKey)) return <Navigate to="/privacy/data" replace />;
  return (
    <div data-testid="page-privacy">
      <Typography.Title level={4} className="zt-page-title">
        {t("privacy.title")}
      </Typography.Title>
      <Card variant="borderless" styles={{ body: { paddingTop: 8 } }}>
        <Tabs
          activeKey={tab}
          onChange={(key) => navigate(`/privacy/${key}`)}
          destroyOnHidden
          items={[
            { key: "data", label: t("privacy.tab.data"), children: <MyDataTab /> },
            { key: "consents", label: t("privacy.tab.consents"), children: <ConsentsTab /> },
            { key: "devices", label: t("privacy.tab.devices"), children: <DevicesTab /> },
            { key: "disclosures", label: t("privacy.tab.disclosures"), children: <DisclosuresTab /> },
            { key: "requests", label: t("privacy.tab.requests"), children: <RequestsTab /> },
          ]}
        />
      </Card>
    </div>
  );
}
