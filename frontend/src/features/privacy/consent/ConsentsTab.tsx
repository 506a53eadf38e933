import { Alert, App, Button, Card, Empty, Flex, Input, List, Space, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useState } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import { formatDateTime } from "../../settings/format";
import { contactHashes, parseContactNumbers } from "./contactHashing";
import { PolicyDialog } from "./PolicyText";
import "./consent.css";

type Purpose = ResponseOf<"/api/v1/privacy/consents", "get">[number];
type ConsentRecord = ResponseOf<"/api/v1/privacy/consents/history", "get">[number];
type Acknowledgement = ResponseOf<"/api/v1/privacy/policy/acknowledgements", "get">[number];
type Matches = ResponseOf<"/api/v1/privacy/contact-matching/matches", "get">;

/** 授权管理: the optional purposes with their state, grant and withdraw (saying what withdrawing
 *  deletes), the consent history, and the policy versions the person accepted. */
export function ConsentsTab() {
  const t = useT();
  const language = useLanguage();
  const english = language === "en";
  const { message, modal } = App.useApp();
  const [purposes, setPurposes] = useState<Purpose[] | null>(null);
  const [history, setHistory] = useState<ConsentRecord[]>([]);
  const [acknowledgements, setAcknowledgements] = useState<Acknowledgement[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [listed, records, accepted] = await Promise.all([
        call(api.GET("/api/v1/privacy/consents")),
        call(api.GET("/api/v1/privacy/consents/history")),
        call(api.GET("/api/v1/privacy/policy/acknowledgements")),
      ]);
      setPurposes(listed);
      setHistory(records);
      setAcknowledgements(accepted);
      setError(null);
    } catch (thrown) {
      setError(errorMessage(thrown));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const titleOf = (purpose: Purpose) => (english ? purpose.title_en : purpose.title_zh);

  const grant = (purpose: Purpose) =>
    modal.confirm({
      title: t("privacy.consent.grantConfirm.title", { title: titleOf(purpose) }),
      content: english ? purpose.description_en : purpose.description_zh,
      okText: t("privacy.consent.grantConfirm.ok"),
      okButtonProps: { ...({ "data-testid": "grant-confirm-ok" } as object) },
      cancelText: t("privacy.consent.withdrawConfirm.cancel"),
      onOk: async () => {
        try {
          await call(api.PUT("/api/v1/privacy/consents/{purpose}", { params: { path: { purpose: purpose.key } } }));
          message.success(t("privacy.consent.granted", { title: titleOf(purpose) }));
          await load();
        } catch (thrown) {
          message.error(errorMessage(thrown));
        }
      },
    });

  const withdraw = (purpose: Purpose) =>
    modal.confirm({
      title: t("privacy.consent.withdrawConfirm.title", { title: titleOf(purpose) }),
      content: <span data-testid="withdraw-confirm-text">{english ? purpose.on_withdraw_en : purpose.on_withdraw_zh}</span>,
      okText: t("privacy.consent.withdrawConfirm.ok"),
      okButtonProps: { danger: true, ...({ "data-testid": "withdraw-confirm-ok" } as object) },
      cancelText: t("privacy.consent.withdrawConfirm.cancel"),
      onOk: async () => {
        try {
          const record = await call(
            api.DELETE("/api/v1/privacy/consents/{purpose}", { params: { path: { purpose: purpose.key } } }),
          );
          message.success(t("privacy.consent.withdrawn", { title: titleOf(purpose), count: record?.deleted_rows ?? 0 }));
          await load();
        } catch (thrown) {
          message.error(errorMessage(thrown));
        }
      },
    });

  return (
    <Space orientation="vertical" size={20} style={{ width: "100%" }} data-testid="consents-tab">
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t("privacy.consent.tab.intro")}
      </Typography.Paragraph>
      {error && <Alert type="error" showIcon title={error} />}
      <div>
        {(purposes ?? []).map((purpose) => (
          <Card key={purpose.key} className="zt-consent-card" size="small" data-testid={`consent-${purpose.key}`}>
            <Flex justify="space-between" align="flex-start" gap={12} wrap>
              <Space orientation="vertical" size={4} style={{ flex: "1 1 320px" }}>
                <Space wrap size={8}>
                  <Typography.Text strong>{titleOf(purpose)}</Typography.Text>
                  <PurposeState purpose={purpose} />
                </Space>
                <Typography.Text type="secondary">{english ? purpose.description_en : purpose.description_zh}</Typography.Text>
                {purpose.granted && purpose.granted_at && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t("privacy.consent.grantedAt", { time: formatDateTime(language, purpose.granted_at) })}
                  </Typography.Text>
                )}
              </Space>
              {purpose.offered &&
                (purpose.granted ? (
                  <Button danger onClick={() => withdraw(purpose)} data-testid={`consent-withdraw-${purpose.key}`}>
                    {t("privacy.consent.withdraw")}
                  </Button>
                ) : (
                  <Button type="primary" onClick={() => grant(purpose)} data-testid={`consent-grant-${purpose.key}`}>
                    {t("privacy.consent.grant")}
                  </Button>
                ))}
            </Flex>
            {purpose.key === "contact_matching" && purpose.granted && <ContactMatching />}
          </Card>
        ))}
      </div>
      <ConsentHistory records={history} purposes={purposes ?? []} />
      <PolicyHistory acknowledgements={acknowledgements} />
    </Space>
  );
}

