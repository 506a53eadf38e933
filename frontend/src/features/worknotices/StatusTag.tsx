import { CheckCircleOutlined, RollbackOutlined, SyncOutlined } from "@ant-design/icons";
import { Tag } from "antd";

import { useT } from "../../i18n";
import type { NoticeSummary } from "./model";

/** 发送中 / 已发送 / 已撤回. */
export function StatusTag({ status }: { status: NoticeSummary["status"] }) {
  const t = useT();
  if (status === "sending") {
    return (
      <Tag icon={<SyncOutlined spin />} color="processing" data-testid="wn-status" data-status={status}>
        {t("worknotices.status.sending")}
      </Tag>
    );
  }
  if (status === "recalled") {
    return (
      <Tag icon={<RollbackOutlined />} data-testid="wn-status" data-status={status}>
        {t("worknotices.status.recalled")}
      </Tag>
    );
  }
  return (
    <Tag icon={<CheckCircleOutlined />} color="success" data-testid="wn-status" data-status={status}>
      {t("worknotices.status.sent")}
    </Tag>
  );
}
