import {
  AppstoreOutlined,
  AuditOutlined,
  CalendarOutlined,
  CloudOutlined,
  FieldTimeOutlined,
  FormOutlined,
  MailOutlined,
  MessageOutlined,
  TeamOutlined,
  ThunderboltOutlined,
} from "@ant-design/icons";
import type { ReactNode } from "react";

import type { MessageKey } from "../i18n";

export type CapabilityKey =
  | "messages"
  | "ding"
  | "contacts"
  | "workbench"
  | "approval"
  | "attendance"
  | "worklogs"
  | "calendar"
  | "drive"
  | "mail";

export interface NavItem {
  key: CapabilityKey;
  path: string;
  label: MessageKey;
  description: MessageKey;
  icon: ReactNode;
  /** Shown in the phone's bottom bar; the rest go under "More". */
  primary?: boolean;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { key: "messages", path: "/chat", label: "nav.messages", description: "cap.messages", icon: <MessageOutlined />, primary: true },
  { key: "ding", path: "/ding", label: "nav.ding", description: "cap.ding", icon: <ThunderboltOutlined />, primary: true },
  { key: "contacts", path: "/contacts", label: "nav.contacts", description: "cap.contacts", icon: <TeamOutlined />, primary: true },
  { key: "workbench", path: "/workbench", label: "nav.workbench", description: "cap.workbench", icon: <AppstoreOutlined />, primary: true },
  { key: "approval", path: "/approval", label: "nav.approval", description: "cap.approval", icon: <AuditOutlined /> },
  { key: "attendance", path: "/attendance", label: "nav.attendance", description: "cap.attendance", icon: <FieldTimeOutlined /> },
  { key: "worklogs", path: "/worklogs", label: "nav.worklogs", description: "cap.worklogs", icon: <FormOutlined /> },
  { key: "calendar", path: "/calendar", label: "nav.calendar", description: "cap.calendar", icon: <CalendarOutlined /> },
  { key: "drive", path: "/drive", label: "nav.drive", description: "cap.drive", icon: <CloudOutlined /> },
  { key: "mail", path: "/mail", label: "nav.mail", description: "cap.mail", icon: <MailOutlined /> },
];

export function navItem(key: CapabilityKey): NavItem {
  return NAV_ITEMS.find((item) => item.key === key)!;
}