function PurposeState({ purpose }: { purpose: Purpose }) {
  const t = useT();
  if (!purpose.offered) return <Tag>{t("privacy.consent.state.notOffered")}</Tag>;
  return purpose.granted ? (
    <Tag color="green">{t("privacy.consent.state.granted")}</Tag>
  ) : (
    <Tag>{t("privacy.consent.state.notGranted")}</Tag>
  );
}

/** Contact matching: numbers are hashed here, in the browser; only the hashes are uploaded. */
function ContactMatching() {
  const t = useT();
  const { message } = App.useApp();
  const [text, setText] = useState("");
  const [matches, setMatches] = useState<Matches | null>(null);
  const [busy, setBusy] = useState(false);
  const secure = Boolean(window.crypto?.subtle);

  useEffect(() => {
    call(api.GET("/api/v1/privacy/contact-matching/matches"))
      .then(setMatches)
      .catch(() => undefined);
  }, []);

  const pick = async () => {
    const picker = (navigator as Navigator & { contacts?: { select: (p: string[], o: object) => Promise<{ tel?: string[] }[]> } })
      .contacts;
    if (!picker) return;
    const picked = await picker.select(["tel"], { multiple: true });
    setText(picked.flatMap((contact) => contact.tel ?? []).join("\n"));
  };

  const match = async () => {
    setBusy(true);
    try {
      const { key } = await call(api.GET("/api/v1/privacy/contact-matching/key"));
      const hashes = await contactHashes(key, parseContactNumbers(text));
      setMatches(await call(api.PUT("/api/v1/privacy/contact-matching/contacts", { body: { hashes } })));
      setText("");
    } catch (thrown) {
      message.error(errorMessage(thrown));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ marginTop: 12 }} data-testid="contact-matching">
      <Typography.Text strong>{t("privacy.consent.contacts.title")}</Typography.Text>
      <Typography.Paragraph type="secondary" style={{ margin: "4px 0 8px" }}>
        {t("privacy.consent.contacts.desc")}
      </Typography.Paragraph>
      {!secure && <Alert type="warning" showIcon title={t("privacy.consent.contacts.insecure")} style={{ marginBottom: 8 }} />}
      <Input.TextArea
        rows={3}
        value={text}
        onChange={(event) => setText(event.target.value)}
        placeholder="13800000000"
        data-testid="contact-numbers"
      />
      <Space style={{ marginTop: 8 }} wrap>
        {"contacts" in navigator && <Button onClick={() => void pick()}>{t("privacy.consent.contacts.pick")}</Button>}
        <Button type="primary" loading={busy} disabled={!secure || !text.trim()} onClick={() => void match()} data-testid="contact-match">
          {t("privacy.consent.contacts.match")}
        </Button>
        {matches && (
          <Typography.Text type="secondary">{t("privacy.consent.contacts.stored", { count: matches.stored })}</Typography.Text>
        )}
      </Space>
      {matches && matches.stored > 0 && (
        <List
          size="small"
          style={{ marginTop: 8 }}
          header={
            matches.matches.length
              ? t("privacy.consent.contacts.found", { count: matches.matches.length })
              : t("privacy.consent.contacts.none")
          }
          dataSource={matches.matches}
          renderItem={(item) => <List.Item data-testid="contact-match-item">{item.name}</List.Item>}
        />
      )}
    </div>
  );
}

