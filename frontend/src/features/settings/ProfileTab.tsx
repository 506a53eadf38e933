import { Descriptions, List, Space, Tag, Typography } from "antd";

import { useMe } from "../../app/session";
import { useIsPhone } from "../../app/useIsPhone";
import { isLanguage, useLanguage, useT } from "../../i18n";
import { roleLabel } from "./roles";

export function ProfileTab() {
  const t = useT();
  const me = useMe();
  const language = useLanguage();
  const phone = useIsPhone();
  return (
    <Space orientation="vertical" size={24} style={{ width: "100%" }} data-testid="profile">
      <Descriptions column={1} bordered size={phone ? "small" : "middle"} styles={{ label: { width: phone ? 96 : 160 } }}>
        <Descriptions.Item label={t("profile.name")}>
          {me.name || <Typography.Text type="secondary">{t("profile.unnamed")}</Typography.Text>}
        </Descriptions.Item>
        <Descriptions.Item label={t("profile.mobile")}>
          <span data-testid="profile-mobile">{me.mobile_masked}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t("profile.language")}>
          {t(`lang.${isLanguage(language) ? language : "zh-CN"}`)}
        </Descriptions.Item>
        <Descriptions.Item label={t("profile.twofa")}>
          {me.totp_enabled ? <Tag color="success">{t("security.twofa.on")}</Tag> : <Tag>{t("security.twofa.off")}</Tag>}
        </Descriptions.Item>
      </Descriptions>
      <div>
        <Typography.Title level={5}>{t("profile.orgs")}</Typography.Title>
        <List
          bordered
          dataSource={me.organizations}
          locale={{ emptyText: t("header.noOrg") }}
          renderItem={(org) => (
            <List.Item>
              <Space wrap>
                <Typography.Text strong>{org.name}</Typography.Text>
                {org.id === me.current_org_id && <Tag color="blue">{t("profile.current")}</Tag>}
              </Space>
              <Typography.Text type="secondary">
                {t("profile.role")}: {roleLabel(t, org.role)}
              </Typography.Text>
            </List.Item>
          )}
        />
      </div>
    </Space>
  );
}
