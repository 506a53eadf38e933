import {
  ArrowDownOutlined,
  ArrowUpOutlined,
  DeleteOutlined,
  DragOutlined,
  EyeInvisibleOutlined,
  PlusOutlined,
  SwapOutlined,
} from "@ant-design/icons";
import { Alert, App, Breadcrumb, Button, Card, Empty, Flex, Form, Input, Popconfirm, Space, Switch, Tag, Tree, Typography } from "antd";
import type { TreeProps } from "antd";
import { useCallback, useEffect, useMemo, useState, type ReactNode } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { indexTree, pathTo, subtreeIds, type DepartmentNode, type TreeIndex } from "../directory/model";
import { DepartmentSelect, MemberPicker, problemText } from "./shared";

type Department = ResponseOf<"/api/v1/org/departments", "get">[number];

interface Node {
  key: string;
  title: ReactNode;
  children?: Node[];
}

async function patchDepartment(id: string, body: Record<string, unknown>): Promise<Department> {
  return call(api.PATCH("/api/v1/org/departments/{department_id}", { params: { path: { department_id: id } }, body }));
}

/** Puts `moving` at `position` among `siblings` and writes every sort_order that changed. */
async function reorder(siblings: Department[], moving: Department, position: number, parentId: string | null): Promise<void> {
  const others = siblings.filter((d) => d.id !== moving.id);
  const ordered = [...others.slice(0, position), moving, ...others.slice(position)];
  for (const [order, department] of ordered.entries()) {
    const movesHere = department.id === moving.id && parentId !== null && parentId !== moving.parent_id;
    if (movesHere) await patchDepartment(department.id, { parent_id: parentId, sort_order: order });
    else if (department.sort_order !== order) await patchDepartment(department.id, { sort_order: order });
  }
}

function HiddenEditor({
  department,
  counts,
  onSaved,
}: {
  department: Department;
  counts: TreeIndex<DepartmentNode>;
  onSaved: () => void;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [hidden, setHidden] = useState(department.hidden);
  const [members, setMembers] = useState<string[]>(department.hidden_whitelist.members ?? []);
  const [departments, setDepartments] = useState<string[]>(department.hidden_whitelist.departments ?? []);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    setHidden(department.hidden);
    setMembers(department.hidden_whitelist.members ?? []);
    setDepartments(department.hidden_whitelist.departments ?? []);
    setError(null);
  }, [department]);
  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      await patchDepartment(department.id, { hidden, hidden_whitelist: { members, departments } });
      message.success(t("admin.saved"));
      onSaved();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setSaving(false);
    }
  };
  return (
    <div data-testid="dept-hidden">
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("admin.dept.hiddenHelp")}
      </Typography.Paragraph>
      <Form layout="vertical">
        <Form.Item label={t("admin.dept.hidden")}>
          <Switch checked={hidden} onChange={setHidden} data-testid="dept-hidden-switch" />
        </Form.Item>
        {hidden && (
          <>
            <Form.Item label={t("admin.dept.whitelistMembers")}>
              <MemberPicker mode="multiple" value={members} onChange={(v) => setMembers((v as string[]) ?? [])} />
            </Form.Item>
            <Form.Item label={t("admin.dept.whitelistDepartments")}>
              <DepartmentSelect index={counts} multiple value={departments} onChange={(v) => setDepartments((v as string[]) ?? [])} />
            </Form.Item>
          </>
        )}
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
        <Button onClick={() => void save()} loading={saving} data-testid="dept-hidden-save">
          {t("common.save")}
        </Button>
      </Form>
    </div>
  );
}

