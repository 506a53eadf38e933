// Pieces the privacy-rights screens share: labels, status tags, the deadline line, sizes.
import { ClockCircleOutlined, ExclamationCircleOutlined } from "@ant-design/icons";
import { Tag, Timeline, Typography } from "antd";

import type { ResponseOf } from "../../../api/client";
import { useLanguage, useT, type MessageKey, type Translate } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import { rightsZh } from "./messages";
import "./rights.css";

export type PrivacyRequest = ResponseOf<"/api/v1/privacy/requests", "get">[number];
export type AdminPrivacyRequest = ResponseOf<"/api/v1/privacy/admin/requests", "get">[number];
export type RequestKind = PrivacyRequest["kind"];
export type RequestStatus = PrivacyRequest["status"];
export type Deadline = PrivacyRequest["deadline"];
export type DisclosureEntry = ResponseOf<"/api/v1/privacy/disclosures", "get">[number];
export type AdminDisclosureEntry = ResponseOf<"/api/v1/privacy/admin/disclosures", "get">[number];

export const REQUEST_KINDS: readonly RequestKind[] = [
  "access",
  "copy",
  "correction",
  "deletion",
  "withdraw_consent",
  "explanation",
];
export const RECIPIENT_KINDS = ["authority", "court", "app", "partner", "other"] as const;
export const LEGAL_BASES = ["law", "consent", "contract", "vital_interests", "public_interest"] as const;
export const DATA_CLASSES = ["identity", "contact", "sensitive", "biometric", "location", "business"] as const;

const STATUS_COLOURS: Record<RequestStatus, string> = {
  open: "blue",
  in_progress: "processing",
  done: "success",
  refused: "error",
  withdrawn: "default",
};

export function isOpen(status: RequestStatus): boolean {
  return status === "open" || status === "in_progress";
}

/** A message key of this feature built at run time, or null when there is none (a new table). */
export function dynamicKey(key: string): MessageKey | null {
  return key in rightsZh ? (key as MessageKey) : null;
}

export function tableLabel(t: Translate, table: string): string {
  const key = dynamicKey(`privacy.rights.table.${table}`);
  return key ? t(key) : table;
}

export function StatusTag({ status }: { status: RequestStatus }) {
  const t = useT();
  return (
    <Tag color={STATUS_COLOURS[status]} data-testid="request-status" data-status={status}>
      {t(`privacy.rights.status.${status}`)}
    </Tag>
  );
}

/** "截止 2026-12-18 · 剩余 12 个工作日", red when overdue; only the date once the request is closed. */
export function DeadlineLine({ deadline, open }: { deadline: Deadline; open: boolean }) {
  const t = useT();
  const due = t("privacy.rights.requests.due", { date: deadline.due_on });
  if (!open) return <Typography.Text type="secondary">{due}</Typography.Text>;
  const left = deadline.working_days_left;
  if (deadline.overdue) {
    return (
      <Typography.Text type="danger" strong data-testid="deadline" data-overdue="true">
        <ExclamationCircleOutlined /> {due} · {t("privacy.rights.requests.overdue", { days: Math.abs(left) })}
      </Typography.Text>
    );
  }
  return (
    <Typography.Text type={left <= 3 ? "warning" : "secondary"} data-testid="deadline" data-overdue="false">
      <ClockCircleOutlined /> {due} ·{" "}
      {left === 0 ? t("privacy.rights.requests.dueToday") : t("privacy.rights.requests.left", { days: left })}
    </Typography.Text>
  );
}

/** The request's history: filed, status changes and replies from either side. */
export function RequestHistory({ request }: { request: PrivacyRequest }) {
  const t = useT();
  const language = useLanguage();
  return (
    <Timeline
      className="zt-rights-history"
      items={request.events.map((event) => {
        const title =
          event.kind === "filed"
            ? t("privacy.rights.event.filed")
            : event.kind === "status" && event.status
              ? t("privacy.rights.event.status", { status: t(`privacy.rights.status.${event.status}`) })
              : event.from_organization
                ? t("privacy.rights.event.reply.org")
                : t("privacy.rights.event.reply.person");
        return {
          key: event.id,
          color: event.from_organization ? "blue" : "gray",
          content: (
            <div>
              <Typography.Text strong>{title}</Typography.Text>{" "}
              <Typography.Text type="secondary" className="zt-rights-time">
                {formatDateTime(language, event.created_at)}
              </Typography.Text>
              {event.text && <div className="zt-rights-text">{event.text}</div>}
            </div>
          ),
        };
      })}
    />
  );
}

export function formatBytes(bytes: number | null | undefined): string {
  if (!bytes) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
