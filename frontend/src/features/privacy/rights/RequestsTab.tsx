import { PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { Alert, App, Button, type ButtonProps, Card, Empty, Flex, Form, Input, Modal, Popconfirm, Select, Skeleton, Space, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage } from "../../../api/client";
import { useMe } from "../../../app/session";
import { useLanguage, useT } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import { DeadlineLine, isOpen, REQUEST_KINDS, RequestHistory, StatusTag, type PrivacyRequest, type RequestKind } from "./shared";

/** 我的申请: requests to my organisations, with the deadline counting down. */
export function RequestsTab() {
  const t = useT();
  const [requests, setRequests] = useState<PrivacyRequest[] | null>(null);
  const [news, setNews] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [filing, setFiling] = useState(false);

  const load = useCallback(async () => {
    try {
      setRequests(await call(api.GET("/api/v1/privacy/requests")));
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
    // The updates the person was told about (SMS, in-app): shown once here, then marked read.
    call(api.GET("/api/v1/privacy/request-notices"))
      .then(async (notices) => {
        const unread = notices.filter((notice) => !notice.read_at).length;
        setNews(unread);
        if (unread) await call(api.POST("/api/v1/privacy/request-notices/read"));
      })
      .catch(() => undefined);
  }, [load]);

  return (
    <Space orientation="vertical" size={16} style={{ width: "100%" }}>
      <Flex justify="space-between" align="flex-start" gap={12} wrap>
        <Typography.Paragraph type="secondary" style={{ margin: 0, flex: "1 1 320px" }}>
          {t("privacy.rights.requests.desc")}
        </Typography.Paragraph>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("privacy.rights.refresh")} />
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setFiling(true)} data-testid="request-new">
            {t("privacy.rights.requests.new")}
          </Button>
        </Space>
      </Flex>
      {news > 0 && <Alert type="info" showIcon title={t("privacy.rights.requests.news", { count: news })} closable />}
      {error && <Alert type="error" showIcon title={error} />}
      {requests === null && !error && <Skeleton active />}
      {requests?.length === 0 && <Empty description={t("privacy.rights.requests.empty")} />}
      <div data-testid="my-requests">
        {requests?.map((request) => <RequestCard key={request.id} request={request} onChanged={load} />)}
      </div>
      <FileRequestModal open={filing} onClose={() => setFiling(false)} onFiled={load} />
    </Space>
  );
}

function RequestCard({ request, onChanged }: { request: PrivacyRequest; onChanged: () => Promise<void> }) {
  const t = useT();
  const language = useLanguage();
  const { message } = App.useApp();
  const [reply, setReply] = useState("");
  const [busy, setBusy] = useState(false);
  const open = isOpen(request.status);
  const path = { params: { path: { request_id: request.id } } };

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await action();
      setReply("");
      await onChanged();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card
      size="small"
      className={`zt-rights-request${open && request.deadline.overdue ? " is-overdue" : ""}`}
      data-testid="request-card"
      title={
        <Space wrap size={8}>
          <span>{t(`privacy.rights.kind.${request.kind}`)}</span>
          <StatusTag status={request.status} />
        </Space>
      }
      extra={<Typography.Text type="secondary">{request.organization_name}</Typography.Text>}
    >
      <div className="zt-rights-text">{request.details}</div>
      <Flex gap={8} wrap style={{ marginTop: 8 }}>
        <Typography.Text type="secondary">{t("privacy.rights.requests.filedAt", { time: formatDateTime(language, request.created_at) })}</Typography.Text>
        <DeadlineLine deadline={request.deadline} open={open} />
      </Flex>
      {request.resolution && (
        <Alert
          style={{ marginTop: 12 }}
          type={request.status === "refused" ? "warning" : "success"}
          title={t("privacy.rights.requests.resolution")}
          description={<span className="zt-rights-text">{request.resolution}</span>}
        />
      )}
      <RequestHistory request={request} />
      {open && (
        <Space orientation="vertical" style={{ width: "100%" }}>
          <Input.TextArea
            value={reply}
            onChange={(event) => setReply(event.target.value)}
            placeholder={t("privacy.rights.requests.replyPlaceholder")}
            autoSize={{ minRows: 1, maxRows: 4 }}
            maxLength={2000}
          />
          <Flex gap={8} justify="flex-end" wrap>
            <Popconfirm
              title={t("privacy.rights.requests.withdrawConfirm")}
              okText={t("common.confirm")}
              cancelText={t("common.cancel")}
              onConfirm={() => act(() => call(api.POST("/api/v1/privacy/requests/{request_id}/withdraw", path)))}
            >
              <Button disabled={busy}>{t("privacy.rights.requests.withdraw")}</Button>
            </Popconfirm>
            <Button
              type="primary"
              disabled={!reply.trim()}
              loading={busy}
              onClick={() =>
                void act(() =>
                  call(api.POST("/api/v1/privacy/requests/{request_id}/replies", { ...path, body: { text: reply.trim() } })),
                )
              }
            >
              {t("privacy.rights.requests.send")}
            </Button>
          </Flex>
        </Space>
      )}
    </Card>
  );
}

interface FileForm {
  kind: RequestKind;
  details: string;
  org_id?: string;
}

function FileRequestModal({ open, onClose, onFiled }: { open: boolean; onClose: () => void; onFiled: () => Promise<void> }) {
  const t = useT();
  const me = useMe();
  const { message } = App.useApp();
  const [form] = Form.useForm<FileForm>();
  const [busy, setBusy] = useState(false);
  const organizations = me.organizations;

  const submit = async (values: FileForm) => {
    setBusy(true);
    try {
      await call(
        api.POST("/api/v1/privacy/requests", {
          body: { kind: values.kind, details: values.details.trim(), org_id: values.org_id ?? me.current_org_id ?? null },
        }),
      );
      message.success(t("privacy.rights.requests.filed"));
      form.resetFields();
      onClose();
      await onFiled();
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t("privacy.rights.requests.new")}
      onCancel={onClose}
      okText={t("common.submit")}
      cancelText={t("common.cancel")}
      okButtonProps={{ loading: busy, "data-testid": "request-submit" } as ButtonProps}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      <Form<FileForm>
        form={form}
        layout="vertical"
        initialValues={{ kind: "correction", org_id: me.current_org_id ?? undefined }}
        onFinish={(values) => void submit(values)}
      >
        {organizations.length > 1 && (
          <Form.Item name="org_id" label={t("privacy.rights.requests.organization")}>
            <Select options={organizations.map((org) => ({ value: org.id, label: org.name }))} />
          </Form.Item>
        )}
        <Form.Item name="kind" label={t("privacy.rights.requests.kind")} rules={[{ required: true }]}>
          <Select
            data-testid="request-kind"
            options={REQUEST_KINDS.map((kind) => ({ value: kind, label: t(`privacy.rights.kind.${kind}`) }))}
          />
        </Form.Item>
        <Form.Item name="details" label={t("privacy.rights.requests.details")} rules={[{ required: true, whitespace: true }]}>
          <Input.TextArea
            rows={4}
            maxLength={2000}
            showCount
            placeholder={t("privacy.rights.requests.detailsPlaceholder")}
            data-testid="request-details"
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
