import { ApartmentOutlined, ArrowLeftOutlined, RightOutlined, SearchOutlined, TeamOutlined } from "@ant-design/icons";
import { Alert, Breadcrumb, Button, Card, Drawer, Empty, Input, Skeleton, Tree, Typography } from "antd";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router";

import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import "./directory.css";
import { MemberCardView } from "./MemberCardView";
import { DepartmentMembers } from "./MemberRows";
import { pathTo, type DepartmentNode, type TreeIndex } from "./model";
import { SearchResults } from "./SearchResults";
import { useDirectoryTree } from "./useDirectoryTree";
import { WatermarkOverlay } from "./Watermark";

type Params = { dept?: string | null; member?: string | null; q?: string | null };

/** Where the page is, kept in the URL so that reloading and the back button work (phones rely on it). */
function useContactsLocation() {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const navigate = useNavigate();
  const dept = params.get("dept");
  const member = params.get("member");
  const q = params.get("q") ?? "";
  const go = (next: Params, { replace = false }: { replace?: boolean } = {}) => {
    const merged = { dept, member, q, ...next };
    const search = new URLSearchParams();
    if (merged.dept) search.set("dept", merged.dept);
    if (merged.q) search.set("q", merged.q);
    if (merged.member) search.set("member", merged.member);
    // Marked, so that "back" can return through the browser history to where the person was.
    setParams(search, { replace, state: { inContacts: true } });
  };
  /** Back to `parent`: through the history when we came from there, else by replacing this entry. */
  const back = (parent: Params) => {
    if ((location.state as { inContacts?: boolean } | null)?.inContacts) navigate(-1);
    else go(parent, { replace: true });
  };
  return { dept, member, q, go, back };
}

interface TreeNode {
  key: string;
  title: ReactNode;
  children?: TreeNode[];
}

