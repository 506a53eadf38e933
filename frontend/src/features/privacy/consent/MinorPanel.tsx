import { Alert, App, Button, Divider, Flex, Form, Input, List, Select, Space, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { useLanguage, useT } from "../../../i18n";
import { formatDateTime } from "../../settings/format";

type MinorStatus = ResponseOf<"/api/v1/privacy/members/{membership_id}/minor", "get">;
type GuardianValues = { guardian_name: string; relation: "parent" | "guardian" | "other"; guardian_contact: string; evidence_note: string };

/** 未成年人: an admin records a member's birth date; under 14 the member cannot log in until a
 *  guardian's consent is recorded here (privacy.consent.minors). Shown when editing a member. */
export function MinorPanel({ membershipId }: { membershipId: string }) {
  const t = useT();
  const language = useLanguage();
  const { message, modal } = App.useApp();
  const [status, setStatus] = useState<MinorStatus | null>(null);
  const [birthDate, setBirthDate] = useState("");
  const [busy, setBusy] = useState(false);
  const [guardianForm] = Form.useForm<GuardianValues>();
  const path = { params: { path: { membership_id: membershipId } } };

  const load = useCallback(async () => {
    try {
      const loaded = await call(api.GET("/api/v1/privacy/members/{membership_id}/minor", { params: { path: { membership_id: membershipId } } }));
      setStatus(loaded);
      setBirthDate(loaded.birth_date ?? "");
    } catch (error) {
      message.error(errorMessage(error));
    }
  }, [membershipId, message]);

  useEffect(() => {
    void load();
  }, [load]);

  const run = async (action: () => Promise<MinorStatus | undefined>, done: string) => {
    setBusy(true);
    try {
      const changed = await action();
      if (changed) setStatus(changed);
      else await load();
      message.success(done);
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const saveBirthDate = () =>
    run(() => call(api.PUT("/api/v1/privacy/members/{membership_id}/minor", { ...path, body: { birth_date: birthDate } })), t("privacy.consent.minor.saved"));
  const clearBirthDate = () =>
    run(async () => {
      await call(api.DELETE("/api/v1/privacy/members/{membership_id}/minor", path));
      setBirthDate("");
      return undefined;
    }, t("privacy.consent.minor.cleared"));
  const recordConsent = (values: GuardianValues) =>
    run(async () => {
      const changed = await call(api.POST("/api/v1/privacy/members/{membership_id}/guardian-consents", { ...path, body: values }));
      guardianForm.resetFields();
      return changed;
    }, t("privacy.consent.minor.consentRecorded"));
  const withdrawConsent = () =>
    modal.confirm({
      title: t("privacy.consent.minor.withdrawTitle"),
      content: t("privacy.consent.minor.withdrawBody"),
      okButtonProps: { danger: true },
      onOk: () => run(() => call(api.DELETE("/api/v1/privacy/members/{membership_id}/guardian-consents/current", path)), t("privacy.consent.minor.withdrawn")),
    });

  if (!status) return null;
  const current = status.guardian_consents.find((consent) => !consent.withdrawn_at);
  return (
    <div data-testid="minor-panel">
      <Divider titlePlacement="start" plain>
        {t("privacy.consent.minor.title")}
      </Divider>
      <Typography.Paragraph type="secondary">{t("privacy.consent.minor.help")}</Typography.Paragraph>
      <Space.Compact style={{ width: "100%", maxWidth: 360, marginBottom: 12 }}>
        <Input type="date" value={birthDate} onChange={(event) => setBirthDate(event.target.value)} aria-label={t("privacy.consent.minor.birthDate")} data-testid="minor-birth-date" />
        <Button onClick={saveBirthDate} disabled={!birthDate} loading={busy}>
          {t("common.save")}
        </Button>
        {status.birth_date && (
          <Button onClick={clearBirthDate} loading={busy}>
            {t("privacy.consent.minor.clear")}
          </Button>
        )}
      </Space.Compact>
      {status.under_14 && (
        <Alert
          showIcon
          type={status.consent_needed ? "warning" : "success"}
          title={status.consent_needed ? t("privacy.consent.minor.needed") : t("privacy.consent.minor.given")}
          style={{ marginBottom: 12 }}
          data-testid="minor-state"
        />
      )}
      {status.guardian_consents.length > 0 && (
        <List
          size="small"
          bordered
          style={{ marginBottom: 12 }}
          dataSource={status.guardian_consents}
          renderItem={(consent) => (
            <List.Item
              actions={
                consent === current ? [<Button key="withdraw" size="small" danger onClick={withdrawConsent}>{t("privacy.consent.minor.withdraw")}</Button>] : []
              }
            >
              <List.Item.Meta
                title={
                  <Space wrap>
                    {consent.guardian_name}
                    <Tag>{t(`privacy.consent.minor.relation.${consent.relation as GuardianValues["relation"]}`)}</Tag>
                    {consent.withdrawn_at && <Tag color="default">{t("privacy.consent.minor.withdrawnTag")}</Tag>}
                  </Space>
                }
                description={`${consent.guardian_contact} · ${consent.evidence_note} · ${formatDateTime(language, consent.recorded_at)}`}
              />
            </List.Item>
          )}
        />
      )}
      {status.under_14 && !current && (
        <Form<GuardianValues> form={guardianForm} layout="vertical" onFinish={recordConsent} initialValues={{ relation: "parent" }} data-testid="guardian-form">
          <Flex gap={12} wrap>
            <Form.Item name="guardian_name" label={t("privacy.consent.minor.guardianName")} rules={[{ required: true, whitespace: true }]} style={{ flex: "1 1 160px" }}>
              <Input maxLength={100} />
            </Form.Item>
            <Form.Item name="relation" label={t("privacy.consent.minor.relationLabel")} style={{ flex: "0 0 140px" }}>
              <Select
                options={(["parent", "guardian", "other"] as const).map((relation) => ({
                  value: relation,
                  label: t(`privacy.consent.minor.relation.${relation}`),
                }))}
              />
            </Form.Item>
            <Form.Item name="guardian_contact" label={t("privacy.consent.minor.guardianContact")} rules={[{ required: true, whitespace: true }]} style={{ flex: "1 1 160px" }}>
              <Input maxLength={100} />
            </Form.Item>
          </Flex>
          <Form.Item name="evidence_note" label={t("privacy.consent.minor.evidence")} rules={[{ required: true, whitespace: true }]} extra={t("privacy.consent.minor.evidenceHelp")}>
            <Input.TextArea maxLength={1000} rows={2} />
          </Form.Item>
          <Button htmlType="submit" type="primary" ghost loading={busy}>
            {t("privacy.consent.minor.record")}
          </Button>
        </Form>
      )}
    </div>
  );
}
