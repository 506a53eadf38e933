import { AlertOutlined, BankOutlined, FileTextOutlined, PoweroffOutlined } from "@ant-design/icons";
import { Card, Result, Tabs, Typography } from "antd";
import type { ReactNode } from "react";
import { Navigate, useNavigate, useParams } from "react-router";

import { useMe } from "../../../app/session";
import { useT, type MessageKey } from "../../../i18n";
import { IncidentsSection } from "./IncidentsSection";
import { SECTIONS, type SectionKey } from "./model";
import "./operator.css";
import { OrganizationsSection } from "./OrganizationsSection";
import { PolicySection } from "./PolicySection";
import { ShutdownSection } from "./ShutdownSection";

const ICONS: Record<SectionKey, ReactNode> = {
  organizations: <BankOutlined />,
  incidents: <AlertOutlined />,
  policy: <FileTextOutlined />,
  shutdown: <PoweroffOutlined />,
};

function render(section: SectionKey): ReactNode {
  switch (section) {
    case "organizations":
      return <OrganizationsSection />;
    case "incidents":
      return <IncidentsSection />;
    case "policy":
      return <PolicySection />;
    case "shutdown":
      return <ShutdownSection />;
  }
}

/** 运营控制台: organisations and their figures, security incidents, policy versions, shutdown.
 * The server checks the operator role on every call; this page only hides itself from others. */
export default function OperatorPage() {
  const t = useT();
  const me = useMe();
  const navigate = useNavigate();
  const { section } = useParams();
  const title = (
    <Typography.Title level={4} className="zt-page-title">
      {t("privacy.operator.title")}
    </Typography.Title>
  );
  if (!me.is_operator) {
    return (
      <div data-testid="page-operator">
        {title}
        <Card variant="borderless">
          <Result status="403" title={t("privacy.operator.notOperator")} />
        </Card>
      </div>
    );
  }
  if (!SECTIONS.includes(section as SectionKey)) return <Navigate to="/operator/organizations" replace />;
  return (
    <div data-testid="page-operator">
      {title}
      <Card variant="borderless" styles={{ body: { paddingTop: 4 } }} className="zt-admin-card">
        <Tabs
          activeKey={section}
          onChange={(key) => navigate(`/operator/${key}`)}
          destroyOnHidden
          data-testid="operator-tabs"
          items={SECTIONS.map((key) => ({
            key,
            label: (
              <span data-testid={`operator-tab-${key}`}>
                {ICONS[key]} {t(`privacy.operator.section.${key}` as MessageKey)}
              </span>
            ),
            children: render(key),
          }))}
        />
      </Card>
    </div>
  );
}
