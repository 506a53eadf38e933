import { CheckOutlined, CloseOutlined, LinkOutlined, ReloadOutlined, StopOutlined } from "@ant-design/icons";
import { Alert, App, Button, Card, Flex, Form, InputNumber, Popconfirm, QRCode, Segmented, Space, Table, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useCallback, useEffect, useState } from "react";

import { api, call, type ResponseOf } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import type { DepartmentNode, TreeIndex } from "../directory/model";
import { DepartmentSelect, formatDateTime, problemText, type CreatedOf } from "./shared";

type Invite = CreatedOf<"/api/v1/org/invites", "post">;
type JoinRequest = ResponseOf<"/api/v1/org/join-requests", "get">[number];
type RequestStatus = "pending" | "approved" | "rejected";

function InviteCard({ index }: { index: TreeIndex<DepartmentNode> }) {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const [department, setDepartment] = useState<string | null>(index.roots[0]?.id ?? null);
  const [days, setDays] = useState<number>(7);
  const [invite, setInvite] = useState<(Invite & { departmentName: string }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!department && index.roots[0]) setDepartment(index.roots[0].id);
  }, [index, department]);

  const create = async () => {
    if (!department) return;
    setBusy(true);
    setError(null);
    try {
      const created = await call(api.POST("/api/v1/org/invites", { body: { department_id: department, valid_days: days } }));
      setInvite({ ...created, departmentName: index.byId.get(department)?.name ?? "" });
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async () => {
    if (!invite) return;
    try {
      await call(api.DELETE("/api/v1/org/invites/{invite_id}", { params: { path: { invite_id: invite.id } } }));
      message.success(t("admin.invite.revoked"));
      setInvite(null);
    } catch (thrown) {
      message.error(problemText(thrown));
    }
  };
  const link = invite ? new URL(invite.join_path, window.location.origin).toString() : "";
  return (
    <Card size="small" title={<span><LinkOutlined /> {t("admin.invite.title")}</span>} data-testid="invite-card">
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t("admin.invite.help")}
      </Typography.Paragraph>
      <Form layout="vertical">
        <Form.Item label={t("admin.invite.department")}>
          <DepartmentSelect index={index} value={department} onChange={(v) => setDepartment((v as string | undefined) ?? null)} allowClear={false} testId="invite-department" />
        </Form.Item>
        <Form.Item label={t("admin.invite.validDays")}>
          <InputNumber min={1} max={90} value={days} onChange={(v) => setDays(v ?? 7)} suffix={t("admin.invite.days")} style={{ width: 160 }} data-testid="invite-days" />
        </Form.Item>
        {error && <Alert type="error" showIcon title={error} style={{ marginBottom: 12 }} />}
        <Button type="primary" onClick={() => void create()} loading={busy} disabled={!department} data-testid="invite-create">
          {t("admin.invite.create")}
        </Button>
      </Form>
      {invite && (
        <div className="zt-invite-result" data-testid="invite-result">
          <QRCode value={link} size={168} bordered={false} data-testid="invite-qr" />
          <Space orientation="vertical" size={6} style={{ minWidth: 0, flex: 1 }}>
            <Typography.Text strong>{t("admin.invite.into", { department: invite.departmentName })}</Typography.Text>
            <Typography.Paragraph copyable={{ text: link }} className="zt-invite-link" style={{ margin: 0 }} data-testid="invite-link">
              {link}
            </Typography.Paragraph>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("admin.invite.expires", { time: formatDateTime(language, invite.expires_at) })}
            </Typography.Text>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t("admin.invite.approvalNote")}
            </Typography.Text>
            <Popconfirm title={t("admin.invite.revokeConfirm")} okButtonProps={{ danger: true }} onConfirm={() => revoke()}>
              <Button size="small" danger icon={<StopOutlined />} style={{ alignSelf: "flex-start" }}>
                {t("admin.invite.revoke")}
              </Button>
            </Popconfirm>
          </Space>
        </div>
      )}
    </Card>
  );
}

function JoinRequests() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [status, setStatus] = useState<RequestStatus>("pending");
  const [requests, setRequests] = useState<JoinRequest[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deciding, setDeciding] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setRequests(await call(api.GET("/api/v1/org/join-requests", { params: { query: { status } } })));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, [status]);
  useEffect(() => {
    setRequests(null);
    void load();
  }, [load]);
  const decide = async (request: JoinRequest, approve: boolean) => {
    setDeciding(request.id);
    try {
      await call(
        api.POST("/api/v1/org/join-requests/{request_id}/decision", { params: { path: { request_id: request.id } }, body: { approve } }),
      );
      message.success(approve ? t("admin.join.approved", { name: request.name }) : t("admin.join.rejected", { name: request.name }));
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setDeciding(null);
    }
  };
  const columns: ColumnsType<JoinRequest> = [
    {
      title: t("admin.member.name"),
      dataIndex: "name",
      render: (name: string, request) => (
        <Space orientation="vertical" size={0}>
          <Typography.Text strong>{name}</Typography.Text>
          {phone && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{request.mobile_masked}</Typography.Text>}
        </Space>
      ),
    },
    { title: t("admin.member.mobile"), dataIndex: "mobile_masked", responsive: ["md"] },
    { title: t("admin.join.at"), dataIndex: "created_at", responsive: ["md"], render: (value: string) => formatDateTime(language, value) },
    {
      title: status === "pending" ? t("admin.actions") : t("admin.member.status"),
      key: "actions",
      width: phone ? 120 : 190,
      render: (_: unknown, request) =>
        request.status === "pending" ? (
          <Space size={4} wrap>
            <Button size="small" type="primary" icon={<CheckOutlined />} loading={deciding === request.id} onClick={() => void decide(request, true)} data-testid="join-approve">
              {t("admin.join.approve")}
            </Button>
            <Popconfirm title={t("admin.join.rejectConfirm", { name: request.name })} okButtonProps={{ danger: true }} onConfirm={() => decide(request, false)}>
              <Button size="small" danger icon={<CloseOutlined />} data-testid="join-reject">
                {t("admin.join.reject")}
              </Button>
            </Popconfirm>
          </Space>
        ) : (
          <Tag color={request.status === "approved" ? "success" : "default"}>{t(request.status === "approved" ? "admin.join.statusApproved" : "admin.join.statusRejected")}</Tag>
        ),
    },
  ];
  return (
    <Card
      size="small"
      title={t("admin.join.title")}
      extra={<Button size="small" icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("devices.refresh")} data-testid="join-refresh" />}
      data-testid="join-requests"
    >
      <Flex style={{ marginBottom: 12 }}>
        <Segmented<RequestStatus>
          value={status}
          onChange={setStatus}
          options={[
            { value: "pending", label: t("admin.join.pending") },
            { value: "approved", label: t("admin.join.statusApproved") },
            { value: "rejected", label: t("admin.join.statusRejected") },
          ]}
        />
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<JoinRequest>
        rowKey="id"
        size="small"
        columns={columns}
        dataSource={requests ?? []}
        loading={requests === null && !error}
        pagination={{ pageSize: 20, hideOnSinglePage: true, size: "small" }}
        locale={{ emptyText: t("admin.join.none") }}
        data-testid="join-table"
      />
    </Card>
  );
}

export function InvitesSection({ index }: { index: TreeIndex<DepartmentNode> }) {
  return (
    <div className="zt-admin-two" data-testid="admin-invites">
      <InviteCard index={index} />
      <JoinRequests />
    </div>
  );
}
