import { Select, Spin, TreeSelect, type SelectProps } from "antd";
import { useEffect, useMemo, useRef, useState, type CSSProperties } from "react";

import { ApiError, api, call, errorMessage, type paths } from "../../api/client";
import { getLanguage, translate, useT } from "../../i18n";
import { toTreeData, type TreeIndex, type TreeItem } from "../directory/model";

/** Body of a 201 Created answer (ResponseOf covers 200 only). */
export type CreatedOf<P extends keyof paths, M extends keyof paths[P] & "post" | "put"> = paths[P][M] extends {
  responses: { 201: { content: { "application/json": infer R } } };
}
  ? R
  : never;

/** The server's message, plus which fields it refused when the request did not validate. */
export function problemText(error: unknown, labels: Record<string, string> = {}): string {
  const text = errorMessage(error);
  if (error instanceof ApiError && Array.isArray(error.detail)) {
    const fields = (error.detail as { field?: unknown }[])
      .map((problem) => (typeof problem.field === "string" ? problem.field : ""))
      .filter(Boolean)
      .map((field) => labels[field] ?? labels[field.split(".")[0]!] ?? field);
    if (fields.length) return `${text}(${Array.from(new Set(fields)).join("、")})`;
  }
  return text;
}

export { formatDateTime } from "../settings/format";

/** Downloads a file the server makes (template, error report, export) with the session's cookies. */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { "Accept-Language": getLanguage() } });
  } catch {
    throw new ApiError(0, { code: "network", message: translate(getLanguage(), "error.network") });
  }
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      // not JSON
    }
    const parsed = body as { code?: unknown; message?: unknown } | null;
    if (parsed && typeof parsed.code === "string" && typeof parsed.message === "string") {
      throw new ApiError(response.status, { code: parsed.code, message: parsed.message });
    }
    throw new ApiError(response.status, {
      code: `http.${response.status}`,
      message: translate(getLanguage(), "error.unexpected", { status: response.status }),
    });
  }
  const disposition = response.headers.get("content-disposition") ?? "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = star ? decodeURIComponent(star[1]!) : plain ? plain[1]! : fallbackName;
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** A department picker over the organisation tree (names with member counts). */
export function DepartmentSelect({
  index,
  value,
  onChange,
  multiple = false,
  placeholder,
  allowClear = true,
  disabledIds,
  testId,
  style,
}: {
  index: TreeIndex<TreeItem>;
  value?: string | string[] | null;
  onChange?: (value: string | string[] | undefined) => void;
  multiple?: boolean;
  placeholder?: string;
  allowClear?: boolean;
  disabledIds?: Set<string>;
  testId?: string;
  style?: CSSProperties;
}) {
  const data = useMemo(
    () => toTreeData(index, { disable: disabledIds ? (d) => disabledIds.has(d.id) : undefined }),
    [index, disabledIds],
  );
  return (
    <TreeSelect
      treeData={data}
      value={value ?? undefined}
      onChange={(next) => onChange?.(next as string | string[] | undefined)}
      multiple={multiple}
      allowClear={allowClear}
      placeholder={placeholder}
      showSearch={{ treeNodeFilterProp: "title" }}
      treeDefaultExpandAll={index.byId.size <= 60}
      treeDefaultExpandedKeys={index.roots.map((root) => root.id)}
      popupMatchSelectWidth={false}
      style={{ width: "100%", ...style }}
      data-testid={testId}
    />
  );
}

type Option = { value: string; label: string };

/** Members matching `query`: from the admin API (with masked mobiles) when the caller holds the
 * members function, else from the address book's search (a security admin appointing admins). */
