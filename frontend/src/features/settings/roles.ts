import type { MessageKey, Translate } from "../../i18n";

const KNOWN = new Set(["admin", "main_admin", "sub_admin", "owner", "member"]);

/** A membership role as words; an unknown role (added later on the server) shows as is. */
export function roleLabel(t: Translate, role: string): string {
  return KNOWN.has(role) ? t(`role.${role}` as MessageKey) : role;
}
