import { DeleteOutlined, EditOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, Flex, Input, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT, type MessageKey } from "../../i18n";
import type { DepartmentNode, TreeIndex } from "../directory/model";
import { MemberFormDrawer, type MemberAdmin } from "./MemberForm";
import { DepartmentSelect, problemText } from "./shared";

const PAGE_SIZE = 20;
type Status = "all" | "active" | "not_activated";

export function roleText(t: (key: MessageKey) => string, role: string): string | null {
  if (role === "main_admin") return t("role.main_admin");
  if (role === "admin") return t("role.admin");
  return null;
}

export function MembersSection({ index, onChanged }: { index: TreeIndex<DepartmentNode>; onChanged: () => void }) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [department, setDepartment] = useState<string | null>(null);
  const [status, setStatus] = useState<Status>("all");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ total: number; items: MemberAdmin[] } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<MemberAdmin | null>(null);
  const [formOpen, setFormOpen] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const result = await call(
        api.GET("/api/v1/org/members", {
          params: {
            query: {
              department_id: department ?? undefined,
              status: status === "all" ? undefined : status,
              q: query.trim() || undefined,
              offset: (page - 1) * PAGE_SIZE,
              limit: PAGE_SIZE,
            },
          },
        }),
      );
      setData(result);
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setLoading(false);
    }
  }, [department, status, query, page]);

  useEffect(() => {
    void load();
  }, [load]);

  const remove = async (member: MemberAdmin) => {
    try {
      await call(api.DELETE("/api/v1/org/members/{membership_id}", { params: { path: { membership_id: member.id } } }));
      message.success(t("admin.member.removed", { name: member.name }));
      onChanged();
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };

  const departmentNames = (member: MemberAdmin) =>
    member.seats.map((seat) => (
      <div key={seat.department_id} className="zt-admin-seat">
        {index.byId.get(seat.department_id)?.name ?? "—"}
        {seat.is_head && (
          <Tag color="gold" style={{ marginInlineStart: 6 }}>
            {t("contacts.head")}
          </Tag>
        )}
      </div>
    ));

  const statusTag = (member: MemberAdmin) =>
    member.status === "active" ? (
      <Tag color="success" data-testid="status-tag">
        {t("admin.member.active")}
      </Tag>
    ) : (
      <Tag data-testid="status-tag">{t("admin.member.notActivated")}</Tag>
    );

  const columns: ColumnsType<MemberAdmin> = [
    {
      title: t("admin.member.name"),
      dataIndex: "name",
      render: (_: unknown, member) => (
        <Space orientation="vertical" size={0}>
          <Space size={6} wrap>
            <Typography.Text strong>{member.name}</Typography.Text>
            {roleText(t, member.role) && <Tag color="blue">{roleText(t, member.role)}</Tag>}
            {phone && statusTag(member)}
          </Space>
          {phone && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {[member.mobile_masked, member.title, ...member.seats.map((seat) => index.byId.get(seat.department_id)?.name)]
                .filter(Boolean)
                .join(" · ")}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: t("admin.member.mobile"), dataIndex: "mobile_masked", responsive: ["md"], width: 130 },
    { title: t("admin.member.departments"), key: "seats", responsive: ["md"], render: (_: unknown, member) => departmentNames(member) },
    { title: t("contacts.field.title"), dataIndex: "title", responsive: ["lg"] },
    { title: t("contacts.field.jobNumber"), dataIndex: "job_number", responsive: ["xl"], render: (value: string | null) => value || "—" },
    { title: t("admin.member.status"), key: "status", responsive: ["md"], width: 96, render: (_: unknown, member) => statusTag(member) },
    {
      title: t("admin.actions"),
      key: "actions",
      width: phone ? 88 : 150,
      render: (_: unknown, member) => (
        <Space size={0}>
          <Button
            type="link"
            size="small"
            icon={<EditOutlined />}
            onClick={() => {
              setEditing(member);
              setFormOpen(true);
            }}
            data-testid="member-edit"
            aria-label={t("admin.edit")}
          >
            {!phone && t("admin.edit")}
          </Button>
          <Popconfirm
            title={t("admin.member.removeConfirm", { name: member.name })}
            description={t("admin.member.removeHelp")}
            okText={t("admin.member.remove")}
            okButtonProps={{ danger: true }}
            onConfirm={() => remove(member)}
            disabled={member.role === "main_admin"}
          >
            <Button
              type="link"
              size="small"
              danger
              icon={<DeleteOutlined />}
              disabled={member.role === "main_admin"}
              data-testid="member-remove"
              aria-label={t("admin.member.remove")}
            >
              {!phone && t("admin.member.remove")}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }} data-testid="admin-members">
      <Flex gap={8} wrap align="center">
        <div style={{ flex: phone ? "1 1 100%" : "0 1 240px", minWidth: 0 }}>
          <DepartmentSelect
            index={index}
            value={department}
            onChange={(value) => {
              setDepartment((value as string | undefined) ?? null);
              setPage(1);
            }}
            placeholder={t("admin.member.filterDept")}
            testId="members-filter-dept"
          />
        </div>
        <Select<Status>
          value={status}
          onChange={(value) => {
            setStatus(value);
            setPage(1);
          }}
          style={{ width: phone ? "calc(50% - 4px)" : 128 }}
          options={[
            { value: "all", label: t("admin.member.allStatus") },
            { value: "active", label: t("admin.member.active") },
            { value: "not_activated", label: t("admin.member.notActivated") },
          ]}
          data-testid="members-filter-status"
          aria-label={t("admin.member.status")}
        />
        <Input.Search
          allowClear
          placeholder={t("admin.member.searchPlaceholder")}
          onSearch={(value) => {
            setQuery(value);
            setPage(1);
          }}
          style={{ width: phone ? "calc(50% - 4px)" : 240 }}
          data-testid="members-search"
          maxLength={64}
        />
        <Flex gap={8} style={{ marginLeft: phone ? 0 : "auto" }}>
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("devices.refresh")} />
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => {
              setEditing(null);
              setFormOpen(true);
            }}
            data-testid="member-add"
          >
            {t("admin.member.add")}
          </Button>
        </Flex>
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<MemberAdmin>
        rowKey="id"
        size={phone ? "small" : "middle"}
        columns={columns}
        dataSource={data?.items ?? []}
        loading={loading}
        data-testid="members-table"
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total: data?.total ?? 0,
          showSizeChanger: false,
          onChange: setPage,
          showTotal: (total) => t("admin.member.total", { count: total }),
          size: "small",
        }}
      />
      <MemberFormDrawer
        open={formOpen}
        member={editing}
        index={index}
        defaultDepartment={department}
        onClose={() => setFormOpen(false)}
        onSaved={(saved, created) => {
          setFormOpen(false);
          message.success(created ? t("admin.member.added", { name: saved.name }) : t("admin.member.saved", { name: saved.name }));
          onChanged();
          void load();
        }}
      />
    </Space>
  );
}
