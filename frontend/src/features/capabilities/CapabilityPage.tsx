import { Card, Result, Typography } from "antd";

import { navItem, type CapabilityKey } from "../../app/navigation";
import { useT } from "../../i18n";

/**
 * A capability that is still being built: says so plainly, describes what it will do, and shows
 * no made-up data. Each capability replaces this with its own page as it lands.
 */
export default function CapabilityPage({ capability }: { capability: CapabilityKey }) {
  const t = useT();
  const item = navItem(capability);
  const name = t(item.label);
  return (
    <div data-testid={`page-${capability}`}>
      <Typography.Title level={4} className="zt-page-title">
        {name}
      </Typography.Title>
      <Card variant="borderless">
        <Result
          icon={<span style={{ fontSize: 56, color: "#91caff" }}>{item.icon}</span>}
          title={t("cap.building", { name })}
          subTitle={
            <>
              <Typography.Paragraph style={{ marginBottom: 8 }}>{t(item.description)}</Typography.Paragraph>
              <Typography.Text type="secondary">{t("cap.noData")}</Typography.Text>
            </>
          }
        />
      </Card>
    </div>
  );
}
