import {
  ApartmentOutlined,
  ApiOutlined,
  AppstoreAddOutlined,
  AuditOutlined,
  EyeInvisibleOutlined,
  FileProtectOutlined,
  NotificationOutlined,
  SafetyCertificateOutlined,
  StopOutlined,
  TeamOutlined,
  UploadOutlined,
  UserAddOutlined,
} from "@ant-design/icons";
import { Alert, Card, Result, Skeleton, Tabs, Typography } from "antd";
import type { ReactNode } from "react";
import { Navigate, useNavigate, useParams } from "react-router";

import { useT, type MessageKey } from "../../i18n";
import { AppsSection } from "../apps/AppsSection";
import "../directory/directory.css";
import { useDirectoryTree } from "../directory/useDirectoryTree";
import { DeregistrationSection } from "../privacy/erasure/DeregistrationSection";
import { WorkNoticesSection } from "../worknotices/WorkNoticesSection";
import { AdminRequestsSection } from "../privacy/rights/AdminRequestsSection";
import "./admin.css";
import { AdminsSection } from "./AdminsSection";
import { AuditSection } from "./AuditSection";
import { DepartmentsSection } from "./DepartmentsSection";
import { ImportSection } from "./ImportSection";
import { InvitesSection } from "./InvitesSection";
import { MembersSection } from "./MembersSection";
import { allowedSections, allows, allowsWholeOrg, useAdminRights, type SectionKey } from "./rights";
import { ScimSection } from "./ScimSection";
import { VisibilitySection } from "./VisibilitySection";

const ICONS: Record<SectionKey, ReactNode> = {
  members: <TeamOutlined />,
  departments: <ApartmentOutlined />,
  import: <UploadOutlined />,
  invites: <UserAddOutlined />,
  admins: <SafetyCertificateOutlined />,
  visibility: <EyeInvisibleOutlined />,
  scim: <ApiOutlined />,
  apps: <AppstoreAddOutlined />,
  work_notices: <NotificationOutlined />,
  audit: <AuditOutlined />,
  privacy_requests: <FileProtectOutlined />,
  deregistration: <StopOutlined />,
};

export default function AdminPage() {
  const t = useT();
  const navigate = useNavigate();
  const { section } = useParams();
  const rights = useAdminRights();
  const { index, error, reload } = useDirectoryTree();

  const title = (
    <Typography.Title level={4} className="zt-page-title">
      {t("nav.admin")}
    </Typography.Title>
  );
  if (rights === null) {
    return (
      <div data-testid="page-admin">
        {title}
        <Card variant="borderless">
          <Skeleton active />
        </Card>
      </div>
    );
  }
  const sections = allowedSections(rights);
  if (sections.length === 0) {
    return (
      <div data-testid="page-admin">
        {title}
        <Card variant="borderless">
          <Result status="403" title={t("admin.noRights")} subTitle={t("admin.noRightsDesc")} />
        </Card>
      </div>
    );
  }
  if (!section || !sections.includes(section as SectionKey)) {
    return <Navigate to={`/admin/${sections[0]}`} replace />;
  }
  const current = section as SectionKey;
  const changed = () => void reload();
  const canHide = allows(rights, "security", "visibility");

  const render = (key: SectionKey): ReactNode => {
    switch (key) {
      case "members":
        return <MembersSection index={index} onChanged={changed} />;
      case "departments":
        return <DepartmentsSection counts={index} canHide={canHide} onChanged={changed} />;
      case "import":
        return <ImportSection onChanged={changed} />;
      case "invites":
        return <InvitesSection index={index} />;
      case "admins":
        return <AdminsSection index={index} />;
      case "visibility":
        return <VisibilitySection index={index} />;
      case "scim":
        return <ScimSection />;
      case "apps":
        return <AppsSection />;
      case "work_notices":
        return <WorkNoticesSection index={index} wholeOrg={allowsWholeOrg(rights, "system", "work_notices")} />;
      case "audit":
        return <AuditSection />;
      case "privacy_requests":
        return <AdminRequestsSection />;
      case "deregistration":
        return <DeregistrationSection />;
    }
  };

  return (
    <div data-testid="page-admin">
      {title}
      {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
      <Card variant="borderless" styles={{ body: { paddingTop: 4 } }} className="zt-admin-card">
        <Tabs
          activeKey={current}
          onChange={(key) => navigate(`/admin/${key}`)}
          destroyOnHidden
          data-testid="admin-tabs"
          items={sections.map((key) => ({
            key,
            label: (
              <span data-testid={`admin-tab-${key}`}>
                {ICONS[key]} {t(`admin.section.${key}` as MessageKey)}
              </span>
            ),
            children: render(key),
          }))}
        />
      </Card>
    </div>
  );
}