async function findMembers(query: string, viaDirectory: boolean): Promise<{ id: string; name: string; label: string }[]> {
  if (viaDirectory) {
    if (!query.trim()) return [];
    const found = await call(api.GET("/api/v1/directory/search", { params: { query: { q: query.trim().slice(0, 64) } } }));
    return found.members.map((m) => ({ id: m.id, name: m.name, label: `${m.name}${m.title ? ` · ${m.title}` : ""}` }));
  }
  const page = await call(api.GET("/api/v1/org/members", { params: { query: { q: query.trim() || undefined, limit: 20 } } }));
  return page.items.map((m) => ({ id: m.id, name: m.name, label: `${m.name}${m.title ? ` · ${m.title}` : ""}(${m.mobile_masked})` }));
}

async function memberName(id: string, viaDirectory: boolean): Promise<string> {
  const path = { params: { path: { membership_id: id } } };
  const member = viaDirectory
    ? await call(api.GET("/api/v1/directory/members/{membership_id}", path))
    : await call(api.GET("/api/v1/org/members/{membership_id}", path));
  return member.name;
}

/** Picks members by name, pinyin or job number. */
export function MemberPicker({
  value,
  onChange,
  mode,
  placeholder,
  testId,
  exclude,
}: {
  value?: string | string[] | null;
  onChange?: (value: string | string[] | undefined) => void;
  mode?: "multiple";
  placeholder?: string;
  testId?: string;
  exclude?: Set<string>;
}) {
  const t = useT();
  const [options, setOptions] = useState<Option[]>([]);
  const [known, setKnown] = useState<Record<string, string>>({});
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [viaDirectory, setViaDirectory] = useState(false);
  const timer = useRef<number | undefined>(undefined);
  const seq = useRef(0);

  const search = (query: string) => {
    window.clearTimeout(timer.current);
    const mine = ++seq.current;
    timer.current = window.setTimeout(async () => {
      setLoading(true);
      let directory = viaDirectory;
      try {
        let found;
        try {
          found = await findMembers(query, directory);
        } catch (thrown) {
          if (directory || !(thrown instanceof ApiError) || thrown.status !== 403) throw thrown;
          directory = true; // no members function: the address book still finds people
          setViaDirectory(true);
          found = await findMembers(query, directory);
        }
        if (mine !== seq.current) return;
        setOptions(found.filter((m) => !exclude?.has(m.id)).map((m) => ({ value: m.id, label: m.label })));
        setKnown((current) => ({ ...current, ...Object.fromEntries(found.map((m) => [m.id, m.name])) }));
        setError(null);
      } catch (thrown) {
        if (mine === seq.current) setError(errorMessage(thrown));
      } finally {
        if (mine === seq.current) setLoading(false);
      }
    }, 200);
  };

  // Names of members already chosen (e.g. a hidden department's whitelist).
  const ids = useMemo(() => (Array.isArray(value) ? value : value ? [value] : []), [value]);
  useEffect(() => {
    const missing = ids.filter((id) => !(id in known));
    if (missing.length === 0) return;
    let stopped = false;
    void Promise.all(
      missing.slice(0, 50).map((id) =>
        memberName(id, viaDirectory)
          .catch(() => memberName(id, true))
          .then((name) => [id, name] as const)
          .catch(() => [id, id] as const),
      ),
    ).then((pairs) => !stopped && setKnown((current) => ({ ...current, ...Object.fromEntries(pairs) })));
    return () => {
      stopped = true;
    };
  }, [ids, known, viaDirectory]);

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const merged: SelectProps["options"] = [
    ...ids.filter((id) => !options.some((o) => o.value === id)).map((id) => ({ value: id, label: known[id] ?? "…" })),
    ...options,
  ];
  return (
    <Select
      mode={mode}
      showSearch={{ filterOption: false, onSearch: search }}
      value={mode ? ids : (ids[0] ?? undefined)}
      onChange={(next) => onChange?.(next as string | string[] | undefined)}
      onOpenChange={(open) => open && options.length === 0 && search("")}
      options={merged}
      placeholder={placeholder ?? t("admin.memberPicker.placeholder")}
      notFoundContent={loading ? <Spin size="small" /> : (error ?? t("admin.memberPicker.none"))}
      allowClear
      style={{ width: "100%" }}
      data-testid={testId}
    />
  );
}
