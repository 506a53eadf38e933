import { Alert, Button, Modal, Space, Table, Tag, Typography } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage, type ResponseOf } from "../../../api/client";
import { useIsPhone } from "../../../app/useIsPhone";
import { useLanguage, useT } from "../../../i18n";
import "./consent.css";

type StoredItem = ResponseOf<"/api/v1/privacy/cookies", "get">[number];

// Listed itself in the cookie list (privacy/consent/cookies.py).
const DISMISSED_KEY = "zt_cookie_notice";

function dismissedBefore(): boolean {
  try {
    return window.localStorage.getItem(DISMISSED_KEY) === "dismissed";
  } catch {
    return false;
  }
}

/** The first-visit notice: which cookies and local storage we use (necessary ones only). */
export function CookieNotice() {
  const t = useT();
  const [visible, setVisible] = useState(() => !dismissedBefore());
  const [listOpen, setListOpen] = useState(false);
  if (!visible) return null;
  const dismiss = () => {
    try {
      window.localStorage.setItem(DISMISSED_KEY, "dismissed");
    } catch {
      // storage disabled: the notice comes back next time, which is harmless
    }
    setVisible(false);
  };
  return (
    <>
      {/* Out of the way while its list is open, so the dialog is not covered. */}
      {!listOpen && (
        <div className="zt-cookie-notice" role="region" aria-label={t("privacy.consent.cookies.title")} data-testid="cookie-notice">
          <span className="zt-cookie-notice-text">{t("privacy.consent.cookies.notice")}</span>
          <span className="zt-cookie-notice-actions">
            <Button onClick={() => setListOpen(true)} data-testid="cookie-notice-list">
              {t("privacy.consent.cookies.list")}
            </Button>
            <Button type="primary" onClick={dismiss} data-testid="cookie-notice-dismiss">
              {t("privacy.consent.cookies.dismiss")}
            </Button>
          </span>
        </div>
      )}
      <CookieListDialog open={listOpen} onClose={() => setListOpen(false)} />
    </>
  );
}

export function CookieListLink() {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button type="link" size="small" style={{ padding: 0, height: "auto" }} onClick={() => setOpen(true)} data-testid="cookie-link">
        {t("privacy.consent.links.cookies")}
      </Button>
      <CookieListDialog open={open} onClose={() => setOpen(false)} />
    </>
  );
}

export function CookieListDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const english = language === "en";
  const [items, setItems] = useState<StoredItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!open || items) return;
    call(api.GET("/api/v1/privacy/cookies"), { quietAuth: true })
      .then(setItems)
      .catch((thrown: unknown) => setError(errorMessage(thrown)));
  }, [open, items]);
  return (
    <Modal open={open} title={t("privacy.consent.cookies.title")} onCancel={onClose} footer={null} width={900} destroyOnHidden>
      <Space orientation="vertical" size={12} style={{ width: "100%" }}>
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t("privacy.consent.cookies.intro")}
        </Typography.Paragraph>
        {error && <Alert type="error" showIcon title={error} />}
        <Table<StoredItem>
          rowKey="name"
          size="small"
          data-testid="cookie-list"
          loading={!items && !error}
          dataSource={items ?? []}
          pagination={false}
          scroll={{ x: "max-content" }}
          columns={[
            {
              title: t("privacy.consent.cookies.name"),
              key: "name",
              render: (_, item) => (
                <Space orientation="vertical" size={2}>
                  <Typography.Text code>{item.name}</Typography.Text>
                  <Space size={4}>
                    <Tag>{t(`privacy.consent.cookies.storage.${item.storage}`)}</Tag>
                    {item.necessary && <Tag color="green">{t("privacy.consent.cookies.necessary")}</Tag>}
                  </Space>
                </Space>
              ),
            },
            {
              title: t("privacy.consent.cookies.purpose"),
              key: "purpose",
              render: (_, item) => (
                <div style={{ minWidth: phone ? 200 : 260, maxWidth: 360, whiteSpace: "normal" }}>
                  {english ? item.purpose_en : item.purpose_zh}
                </div>
              ),
            },
            {
              title: t("privacy.consent.cookies.lifetime"),
              key: "lifetime",
              render: (_, item) => (
                <div style={{ minWidth: 120, maxWidth: 170, whiteSpace: "normal" }}>{english ? item.lifetime_en : item.lifetime_zh}</div>
              ),
            },
          ]}
        />
      </Space>
    </Modal>
  );
}
