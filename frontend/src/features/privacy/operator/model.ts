// Types and small helpers of the operator's console.
import type { ResponseOf } from "../../../api/client";
import type { Language, MessageKey } from "../../../i18n";
import type { CreatedOf } from "../../admin/shared";

export type OrganizationUsage = ResponseOf<"/api/v1/operator/usage", "get">[number];
export type Incident = ResponseOf<"/api/v1/operator/incidents", "get">[number];
export type IncidentDetail = ResponseOf<"/api/v1/operator/incidents/{incident_id}", "get">;
export type IncidentCreated = CreatedOf<"/api/v1/operator/incidents", "post">;
export type ShutdownState = ResponseOf<"/api/v1/operator/shutdown", "get">;
export type Shutdown = NonNullable<ShutdownState["current"]>;
export type PolicyVersion = ResponseOf<"/api/v1/operator/privacy/policy-versions", "get">[number];
export type Notice = ResponseOf<"/api/v1/notices", "get">["items"][number];

export const SECTIONS = ["organizations", "incidents", "policy", "shutdown"] as const;
export type SectionKey = (typeof SECTIONS)[number];

export const DATA_CATEGORIES = ["identity", "contact", "sensitive", "biometric", "location", "business"] as const;
export const SEND_CHANNELS = ["sms", "email", "push", "letter"] as const;
export const CHANNELS = ["in_app", ...SEND_CHANNELS] as const;

const DAY = 86_400;

/** "剩余 N 天", "剩余 N 小时" or "已逾期 N 天" for a deadline `secondsLeft` away. */
export function countdownKey(secondsLeft: number): { key: MessageKey; params: Record<string, number> } {
  if (secondsLeft < 0) {
    return { key: "privacy.operator.incidents.overdue", params: { days: Math.ceil(-secondsLeft / DAY) } };
  }
  if (secondsLeft < DAY) {
    return { key: "privacy.operator.incidents.hoursLeft", params: { hours: Math.max(1, Math.floor(secondsLeft / 3600)) } };
  }
  return { key: "privacy.operator.incidents.daysLeft", params: { days: Math.floor(secondsLeft / DAY) } };
}

export function formatBytes(language: Language, bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(language === "en" ? "en-GB" : "zh-CN", { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

export function formatNumber(language: Language, value: number): string {
  return new Intl.NumberFormat(language === "en" ? "en-GB" : "zh-CN").format(value);
}

/** The value of a datetime-local input as an ISO moment, or null. */
export function localInputToIso(value: string): string | null {
  if (!value) return null;
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? null : moment.toISOString();
}

/** An ISO moment as the value of a datetime-local input (the browser's time zone). */
export function isoToLocalInput(iso: string): string {
  const moment = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}T${pad(moment.getHours())}:${pad(moment.getMinutes())}`;
}

/** The text in the reader's language, else Chinese. */
export function inLanguage(texts: Record<string, string>, language: Language): string {
  return texts[language] ?? texts["zh-CN"] ?? "";
}