function DepartmentDetail({
  department,
  index,
  counts,
  canHide,
  onChanged,
  onSelect,
}: {
  department: Department;
  index: TreeIndex<Department>;
  counts: TreeIndex<DepartmentNode>;
  canHide: boolean;
  onChanged: (select?: string | null) => void;
  onSelect: (id: string) => void;
}) {
  const t = useT();
  const { message } = App.useApp();
  const [name, setName] = useState(department.name);
  const [child, setChild] = useState("");
  const [target, setTarget] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    setName(department.name);
    setChild("");
    setTarget(null);
    setError(null);
  }, [department.id, department.name]);

  const isRoot = department.parent_id === null;
  const trail = pathTo(index, department.id);
  const siblings = department.parent_id ? (index.children.get(department.parent_id) ?? []) : [];
  const position = siblings.findIndex((d) => d.id === department.id);
  const ownSubtree = useMemo(() => subtreeIds(index, department.id), [index, department.id]);
  const count = counts.byId.get(department.id)?.member_count;

  const run = async (what: string, action: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await action();
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setBusy(null);
    }
  };

  const rename = () =>
    run("rename", async () => {
      await patchDepartment(department.id, { name: name.trim() });
      message.success(t("admin.saved"));
      onChanged();
    });
  const create = () =>
    run("create", async () => {
      const kids = index.children.get(department.id) ?? [];
      const created = await call(
        api.POST("/api/v1/org/departments", {
          body: { parent_id: department.id, name: child.trim(), chat_group: false, sort_order: kids.length ? Math.max(...kids.map((k) => k.sort_order)) + 1 : 0 },
        }),
      );
      message.success(t("admin.dept.created", { name: created.name }));
      setChild("");
      onChanged(created.id);
    });
  const move = () =>
    run("move", async () => {
      if (!target) return;
      const kids = (index.children.get(target) ?? []).filter((d) => d.id !== department.id);
      await patchDepartment(department.id, {
        parent_id: target,
        sort_order: kids.length ? Math.max(...kids.map((k) => k.sort_order)) + 1 : 0,
      });
      message.success(t("admin.dept.moved", { name: department.name, target: index.byId.get(target)?.name ?? "" }));
      setTarget(null);
      onChanged(department.id);
    });
  const shift = (delta: number) =>
    run("order", async () => {
      await reorder(siblings, department, position + delta, null);
      onChanged(department.id);
    });
  const remove = () =>
    run("delete", async () => {
      await call(api.DELETE("/api/v1/org/departments/{department_id}", { params: { path: { department_id: department.id } } }));
      message.success(t("admin.dept.deleted", { name: department.name }));
      onChanged(department.parent_id);
    });

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="dept-detail" data-dept-id={department.id}>
      <div>
        <Breadcrumb
          items={trail.map((d) => ({
            key: d.id,
            title: d.id === department.id ? d.name : <a onClick={() => onSelect(d.id)}>{d.name}</a>,
          }))}
        />
        <Flex align="center" gap={8} wrap style={{ marginTop: 6 }}>
          <Typography.Title level={5} style={{ margin: 0 }} data-testid="dept-detail-name">
            {department.name}
          </Typography.Title>
          {count !== undefined && <Typography.Text type="secondary">{t("contacts.deptCount", { count })}</Typography.Text>}
          {department.hidden && (
            <Tag icon={<EyeInvisibleOutlined />} color="orange">
              {t("admin.dept.hiddenTag")}
            </Tag>
          )}
        </Flex>
      </div>
      {error && <Alert type="error" showIcon title={error} data-testid="dept-error" closable={{ onClose: () => setError(null) }} />}

      <Card size="small" title={t("admin.dept.rename")}>
        <Space.Compact style={{ width: "100%" }}>
          <Input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="dept-rename-input" />
          <Button
            type="primary"
            onClick={() => void rename()}
            loading={busy === "rename"}
            disabled={!name.trim() || name.trim() === department.name}
            data-testid="dept-rename-save"
          >
            {t("common.save")}
          </Button>
        </Space.Compact>
      </Card>

      <Card size="small" title={t("admin.dept.addChild")}>
        <Space.Compact style={{ width: "100%" }}>
          <Input
            value={child}
            onChange={(e) => setChild(e.target.value)}
            placeholder={t("admin.dept.childPlaceholder")}
            maxLength={100}
            onPressEnter={() => child.trim() && void create()}
            data-testid="dept-new-name"
          />
          <Button icon={<PlusOutlined />} onClick={() => void create()} loading={busy === "create"} disabled={!child.trim()} data-testid="dept-create">
            {t("admin.dept.add")}
          </Button>
        </Space.Compact>
      </Card>

      {!isRoot && (
        <Card size="small" title={t("admin.dept.moveTitle")}>
          <Space orientation="vertical" style={{ width: "100%" }}>
            <Flex gap={8} wrap>
              <div style={{ flex: "1 1 220px", minWidth: 0 }}>
                <DepartmentSelect
                  index={index}
                  value={target}
                  onChange={(v) => setTarget((v as string | undefined) ?? null)}
                  disabledIds={ownSubtree}
                  placeholder={t("admin.dept.moveTo")}
                  testId="dept-move-target"
                />
              </div>
              <Button icon={<SwapOutlined />} onClick={() => void move()} loading={busy === "move"} disabled={!target} data-testid="dept-move">
                {t("admin.dept.move")}
              </Button>
            </Flex>
            <Flex gap={8} align="center" wrap>
              <Typography.Text type="secondary">{t("admin.dept.order")}</Typography.Text>
              <Button size="small" icon={<ArrowUpOutlined />} disabled={position <= 0} loading={busy === "order"} onClick={() => void shift(-1)} data-testid="dept-up">
                {t("admin.dept.up")}
              </Button>
              <Button
                size="small"
                icon={<ArrowDownOutlined />}
                disabled={position < 0 || position >= siblings.length - 1}
                loading={busy === "order"}
                onClick={() => void shift(1)}
                data-testid="dept-down"
              >
                {t("admin.dept.down")}
              </Button>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                <DragOutlined /> {t("admin.dept.dragHint")}
              </Typography.Text>
            </Flex>
          </Space>
        </Card>
      )}

      {canHide && !isRoot && (
        <Card size="small" title={t("admin.dept.visibility")}>
          <HiddenEditor department={department} counts={counts} onSaved={() => onChanged(department.id)} />
        </Card>
      )}

      {!isRoot && (
        <Card size="small" title={t("admin.dept.delete")}>
          <Flex justify="space-between" align="center" gap={12} wrap>
            <Typography.Text type="secondary">{t("admin.dept.deleteHelp")}</Typography.Text>
            <Popconfirm
              title={t("admin.dept.deleteConfirm", { name: department.name })}
              okText={t("admin.dept.delete")}
              okButtonProps={{ danger: true }}
              onConfirm={() => remove()}
            >
              <Button danger icon={<DeleteOutlined />} loading={busy === "delete"} data-testid="dept-delete">
                {t("admin.dept.delete")}
              </Button>
            </Popconfirm>
          </Flex>
        </Card>
      )}
    </Space>
  );
}

