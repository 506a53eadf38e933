import { PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import {
  Alert,
  App,
  Button,
  DatePicker,
  Drawer,
  Flex,
  Form,
  Input,
  Modal,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { MemberPicker, problemText } from "../../admin/shared";
import { formatDateTime } from "../../settings/format";
import { CategoryTags } from "./DisclosuresTab";
import {
  DATA_CLASSES,
  DeadlineLine,
  isOpen,
  LEGAL_BASES,
  RECIPIENT_KINDS,
  RequestHistory,
  StatusTag,
  type AdminDisclosureEntry,
  type AdminPrivacyRequest,
} from "./shared";

/** 管理后台 › 个人信息申请: the request tracker and the disclosure ledger of the organisation. */
export function AdminRequestsSection() {
  const t = useT();
  const [view, setView] = useState<"requests" | "ledger">("requests");
  return (
    <Space orientation="vertical" size={12} style={{ width: "100%" }}>
      <Segmented<"requests" | "ledger">
        value={view}
        onChange={setView}
        data-testid="privacy-admin-view"
        options={[
          { value: "requests", label: t("privacy.rights.admin.tabRequests") },
          { value: "ledger", label: t("privacy.rights.admin.tabLedger") },
        ]}
      />
      {view === "requests" ? <RequestTracker /> : <DisclosureLedger />}
    </Space>
  );
}

type Filter = "pending" | "all";

function RequestTracker() {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const [filter, setFilter] = useState<Filter>("pending");
  const [requests, setRequests] = useState<AdminPrivacyRequest[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<AdminPrivacyRequest | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const all = await call(api.GET("/api/v1/privacy/admin/requests"));
      setRequests(all);
      setSelected((current) => (current ? (all.find((item) => item.id === current.id) ?? null) : null));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const shown = (requests ?? []).filter((request) => filter === "all" || isOpen(request.status));
  const overdue = (requests ?? []).filter((request) => isOpen(request.status) && request.deadline.overdue).length;
  return (
    <Space orientation="vertical" size={12} style={{ width: "100%" }}>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("privacy.rights.admin.desc")}
      </Typography.Paragraph>
      <Flex justify="space-between" gap={8} wrap>
        <Space wrap>
          <Segmented<Filter>
            value={filter}
            onChange={setFilter}
            options={[
              { value: "pending", label: t("privacy.rights.admin.filter.pending") },
              { value: "all", label: t("privacy.rights.admin.filter.all") },
            ]}
          />
          {overdue > 0 && (
            <Tag color="error" data-testid="overdue-count">
              {t("privacy.rights.admin.overdueCount", { count: overdue })}
            </Tag>
          )}
        </Space>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} loading={loading}>
          {t("privacy.rights.refresh")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<AdminPrivacyRequest>
        rowKey="id"
        data-testid="admin-requests"
        loading={loading && requests === null}
        dataSource={shown}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("privacy.rights.admin.empty") }}
        rowClassName={(row) => (isOpen(row.status) && row.deadline.overdue ? "zt-rights-overdue" : "")}
        onRow={(row) => ({ onClick: () => setSelected(row), style: { cursor: "pointer" } })}
        columns={[
          {
            title: t("privacy.rights.admin.requester"),
            key: "requester",
            render: (_, row) => (
              <>
                <Typography.Text strong>{row.requester_name}</Typography.Text>
                <div>{t(`privacy.rights.kind.${row.kind}`)}</div>
                {phone && (
                  <div>
                    <StatusTag status={row.status} /> <DeadlineLine deadline={row.deadline} open={isOpen(row.status)} />
                  </div>
                )}
              </>
            ),
          },
          {
            title: t("privacy.rights.admin.deadline"),
            key: "deadline",
            responsive: ["md"],
            render: (_, row) => <DeadlineLine deadline={row.deadline} open={isOpen(row.status)} />,
          },
          {
            title: t("privacy.rights.admin.status"),
            key: "status",
            responsive: ["md"],
            render: (_, row) => <StatusTag status={row.status} />,
          },
          {
            title: t("privacy.rights.admin.filed"),
            key: "filed",
            responsive: ["lg"],
            render: (_, row) => formatDateTime(language, row.created_at),
          },
          {
            title: "",
            key: "action",
            responsive: ["md"], // on a phone the whole row opens the request
            render: (_, row) => (
              <Button type="link" size="small" onClick={() => setSelected(row)}>
                {t("privacy.rights.admin.open")}
              </Button>
            ),
          },
        ]}
      />
      <RequestDrawer request={selected} onClose={() => setSelected(null)} onChanged={load} />
    </Space>
  );
}

