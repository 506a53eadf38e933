// Choosing people from the address book: search by name or pinyin, or browse the departments.
import { ApartmentOutlined, RightOutlined, SearchOutlined } from "@ant-design/icons";
import { Alert, Avatar, Breadcrumb, Button, Checkbox, Empty, Input, Modal, Spin, Tag, type ButtonProps } from "antd";
import { useEffect, useMemo, useState, type ReactNode } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { avatarColour, avatarText, pathTo, type MemberBrief } from "../directory/model";
import { useDirectorySearch } from "../directory/SearchResults";
import { useDirectoryTree } from "../directory/useDirectoryTree";

export interface Picked {
  id: string;
  name: string;
}

const PAGE = 100;

function useDepartmentMembers(departmentId: string | null) {
  const [items, setItems] = useState<MemberBrief[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = async (offset: number) => {
    if (!departmentId) return;
    setLoading(true);
    try {
      const page = await call(
        api.GET("/api/v1/directory/departments/{department_id}/members", {
          params: { path: { department_id: departmentId }, query: { offset, limit: PAGE } },
        }),
      );
      setItems((current) => (offset === 0 ? page.items : [...current, ...page.items]));
      setTotal(page.total);
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setItems([]);
    setTotal(0);
    void load(0);
  }, [departmentId]); // eslint-disable-line react-hooks/exhaustive-deps
  return { items, total, loading, error, more: () => void load(items.length) };
}

function PersonRow({
  member,
  checked,
  disabled,
  multiple,
  onToggle,
}: {
  member: MemberBrief;
  checked: boolean;
  disabled: boolean;
  multiple: boolean;
  onToggle: (member: MemberBrief) => void;
}) {
  const sub = [member.title, ...(member.department_names ?? [])].filter(Boolean).join(" · ");
  return (
    <button
      type="button"
      className={`zt-pick-row${checked ? " is-checked" : ""}`}
      disabled={disabled}
      onClick={() => onToggle(member)}
      data-testid="picker-member"
      data-member-id={member.id}
    >
      {multiple && <Checkbox checked={checked || disabled} disabled={disabled} tabIndex={-1} />}
      <Avatar size={32} style={{ backgroundColor: avatarColour(member.id), flex: "none", fontSize: 12 }}>
        {avatarText(member.name)}
      </Avatar>
      <span className="zt-pick-main">
        <span className="zt-pick-name">{member.name}</span>
        {sub && <span className="zt-pick-sub">{sub}</span>}
      </span>
    </button>
  );
}

export function MemberPicker({
  open,
  title,
  multiple,
  exclude,
  confirmText,
  confirmLoading,
  minimum = 1,
  extra,
  onCancel,
  onConfirm,
}: {
  open: boolean;
  title: string;
  multiple: boolean;
  /** People who cannot be picked (already in the group, or oneself). */
  exclude?: ReadonlySet<string>;
  confirmText?: string;
  confirmLoading?: boolean;
  minimum?: number;
  extra?: ReactNode;
  onCancel: () => void;
  onConfirm: (picked: Picked[]) => void;
}) {
  const t = useT();
  const phone = useIsPhone();
  const [query, setQuery] = useState("");
  const [picked, setPicked] = useState<Picked[]>([]);
  const { tree, index, error: treeError } = useDirectoryTree();
  const [departmentId, setDepartmentId] = useState<string | null>(null);
  const root = index.roots[0]?.id ?? null;
  const current = departmentId ?? root;
  const department = useDepartmentMembers(open && !query.trim() ? current : null);
  const search = useDirectorySearch(open ? query : "");

  useEffect(() => {
    if (!open) {
      setQuery("");
      setPicked([]);
      setDepartmentId(null);
    }
  }, [open]);

  const pickedIds = useMemo(() => new Set(picked.map((p) => p.id)), [picked]);
  const toggle = (member: MemberBrief) => {
    if (!multiple) {
      onConfirm([{ id: member.id, name: member.name }]);
      return;
    }
    setPicked((current) =>
      current.some((p) => p.id === member.id) ? current.filter((p) => p.id !== member.id) : [...current, { id: member.id, name: member.name }],
    );
  };
  const rows = (members: MemberBrief[]) =>
    members.map((member) => (
      <PersonRow
        key={member.id}
        member={member}
        multiple={multiple}
        checked={pickedIds.has(member.id)}
        disabled={exclude?.has(member.id) ?? false}
        onToggle={toggle}
      />
    ));

  let body: ReactNode;
  if (query.trim()) {
    if (search.error) body = <Alert type="error" showIcon title={search.error} />;
    else if (!search.result) body = <div className="zt-pick-loading"><Spin /></div>;
    else if (search.result.members.length === 0) {
      body = <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("chat.picker.none", { query: query.trim() })} />;
    } else body = <div data-testid="picker-results" data-loading={search.loading ? "true" : "false"}>{rows(search.result.members)}</div>;
  } else if (treeError) {
    body = <Alert type="error" showIcon title={treeError} />;
  } else if (!tree || !current) {
    body = <div className="zt-pick-loading"><Spin /></div>;
  } else {
    const trail = pathTo(index, current);
    const children = index.children.get(current) ?? [];
    body = (
      <>
        <Breadcrumb
          className="zt-pick-trail"
          items={trail.map((d, i) => ({
            key: d.id,
            title:
              i === trail.length - 1 ? (
                d.name
              ) : (
                <a
                  href={`#${d.id}`}
                  onClick={(event) => {
                    event.preventDefault();
                    setDepartmentId(d.id);
                  }}
                >
                  {d.name}
                </a>
              ),
          }))}
        />
        {children.map((child) => (
          <button key={child.id} type="button" className="zt-pick-row" onClick={() => setDepartmentId(child.id)} data-testid="picker-dept">
            <span className="zt-pick-folder">
              <ApartmentOutlined />
            </span>
            <span className="zt-pick-main">
              <span className="zt-pick-name">{child.name}</span>
            </span>
            <span className="zt-pick-count">{child.member_count}</span>
            <RightOutlined className="zt-pick-arrow" />
          </button>
        ))}
        {rows(department.items)}
        {department.loading && <div className="zt-pick-loading"><Spin size="small" /></div>}
        {department.error && <Alert type="error" showIcon title={department.error} />}
        {!department.loading && department.items.length < department.total && (
          <Button type="link" block onClick={department.more}>
            {t("contacts.loadMore")}
          </Button>
        )}
      </>
    );
  }

  return (
    <Modal
      open={open}
      title={title}
      onCancel={onCancel}
      destroyOnHidden
      width={phone ? "100%" : 560}
      className={phone ? "zt-modal-phone" : undefined}
      okText={confirmText ?? t("common.confirm")}
      okButtonProps={{ disabled: picked.length < minimum, "data-testid": "picker-confirm" } as ButtonProps}
      confirmLoading={confirmLoading}
      onOk={() => onConfirm(picked)}
      footer={multiple ? undefined : null}
      styles={{ body: { paddingTop: 4 } }}
    >
      <div className="zt-pick" data-testid="member-picker">
        {extra}
        <Input
          allowClear
          autoFocus
          prefix={<SearchOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
          placeholder={t("chat.picker.search")}
          aria-label={t("chat.picker.search")}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          data-testid="picker-search"
          maxLength={64}
        />
        {multiple && picked.length > 0 && (
          <div className="zt-pick-chosen" data-testid="picker-chosen">
            {picked.map((p) => (
              <Tag key={p.id} closable onClose={() => setPicked((current) => current.filter((x) => x.id !== p.id))}>
                {p.name}
              </Tag>
            ))}
          </div>
        )}
        <div className="zt-pick-list">{body}</div>
      </div>
    </Modal>
  );
}