export function DepartmentsSection({
  counts,
  canHide,
  onChanged,
}: {
  counts: TreeIndex<DepartmentNode>;
  canHide: boolean;
  onChanged: () => void;
}) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [departments, setDepartments] = useState<Department[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string[]>([]);

  const load = useCallback(async () => {
    try {
      setDepartments(await call(api.GET("/api/v1/org/departments")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const index = useMemo(() => indexTree(departments ?? []), [departments]);
  const rootId = index.roots[0]?.id ?? null;
  const current = (selected && index.byId.get(selected)) || (rootId ? index.byId.get(rootId) : undefined);

  useEffect(() => {
    const wanted = [...index.roots.map((r) => r.id), ...pathTo(index, current?.id).map((d) => d.id)];
    setExpanded((keys) => Array.from(new Set([...keys, ...wanted])));
  }, [index, current?.id]);

  const changed = async (select?: string | null) => {
    if (select !== undefined) setSelected(select);
    await load();
    onChanged();
  };

  const treeData = useMemo(() => {
    const build = (d: Department): Node => {
      const kids = index.children.get(d.id) ?? [];
      return {
        key: d.id,
        title: (
          <span className="zt-dir-tree-title" data-testid="admin-tree-dept" data-dept-id={d.id}>
            <span className="zt-dir-tree-name">{d.name}</span>
            {d.hidden && <EyeInvisibleOutlined style={{ color: "#fa8c16" }} aria-label={t("admin.dept.hiddenTag")} />}
            <span className="zt-dir-count">{counts.byId.get(d.id)?.member_count ?? ""}</span>
          </span>
        ),
        children: kids.length ? kids.map(build) : undefined,
      };
    };
    return index.roots.map(build);
  }, [index, counts, t]);

  const onDrop: TreeProps["onDrop"] = (info) => {
    const moving = index.byId.get(String(info.dragNode.key));
    const target = index.byId.get(String(info.node.key));
    if (!moving || !target) return;
    const pos = info.node.pos.split("-");
    const relative = info.dropPosition - Number(pos[pos.length - 1]); // -1 before, 0 into, 1 after
    let parentId: string;
    let position: number;
    if (!info.dropToGap || relative === 0) {
      parentId = target.id;
      position = (index.children.get(target.id) ?? []).filter((d) => d.id !== moving.id).length;
    } else {
      if (!target.parent_id) return;
      parentId = target.parent_id;
      const siblings = (index.children.get(parentId) ?? []).filter((d) => d.id !== moving.id);
      const at = siblings.findIndex((d) => d.id === target.id);
      position = relative < 0 ? at : at + 1;
    }
    if (subtreeIds(index, moving.id).has(parentId)) return;
    const siblings = index.children.get(parentId) ?? [];
    void (async () => {
      try {
        await reorder(siblings, moving, position, parentId);
        message.success(t("admin.dept.movedShort", { name: moving.name }));
      } catch (thrown) {
        message.error(problemText(thrown));
      }
      await changed(moving.id);
    })();
  };

  if (error) return <Alert type="error" showIcon title={error} />;
  return (
    <div className="zt-admin-split" data-testid="admin-departments">
      <Card size="small" className="zt-admin-split-side" title={t("admin.dept.tree")}>
        {departments === null ? null : departments.length === 0 ? (
          <Empty />
        ) : (
          <Tree
            blockNode
            draggable={phone ? false : { icon: false, nodeDraggable: (node) => node.key !== rootId }}
            allowDrop={({ dropNode, dropPosition }) => !(dropNode.key === rootId && dropPosition !== 0)}
            onDrop={onDrop}
            treeData={treeData}
            expandedKeys={expanded}
            onExpand={(keys) => setExpanded(keys.map(String))}
            selectedKeys={current ? [current.id] : []}
            onSelect={(keys) => keys[0] && setSelected(String(keys[0]))}
            className="zt-dir-tree"
            data-testid="admin-dept-tree"
          />
        )}
      </Card>
      <div className="zt-admin-split-main">
        {current ? (
          <DepartmentDetail
            key={current.id}
            department={current}
            index={index}
            counts={counts}
            canHide={canHide}
            onChanged={(select) => void changed(select)}
            onSelect={setSelected}
          />
        ) : (
          <Empty />
        )}
      </div>
    </div>
  );
}