function RequestDrawer({
  request,
  onClose,
  onChanged,
}: {
  request: AdminPrivacyRequest | null;
  onClose: () => void;
  onChanged: () => Promise<void>;
}) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => setNote(""), [request?.id]);

  if (!request) return <Drawer open={false} />;
  const path = { params: { path: { request_id: request.id } } };
  const open = isOpen(request.status);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
      message.success(t("privacy.rights.admin.updated"));
      setNote("");
      await onChanged();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setBusy(false);
    }
  };
  const setStatus = (status: "in_progress" | "done" | "refused") =>
    act(() =>
      call(api.POST("/api/v1/privacy/admin/requests/{request_id}/status", { ...path, body: { status, note: note.trim() } })),
    );

  return (
    <Drawer
      open
      onClose={onClose}
      size={phone ? "100%" : 520}
      title={
        <Space wrap>
          <span>
            {request.requester_name} · {t(`privacy.rights.kind.${request.kind}`)}
          </span>
          <StatusTag status={request.status} />
        </Space>
      }
      data-testid="request-drawer"
    >
      <DeadlineLine deadline={request.deadline} open={open} />
      <div className="zt-rights-text" style={{ marginTop: 12 }}>
        {request.details}
      </div>
      {request.resolution && (
        <Alert style={{ marginTop: 12 }} type="info" title={t("privacy.rights.requests.resolution")} description={request.resolution} />
      )}
      <RequestHistory request={request} />
      {open && (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Input.TextArea
            value={note}
            onChange={(event) => setNote(event.target.value)}
            placeholder={t("privacy.rights.admin.note")}
            autoSize={{ minRows: 2, maxRows: 6 }}
            maxLength={2000}
            data-testid="request-note"
          />
          <Flex gap={8} wrap>
            <Button
              disabled={!note.trim() || busy}
              onClick={() =>
                void act(() =>
                  call(api.POST("/api/v1/privacy/admin/requests/{request_id}/replies", { ...path, body: { text: note.trim() } })),
                )
              }
            >
              {t("privacy.rights.admin.reply")}
            </Button>
            {request.status === "open" && (
              <Button disabled={busy} onClick={() => void setStatus("in_progress")} data-testid="request-start">
                {t("privacy.rights.admin.start")}
              </Button>
            )}
            <Button type="primary" disabled={busy} onClick={() => void setStatus("done")} data-testid="request-done">
              {t("privacy.rights.admin.done")}
            </Button>
            <Button danger disabled={busy || !note.trim()} onClick={() => void setStatus("refused")}>
              {t("privacy.rights.admin.refuse")}
            </Button>
          </Flex>
        </Space>
      )}
    </Drawer>
  );
}

interface DisclosureForm {
  recipient_kind: (typeof RECIPIENT_KINDS)[number];
  recipient: string;
  data_categories: (typeof DATA_CLASSES)[number][];
  legal_basis: (typeof LEGAL_BASES)[number];
  membership_ids: string[];
  reference?: string;
  purpose?: string;
  disclosed_at?: { toISOString: () => string }; // the date pickers' values
  withhold_until?: { format: (pattern: string) => string };
}