function ConsentHistory({ records, purposes }: { records: ConsentRecord[]; purposes: Purpose[] }) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const title = (key: string) => {
    const purpose = purposes.find((item) => item.key === key);
    if (!purpose) return key;
    return language === "en" ? purpose.title_en : purpose.title_zh;
  };
  return (
    <div>
      <Typography.Title level={5}>{t("privacy.consent.history.title")}</Typography.Title>
      <Table<ConsentRecord>
        rowKey="id"
        size="small"
        data-testid="consent-history"
        dataSource={records}
        pagination={false}
        scroll={{ x: "max-content" }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("privacy.consent.history.empty")} /> }}
        columns={[
          { title: t("privacy.consent.history.purpose"), key: "purpose", render: (_, row) => title(row.purpose) },
          {
            title: t("privacy.consent.history.granted"),
            key: "granted",
            render: (_, row) => formatDateTime(language, row.granted_at),
          },
          {
            title: t("privacy.consent.history.withdrawn"),
            key: "withdrawn",
            render: (_, row) =>
              row.withdrawn_at ? formatDateTime(language, row.withdrawn_at) : <Tag color="green">{t("privacy.consent.history.standing")}</Tag>,
          },
          ...(phone
            ? []
            : [
                {
                  title: t("privacy.consent.history.deleted"),
                  key: "deleted",
                  render: (_: unknown, row: ConsentRecord) => (row.withdrawn_at ? row.deleted_rows : "—"),
                },
              ]),
        ]}
      />
    </div>
  );
}

function PolicyHistory({ acknowledgements }: { acknowledgements: Acknowledgement[] }) {
  const t = useT();
  const language = useLanguage();
  const [reading, setReading] = useState<number | null>(null);
  return (
    <div>
      <Typography.Title level={5}>{t("privacy.consent.policyHistory.title")}</Typography.Title>
      <Table<Acknowledgement>
        rowKey="version"
        size="small"
        data-testid="policy-history"
        dataSource={acknowledgements}
        pagination={false}
        scroll={{ x: "max-content" }}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("privacy.consent.policyHistory.empty")} /> }}
        columns={[
          {
            title: t("privacy.consent.policyHistory.version"),
            key: "version",
            render: (_, row) => (
              <Space size={6}>
                {t("privacy.consent.policy.version", { version: row.version })}
                <Tag color={row.kind === "major" ? "red" : "blue"}>{t(`privacy.consent.policy.kind.${row.kind}`)}</Tag>
              </Space>
            ),
          },
          {
            title: t("privacy.consent.policyHistory.time"),
            key: "time",
            render: (_, row) => formatDateTime(language, row.acknowledged_at),
          },
          {
            title: t("privacy.consent.policyHistory.channel"),
            key: "channel",
            render: (_, row) => t(`privacy.consent.channel.${row.channel}`),
          },
          {
            title: "",
            key: "view",
            render: (_, row) => (
              <Button type="link" size="small" onClick={() => setReading(row.version)}>
                {t("privacy.consent.policyHistory.view")}
              </Button>
            ),
          },
        ]}
      />
      <PolicyDialog version={reading} onClose={() => setReading(null)} />
    </div>
  );
}
