import { Alert, Empty, Space, Table, Tag, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT, type Translate } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import type { DisclosureEntry } from "./shared";

export function CategoryTags({ categories, t }: { categories: DisclosureEntry["data_categories"]; t: Translate }) {
  return (
    <>
      {categories.map((category) => (
        <Tag key={category}>{t(`privacy.rights.class.${category}`)}</Tag>
      ))}
    </>
  );
}

/** 对外提供记录: what was disclosed about me, to whom, on which legal basis. */
export function DisclosuresTab() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [entries, setEntries] = useState<DisclosureEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const manyOrganizations = new Set((entries ?? []).map((entry) => entry.org_id)).size > 1;

  useEffect(() => {
    call(api.GET("/api/v1/privacy/disclosures"))
      .then(setEntries)
      .catch((thrown: unknown) => setError(errorMessage(thrown)));
  }, []);

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("privacy.rights.disclosures.desc")}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<DisclosureEntry>
        rowKey="id"
        data-testid="my-disclosures"
        loading={entries === null && !error}
        dataSource={entries ?? []}
        pagination={false}
        scroll={{ x: "max-content" }}
        locale={{ emptyText: <Empty description={t("privacy.rights.disclosures.empty")} /> }}
        columns={[
          {
            title: t("privacy.rights.disclosures.recipient"),
            key: "recipient",
            render: (_, entry) => (
              <>
                <Space wrap size={4}>
                  <Tag color="purple">{t(`privacy.rights.recipient.${entry.recipient_kind}`)}</Tag>
                  <span>{entry.recipient}</span>
                </Space>
                {phone && (
                  <Typography.Text type="secondary" style={{ display: "block", fontSize: 12, marginTop: 4 }}>
                    {formatDateTime(language, entry.disclosed_at)} · {t(`privacy.rights.basis.${entry.legal_basis}`)}
                  </Typography.Text>
                )}
              </>
            ),
          },
          {
            title: t("privacy.rights.disclosures.categories"),
            key: "categories",
            render: (_, entry) => <CategoryTags categories={entry.data_categories} t={t} />,
          },
          {
            title: t("privacy.rights.disclosures.basis"),
            key: "basis",
            responsive: ["md"],
            render: (_, entry) => t(`privacy.rights.basis.${entry.legal_basis}`),
          },
          {
            title: t("privacy.rights.disclosures.when"),
            key: "when",
            responsive: ["md"],
            render: (_, entry) => formatDateTime(language, entry.disclosed_at),
          },
          { title: t("privacy.rights.disclosures.reference"), dataIndex: "reference", responsive: ["lg"] },
          { title: t("privacy.rights.disclosures.purpose"), dataIndex: "purpose", responsive: ["lg"] },
          ...(manyOrganizations
            ? [{ title: t("privacy.rights.disclosures.organization"), dataIndex: "organization_name", responsive: ["lg" as const] }]
            : []),
        ]}
      />
    </Space>
  );
}
