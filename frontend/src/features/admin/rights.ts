// What the logged-in person may administer (GET /api/v1/org/admin-rights), shared by the navigation
// (whether to show 管理后台 at all) and the console (which sections to show).
import { useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useMe } from "../../app/session";

export type AdminRights = ResponseOf<"/api/v1/org/admin-rights", "get">;
export type Grant = AdminRights["grants"][number];
export type Duty = Grant["duty"];

export const DUTIES: readonly Duty[] = ["system", "security", "audit"];
/** Functions a grant may be limited to, per duty (as the server's org.access names them). */
export const DUTY_FUNCTIONS: Record<Duty, readonly string[]> = {
  system: ["members", "departments", "roles", "import_export", "apps", "work_notices"],
  security: ["visibility", "admins", "scim"],
  audit: ["audit_log"],
};

export type SectionKey =
  | "members"
  | "departments"
  | "import"
  | "invites"
  | "admins"
  | "visibility"
  | "scim"
  | "apps"
  | "work_notices"
  | "audit"
  | "privacy_requests"
  | "deregistration";

/** Each console section, in display order, with the duty and function it needs (and whether only an
 * admin of the whole organisation may have it: an app acts for all of it). */
export const SECTIONS: readonly { key: SectionKey; duty: Duty; fn: string; wholeOrg?: boolean }[] = [
  { key: "members", duty: "system", fn: "members" },
  { key: "departments", duty: "system", fn: "departments" },
  { key: "import", duty: "system", fn: "import_export" },
  { key: "invites", duty: "system", fn: "members" },
  { key: "admins", duty: "security", fn: "admins" },
  { key: "visibility", duty: "security", fn: "visibility" },
  { key: "scim", duty: "security", fn: "scim" },
  { key: "apps", duty: "system", fn: "apps", wholeOrg: true },
  { key: "work_notices", duty: "system", fn: "work_notices" },
  { key: "audit", duty: "audit", fn: "audit_log" },
  { key: "privacy_requests", duty: "system", fn: "members" },
  { key: "deregistration", duty: "system", fn: "members" },
];

export function allows(rights: AdminRights | null, duty: Duty, fn: string): boolean {
  return Boolean(
    rights?.grants.some((grant) => grant.duty === duty && (!grant.functions?.length || grant.functions.includes(fn))),
  );
}

/** Like `allows`, by a grant over the whole organisation (no departments named). */
export function allowsWholeOrg(rights: AdminRights | null, duty: Duty, fn: string): boolean {
  return Boolean(
    rights?.grants.some(
      (grant) =>
        grant.duty === duty &&
        !grant.department_ids?.length &&
        (!grant.functions?.length || grant.functions.includes(fn)),
    ),
  );
}

export function allowedSections(rights: AdminRights | null): SectionKey[] {
  return SECTIONS.filter((section) =>
    section.wholeOrg ? allowsWholeOrg(rights, section.duty, section.fn) : allows(rights, section.duty, section.fn),
  ).map((section) => section.key);
}

const NONE: AdminRights = { role: "member", grants: [] };
const cache = new Map<string, Promise<AdminRights>>();

function load(key: string): Promise<AdminRights> {
  let pending = cache.get(key);
  if (!pending) {
    // Anyone who is not an admin (or has no organisation) simply gets no console.
    pending = call(api.GET("/api/v1/org/admin-rights"), { quietAuth: true }).catch(() => NONE);
    cache.set(key, pending);
  }
  return pending;
}

/** Forget the cached rights (after changing someone's duties, which may be one's own). */
export function forgetAdminRights(): void {
  cache.clear();
}

/** The rights in the current organisation; null while loading. */
export function useAdminRights(): AdminRights | null {
  const me = useMe();
  const key = `${me.account_id}:${me.current_org_id ?? ""}`;
  const [state, setState] = useState<{ key: string; rights: AdminRights } | null>(null);
  useEffect(() => {
    let stopped = false;
    if (!me.current_org_id) {
      setState({ key, rights: NONE });
      return;
    }
    void load(key).then((rights) => !stopped && setState({ key, rights }));
    return () => {
      stopped = true;
    };
  }, [key, me.current_org_id]);
  return state && state.key === key ? state.rights : null;
}
