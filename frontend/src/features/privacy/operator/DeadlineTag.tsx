import { Tag } from "antd";

import { useT } from "../../../i18n";
import { countdownKey, type Incident } from "./model";

/** The deadline as a coloured tag: days left, or overdue. */
export function DeadlineTag({ incident }: { incident: Incident }) {
  const t = useT();
  if (incident.status === "closed") return <Tag>{t("privacy.operator.incidents.status.closed")}</Tag>;
  const { key, params } = countdownKey(incident.progress.seconds_left);
  const color = incident.progress.overdue ? "red" : incident.progress.seconds_left < 7 * 86400 ? "orange" : "blue";
  return (
    <Tag color={color} data-testid="incident-deadline">
      {t(key, params)}
    </Tag>
  );
}