function DepartmentTree({
  index,
  selected,
  onSelect,
}: {
  index: TreeIndex<DepartmentNode>;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const [expanded, setExpanded] = useState<string[]>([]);
  // Open the root and the way down to the selected department.
  useEffect(() => {
    const wanted = [...index.roots.map((root) => root.id), ...pathTo(index, selected).map((d) => d.id)];
    setExpanded((current) => Array.from(new Set([...current, ...wanted])));
  }, [index, selected]);
  const data = useMemo(() => {
    const build = (node: DepartmentNode): TreeNode => {
      const kids = index.children.get(node.id) ?? [];
      return {
        key: node.id,
        title: (
          <span className="zt-dir-tree-title" data-testid="tree-dept" data-dept-id={node.id}>
            <span className="zt-dir-tree-name">{node.name}</span>
            <span className="zt-dir-count">{node.member_count}</span>
          </span>
        ),
        children: kids.length ? kids.map(build) : undefined,
      };
    };
    return index.roots.map(build);
  }, [index]);
  return (
    <Tree
      blockNode
      className="zt-dir-tree"
      data-testid="dept-tree"
      treeData={data}
      expandedKeys={expanded}
      onExpand={(keys) => setExpanded(keys.map(String))}
      selectedKeys={selected ? [selected] : []}
      onSelect={(_keys, info) => onSelect(String(info.node.key))}
    />
  );
}

function DepartmentPanel({
  index,
  departmentId,
  onDepartment,
  onMember,
  activeMemberId,
}: {
  index: TreeIndex<DepartmentNode>;
  departmentId: string;
  onDepartment: (id: string) => void;
  onMember: (id: string) => void;
  activeMemberId: string | null;
}) {
  const t = useT();
  const department = index.byId.get(departmentId);
  if (!department) return <Empty description={t("contacts.deptMissing")} />;
  const trail = pathTo(index, departmentId);
  const children = index.children.get(departmentId) ?? [];
  return (
    <div data-testid="dept-panel" data-dept-id={departmentId}>
      <Breadcrumb
        className="zt-dir-breadcrumb"
        data-testid="dept-breadcrumb"
        items={trail.map((d, i) => ({
          key: d.id,
          title:
            i === trail.length - 1 ? (
              <span>{d.name}</span>
            ) : (
              <a
                href={`?dept=${d.id}`}
                onClick={(event) => {
                  event.preventDefault();
                  onDepartment(d.id);
                }}
              >
                {d.name}
              </a>
            ),
        }))}
      />
      <div className="zt-dir-dept-head">
        <Typography.Title level={5} style={{ margin: 0 }} data-testid="dept-title">
          {department.name}
        </Typography.Title>
        <Typography.Text type="secondary">{t("contacts.deptCount", { count: department.member_count })}</Typography.Text>
      </div>
      {children.length > 0 && (
        <section className="zt-dir-section">
          <Typography.Text type="secondary" className="zt-dir-section-title">
            {t("contacts.subDepartments")}
          </Typography.Text>
          <div className="zt-dir-rows">
            {children.map((child) => (
              <button key={child.id} type="button" className="zt-dir-row" onClick={() => onDepartment(child.id)} data-testid="sub-dept">
                <span className="zt-dir-folder">
                  <ApartmentOutlined />
                </span>
                <span className="zt-dir-row-main">
                  <span className="zt-dir-row-name">{child.name}</span>
                </span>
                <span className="zt-dir-count">{child.member_count}</span>
                <RightOutlined className="zt-dir-row-arrow" />
              </button>
            ))}
          </div>
        </section>
      )}
      <section className="zt-dir-section">
        <Typography.Text type="secondary" className="zt-dir-section-title">
          {t("contacts.members")}
        </Typography.Text>
        <DepartmentMembers departmentId={departmentId} onOpen={onMember} activeId={activeMemberId} />
      </section>
    </div>
  );
}

function SearchBox({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const t = useT();
  return (
    <Input
      allowClear
      size="large"
      prefix={<SearchOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
      placeholder={t("contacts.search.placeholder")}
      aria-label={t("contacts.search.placeholder")}
      value={value}
      onChange={(event) => onChange(event.target.value)}
      data-testid="contacts-search"
      maxLength={64}
    />
  );
}

export default function ContactsPage() {
  const t = useT();
  const phone = useIsPhone();
  const { tree, index, error } = useDirectoryTree();
  const { dept, member, q, go, back } = useContactsLocation();
  const root = index.roots[0]?.id ?? null;
  const watermark = tree?.watermark.enabled ? <WatermarkOverlay text={tree.watermark.text} /> : null;

  const openDepartment = (id: string) => go({ dept: id, member: null, q: "" });
  const openMember = (id: string) => go({ member: id });
  const setQuery = (value: string) => go({ q: value, member: null }, { replace: true });

  const header = (
    <Typography.Title level={4} className="zt-page-title">
      {t("nav.contacts")}
    </Typography.Title>
  );

  if (error) {
    return (
      <div data-testid="page-contacts">
        {header}
        <Alert type="error" showIcon title={error} />
      </div>
    );
  }
  if (!tree) {
    return (
      <div data-testid="page-contacts">
        {header}
        <Card variant="borderless">
          <Skeleton active paragraph={{ rows: 8 }} />
        </Card>
      </div>
    );
  }

  if (phone) {
    // Stacked views: tree (with search) → a department's list → a person's card.
    const view = member ? "card" : dept ? "list" : "tree";
    return (
      <div data-testid="page-contacts" data-view={view} className="zt-dir-phone">
        {watermark}
        {view === "card" && member && (
          <div data-testid="phone-card">
            <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => back({ member: null })} className="zt-dir-back" data-testid="contacts-back">
              {t("common.back")}
            </Button>
            <Card variant="borderless">
              <MemberCardView memberId={member} compact />
            </Card>
          </div>
        )}
        {view === "list" && dept && (
          <div data-testid="phone-list">
            <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => go({ dept: null, q: "" })} className="zt-dir-back" data-testid="contacts-back">
              {t("contacts.allDepartments")}
            </Button>
            <Card variant="borderless">
              <DepartmentPanel index={index} departmentId={dept} onDepartment={openDepartment} onMember={openMember} activeMemberId={null} />
            </Card>
          </div>
        )}
        {view === "tree" && (
          <>
            {header}
            <div style={{ marginBottom: 12 }}>
              <SearchBox value={q} onChange={setQuery} />
            </div>
            <Card variant="borderless">
              {q.trim() ? (
                <SearchResults query={q} index={index} onDepartment={openDepartment} onMember={openMember} />
              ) : index.roots.length === 0 ? (
                <Empty description={t("contacts.empty")} />
              ) : (
                <DepartmentTree index={index} selected={null} onSelect={openDepartment} />
              )}
            </Card>
          </>
        )}
      </div>
    );
  }

  const current = dept ?? root;
  return (
    <div data-testid="page-contacts" className="zt-dir">
      {watermark}
      {header}
      <div className="zt-dir-layout">
        <Card variant="borderless" className="zt-dir-side" styles={{ body: { padding: 12 } }}>
          <SearchBox value={q} onChange={setQuery} />
          <div className="zt-dir-side-label">
            <TeamOutlined /> {t("contacts.orgStructure")}
          </div>
          {index.roots.length === 0 ? (
            <Empty description={t("contacts.empty")} />
          ) : (
            <DepartmentTree index={index} selected={q.trim() ? null : current} onSelect={openDepartment} />
          )}
        </Card>
        <Card variant="borderless" className="zt-dir-main">
          {q.trim() ? (
            <>
              <Typography.Title level={5} style={{ marginTop: 0 }}>
                {t("contacts.search.title", { query: q.trim() })}
              </Typography.Title>
              <SearchResults query={q} index={index} onDepartment={openDepartment} onMember={openMember} activeMemberId={member} />
            </>
          ) : current ? (
            <DepartmentPanel index={index} departmentId={current} onDepartment={openDepartment} onMember={openMember} activeMemberId={member} />
          ) : (
            <Empty description={t("contacts.empty")} />
          )}
        </Card>
      </div>
      <Drawer
        open={Boolean(member)}
        onClose={() => back({ member: null })}
        title={t("contacts.card.title")}
        size={440}
        destroyOnHidden
        rootClassName="zt-member-drawer"
      >
        {member && <MemberCardView memberId={member} />}
      </Drawer>
    </div>
  );
}
