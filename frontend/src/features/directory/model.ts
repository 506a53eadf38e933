// Address-book shapes (taken from the generated API types) and the department-tree helpers shared
// by the contacts page and the admin console.
import type { ResponseOf } from "../../api/client";

export type DirectoryTree = ResponseOf<"/api/v1/directory/tree", "get">;
export type DepartmentNode = DirectoryTree["departments"][number];
export type Watermark = DirectoryTree["watermark"];
export type MemberPage = ResponseOf<"/api/v1/directory/departments/{department_id}/members", "get">;
export type MemberBrief = MemberPage["items"][number];
export type MemberCard = ResponseOf<"/api/v1/directory/members/{membership_id}", "get">;
export type SearchResult = ResponseOf<"/api/v1/directory/search", "get">;

/** Any department-like record: the directory's nodes and the admin API's departments both fit. */
export interface TreeItem {
  id: string;
  parent_id: string | null;
  name: string;
  sort_order: number;
}

export interface TreeIndex<T extends TreeItem> {
  byId: Map<string, T>;
  /** Children of each department, in the admin's order (sort_order, then name). */
  children: Map<string, T[]>;
  /** Departments without a (visible) parent: normally the organisation's root alone. */
  roots: T[];
}

function byOrder(a: TreeItem, b: TreeItem): number {
  return a.sort_order - b.sort_order || a.name.localeCompare(b.name, "zh-CN");
}

export function indexTree<T extends TreeItem>(items: readonly T[]): TreeIndex<T> {
  const byId = new Map(items.map((item) => [item.id, item]));
  const children = new Map<string, T[]>();
  const roots: T[] = [];
  for (const item of items) {
    if (item.parent_id && byId.has(item.parent_id)) {
      const list = children.get(item.parent_id) ?? [];
      list.push(item);
      children.set(item.parent_id, list);
    } else {
      roots.push(item);
    }
  }
  children.forEach((list) => list.sort(byOrder));
  roots.sort(byOrder);
  return { byId, children, roots };
}

/** The department and its ancestors, from the root down. */
export function pathTo<T extends TreeItem>(index: TreeIndex<T>, id: string | null | undefined): T[] {
  const path: T[] = [];
  const seen = new Set<string>();
  let current = id ? index.byId.get(id) : undefined;
  while (current && !seen.has(current.id)) {
    seen.add(current.id);
    path.unshift(current);
    current = current.parent_id ? index.byId.get(current.parent_id) : undefined;
  }
  return path;
}

/** Ids of the department and everything below it. */
export function subtreeIds<T extends TreeItem>(index: TreeIndex<T>, id: string): Set<string> {
  const ids = new Set<string>();
  const stack = [id];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (ids.has(next)) continue;
    ids.add(next);
    for (const child of index.children.get(next) ?? []) stack.push(child.id);
  }
  return ids;
}

export interface TreeDataNode {
  key: string;
  value: string;
  title: string;
  children?: TreeDataNode[];
  disabled?: boolean;
}

/** antd Tree / TreeSelect data; `disable` greys out nodes (e.g. a department's own subtree when moving it). */
export function toTreeData<T extends TreeItem>(
  index: TreeIndex<T>,
  { label, disable }: { label?: (item: T) => string; disable?: (item: T) => boolean } = {},
): TreeDataNode[] {
  const build = (item: T): TreeDataNode => {
    const kids = index.children.get(item.id) ?? [];
    return {
      key: item.id,
      value: item.id,
      title: label ? label(item) : item.name,
      disabled: disable?.(item) ?? false,
      children: kids.length ? kids.map(build) : undefined,
    };
  };
  return index.roots.map(build);
}

const AVATAR_COLOURS = ["#1677ff", "#13a8a8", "#2f54eb", "#52c41a", "#fa8c16", "#eb2f96", "#722ed1", "#08979c"];

/** A stable colour per person, for initial-letter avatars. */
export function avatarColour(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i += 1) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return AVATAR_COLOURS[hash % AVATAR_COLOURS.length]!;
}

/** What an avatar shows: the last two characters of a Chinese name (as the apps do), else the initial. */
export function avatarText(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) return "?";
  if (/^[\u4e00-\u9fff]+$/.test(trimmed)) return trimmed.length > 2 ? trimmed.slice(-2) : trimmed;
  return trimmed.slice(0, 1).toUpperCase();
}