function DisclosureLedger() {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const [entries, setEntries] = useState<AdminDisclosureEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recording, setRecording] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<DisclosureForm>();

  const load = useCallback(async () => {
    try {
      setEntries(await call(api.GET("/api/v1/privacy/admin/disclosures")));
      setError(null);
    } catch (thrown) {
      setError(problemText(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const submit = async (values: DisclosureForm) => {
    setBusy(true);
    try {
      await call(
        api.POST("/api/v1/privacy/admin/disclosures", {
          body: {
            recipient_kind: values.recipient_kind,
            recipient: values.recipient.trim(),
            data_categories: values.data_categories,
            legal_basis: values.legal_basis,
            membership_ids: values.membership_ids,
            reference: values.reference?.trim() ?? "",
            purpose: values.purpose?.trim() ?? "",
            disclosed_at: values.disclosed_at ? values.disclosed_at.toISOString() : null,
            withhold_until: values.withhold_until ? values.withhold_until.format("YYYY-MM-DD") : null,
          },
        }),
      );
      message.success(t("privacy.rights.admin.recorded"));
      form.resetFields();
      setRecording(false);
      await load();
    } catch (thrown) {
      message.error(problemText(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space orientation="vertical" size={12} style={{ width: "100%" }}>
      <Flex justify="space-between" align="flex-start" gap={12} wrap>
        <Typography.Paragraph type="secondary" style={{ margin: 0, flex: "1 1 320px" }}>
          {t("privacy.rights.admin.ledgerDesc")}
        </Typography.Paragraph>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setRecording(true)}>
          {t("privacy.rights.admin.record")}
        </Button>
      </Flex>
      {error && <Alert type="error" showIcon title={error} />}
      <Table<AdminDisclosureEntry>
        rowKey="id"
        loading={entries === null && !error}
        dataSource={entries ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: "max-content" }}
        locale={{ emptyText: t("privacy.rights.admin.ledgerEmpty") }}
        columns={[
          {
            title: t("privacy.rights.disclosures.recipient"),
            key: "recipient",
            render: (_, entry) => (
              <Space wrap size={4}>
                <Tag color="purple">{t(`privacy.rights.recipient.${entry.recipient_kind}`)}</Tag>
                <span>{entry.recipient}</span>
              </Space>
            ),
          },
          {
            title: t("privacy.rights.disclosures.people"),
            key: "people",
            render: (_, entry) => entry.subjects.map((subject) => subject.name).join("、"),
          },
          {
            title: t("privacy.rights.disclosures.categories"),
            key: "categories",
            responsive: ["md"],
            render: (_, entry) => <CategoryTags categories={entry.data_categories} t={t} />,
          },
          {
            title: t("privacy.rights.disclosures.basis"),
            key: "basis",
            responsive: ["md"],
            render: (_, entry) => t(`privacy.rights.basis.${entry.legal_basis}`),
          },
          { title: t("privacy.rights.disclosures.reference"), dataIndex: "reference", responsive: ["lg"] },
          {
            title: t("privacy.rights.disclosures.when"),
            key: "when",
            responsive: ["lg"],
            render: (_, entry) => formatDateTime(language, entry.disclosed_at),
          },
        ]}
      />
      <Modal
        open={recording}
        title={t("privacy.rights.admin.record")}
        onCancel={() => setRecording(false)}
        okText={t("common.save")}
        cancelText={t("common.cancel")}
        okButtonProps={{ loading: busy }}
        onOk={() => form.submit()}
        destroyOnHidden
      >
        <Form<DisclosureForm>
          form={form}
          layout="vertical"
          initialValues={{ recipient_kind: "authority", legal_basis: "law", data_categories: ["identity"] }}
          onFinish={(values) => void submit(values)}
        >
          <Form.Item name="membership_ids" label={t("privacy.rights.disclosures.people")} rules={[{ required: true }]}>
            <MemberPicker mode="multiple" />
          </Form.Item>
          <Form.Item name="recipient_kind" label={t("privacy.rights.disclosures.recipient")} rules={[{ required: true }]}>
            <Select options={RECIPIENT_KINDS.map((kind) => ({ value: kind, label: t(`privacy.rights.recipient.${kind}`) }))} />
          </Form.Item>
          <Form.Item name="recipient" label={t("privacy.rights.admin.recipientName")} rules={[{ required: true, whitespace: true }]}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="data_categories" label={t("privacy.rights.disclosures.categories")} rules={[{ required: true }]}>
            <Select mode="multiple" options={DATA_CLASSES.map((value) => ({ value, label: t(`privacy.rights.class.${value}`) }))} />
          </Form.Item>
          <Form.Item name="legal_basis" label={t("privacy.rights.disclosures.basis")} rules={[{ required: true }]}>
            <Select options={LEGAL_BASES.map((basis) => ({ value: basis, label: t(`privacy.rights.basis.${basis}`) }))} />
          </Form.Item>
          <Form.Item name="reference" label={t("privacy.rights.disclosures.reference")}>
            <Input maxLength={200} />
          </Form.Item>
          <Form.Item name="purpose" label={t("privacy.rights.disclosures.purpose")}>
            <Input.TextArea maxLength={2000} autoSize={{ minRows: 2, maxRows: 5 }} />
          </Form.Item>
          <Flex gap={12} wrap>
            <Form.Item name="disclosed_at" label={t("privacy.rights.admin.disclosedAt")} style={{ flex: "1 1 200px" }}>
              <DatePicker showTime style={{ width: "100%" }} />
            </Form.Item>
            <Form.Item name="withhold_until" label={t("privacy.rights.admin.withholdUntil")} style={{ flex: "1 1 200px" }}>
              <DatePicker style={{ width: "100%" }} />
            </Form.Item>
          </Flex>
        </Form>
      </Modal>
    </Space>
  );
}
