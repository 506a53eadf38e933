import { EyeOutlined, InfoCircleOutlined, LockOutlined, MessageOutlined } from "@ant-design/icons";
import { Alert, App, Avatar, Button, Descriptions, Flex, Skeleton, Space, Tag, Tooltip, Typography } from "antd";
import { useEffect, useState, type ReactNode } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../../api/client";
import { useMe } from "../../app/session";
import { useT } from "../../i18n";
import { useChat } from "../chat/ChatProvider";
import { avatarColour, avatarText, type MemberCard } from "./model";

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/** One person's card: what the server lets this viewer see, and the audited full-number reveal. */
export function MemberCardView({ memberId, compact = false }: { memberId: string; compact?: boolean }) {
  const t = useT();
  const me = useMe();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const { store } = useChat();
  const [opening, setOpening] = useState(false);
  const [card, setCard] = useState<MemberCard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mobile, setMobile] = useState<string | null>(null);
  const [revealing, setRevealing] = useState(false);
  const [revealError, setRevealError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    setCard(null);
    setError(null);
    setMobile(null);
    setRevealError(null);
    call(api.GET("/api/v1/directory/members/{membership_id}", { params: { path: { membership_id: memberId } } }))
      .then((loaded) => !stopped && setCard(loaded))
      .catch((thrown: unknown) => !stopped && setError(errorMessage(thrown)));
    return () => {
      stopped = true;
    };
  }, [memberId]);

  const reveal = async () => {
    setRevealing(true);
    setRevealError(null);
    try {
      const answer = await call(
        api.POST("/api/v1/directory/members/{membership_id}/mobile", { params: { path: { membership_id: memberId } } }),
      );
      setMobile(answer.mobile);
    } catch (thrown) {
      setRevealError(errorMessage(thrown));
    } finally {
      setRevealing(false);
    }
  };

  /** The direct chat with this person, opened (or created on first use). */
  const openChat = async () => {
    setOpening(true);
    try {
      const conversation = await store.openDirect(memberId);
      navigate(`/chat/${conversation.id}`);
    } catch (thrown) {
      message.error(errorMessage(thrown));
      setOpening(false);
    }
  };

  if (error) return <Alert type="error" showIcon title={error} data-testid="member-card-error" />;
  if (!card) return <Skeleton avatar active paragraph={{ rows: 6 }} />;

  const rows: { key: string; label: string; value: ReactNode }[] = [];
  const add = (key: string, label: string, value: ReactNode, show = true) => {
    if (show) rows.push({ key, label, value });
  };

  const mobileValue =
    card.mobile_masked === null ? (
      <Typography.Text type="secondary">
        <LockOutlined /> {t("contacts.card.mobileHidden")}
      </Typography.Text>
    ) : (
      <Flex align="center" gap={8} wrap>
        {mobile ? (
          <a href={`tel:${mobile}`} data-testid="member-mobile-full">
            {mobile}
          </a>
        ) : (
          <span data-testid="member-mobile">{card.mobile_masked}</span>
        )}
        {card.can_reveal_mobile && !mobile && (
          <Space size={4}>
            <Button size="small" icon={<EyeOutlined />} onClick={() => void reveal()} loading={revealing} data-testid="reveal-mobile">
              {t("contacts.card.reveal")}
            </Button>
            <Tooltip title={t("contacts.card.revealAudited")}>
              <InfoCircleOutlined style={{ color: "rgba(0,0,0,0.45)" }} aria-label={t("contacts.card.revealAudited")} />
            </Tooltip>
          </Space>
        )}
      </Flex>
    );
  add("mobile", t("contacts.field.mobile"), mobileValue);

  add(
    "seats",
    t("contacts.field.departments"),
    <Space orientation="vertical" size={2}>
      {card.seats.map((seat) => (
        <span key={seat.department_id}>
          {seat.department_name}
          {seat.title && <Typography.Text type="secondary"> · {seat.title}</Typography.Text>}
          {seat.is_head && (
            <Tag color="gold" style={{ marginInlineStart: 6 }}>
              {t("contacts.head")}
            </Tag>
          )}
        </span>
      ))}
    </Space>,
    card.seats.length > 0,
  );
  add("title", t("contacts.field.title"), card.title, present(card.title));
  add("manager", t("contacts.field.manager"), card.manager_name, present(card.manager_name));
  add("job_number", t("contacts.field.jobNumber"), card.job_number, present(card.job_number));
  add("org_email", t("contacts.field.email"), <a href={`mailto:${card.org_email}`}>{card.org_email}</a>, present(card.org_email));
  add("office_phone", t("contacts.field.officePhone"), <a href={`tel:${card.office_phone}`}>{card.office_phone}</a>, present(card.office_phone));
  add("work_place", t("contacts.field.workPlace"), card.work_place, present(card.work_place));
  add("hired_date", t("contacts.field.hiredDate"), card.hired_date, present(card.hired_date));
  for (const [key, value] of Object.entries(card.custom_fields ?? {})) {
    add(`custom.${key}`, key, String(value), present(value));
  }

  return (
    <div data-testid="member-card" data-member-id={card.id}>
      <Flex align="center" gap={16} style={{ marginBottom: 20 }}>
        <Avatar size={compact ? 56 : 64} style={{ backgroundColor: avatarColour(card.id), fontSize: compact ? 20 : 22, flex: "none" }}>
          {avatarText(card.name)}
        </Avatar>
        <div style={{ minWidth: 0 }}>
          <Typography.Title level={4} style={{ margin: 0 }} data-testid="member-card-name">
            {card.name}
          </Typography.Title>
          <Space size={6} wrap style={{ marginTop: 4 }}>
            {present(card.title) && <Typography.Text type="secondary">{card.title}</Typography.Text>}
            {card.seats.some((seat) => seat.is_head) && <Tag color="gold">{t("contacts.head")}</Tag>}
            {card.status !== "active" && <Tag>{t("contacts.notActivated")}</Tag>}
          </Space>
        </div>
      </Flex>
      {card.id !== me.current_membership_id && (
        <Button
          type="primary"
          icon={<MessageOutlined />}
          block={compact}
          loading={opening}
          onClick={() => void openChat()}
          style={{ marginBottom: 16 }}
          data-testid="member-message"
        >
          {t("contacts.card.message")}
        </Button>
      )}
      {revealError && <Alert type="error" showIcon title={revealError} style={{ marginBottom: 12 }} />}
      <Descriptions
        column={1}
        size="small"
        bordered
        styles={{ label: { width: compact ? 88 : 110, whiteSpace: "nowrap" } }}
        items={rows.map((row) => ({ key: row.key, label: row.label, children: row.value }))}
      />
    </div>
  );
}
