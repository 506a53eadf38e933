// A conversation's settings: for groups the name, announcement, members (add, remove, admins,
// ownership, mute), the group's robots, the group switches, leaving and disbanding; for everyone
// do-not-disturb and pin-to-top.
import { CrownOutlined, EditOutlined, EllipsisOutlined, UserAddOutlined } from "@ant-design/icons";
import { App, Avatar, Button, Divider, Drawer, Dropdown, Input, InputNumber, Select, Switch, Tag, Typography, type MenuProps } from "antd";
import { useEffect, useState, type ReactNode } from "react";
import { useNavigate } from "react-router";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import { ConversationAvatar } from "./ConversationPane";
import { MemberPicker, type Picked } from "./MemberPicker";
import { manages, timeOfDay, type ChatMember, type Conversation, type JoinRequest, type SettingsChange } from "./model";
import { RobotsSection } from "./robots/RobotsSection";
import { noVersions } from "./store";

/** Pending join requests of a group the person manages (and that admits through approval). */
export function useJoinRequests(conversation: Conversation | undefined) {
  const version = useChatState((s) => (conversation ? (s.versions[conversation.id] ?? noVersions()).joins : 0));
  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const [tick, setTick] = useState(0);
  const id = conversation?.id;
  const wanted = Boolean(conversation && conversation.kind === "group" && manages(conversation));
  useEffect(() => {
    if (!id || !wanted) {
      setRequests([]);
      return;
    }
    let stopped = false;
    call(api.GET("/api/v1/im/conversations/{conversation_id}/join-requests", { params: { path: { conversation_id: id } } }))
      .then((found) => !stopped && setRequests(found))
      .catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, [id, wanted, version, tick]);
  return { requests, reload: () => setTick((n) => n + 1) };
}

const PRESENCE_EVERY_MS = 60_000;

/** A member's avatar with a green dot while they are online. */
function MemberAvatar({ member }: { member: ChatMember }) {
  const t = useT();
  const online = useChatState((s) => s.presence[member.membership_id]);
  return (
    <span className="zt-chat-avatar">
      <Avatar size={32} style={{ backgroundColor: avatarColour(member.membership_id), flex: "none", fontSize: 12 }}>
        {avatarText(member.name)}
      </Avatar>
      {online && <span className="zt-chat-online" title={t("chat.online")} aria-label={t("chat.online")} data-testid="member-online" />}
    </span>
  );
}

const MUTE_OPTIONS: { minutes: number; key: "chat.mute.10m" | "chat.mute.1h" | "chat.mute.12h" | "chat.mute.1d" | "chat.mute.7d" | "chat.mute.30d" }[] = [
  { minutes: 10, key: "chat.mute.10m" },
  { minutes: 60, key: "chat.mute.1h" },
  { minutes: 720, key: "chat.mute.12h" },
  { minutes: 1440, key: "chat.mute.1d" },
  { minutes: 10080, key: "chat.mute.7d" },
  { minutes: 43200, key: "chat.mute.30d" },
];

function Row({ label, children, extra }: { label: ReactNode; children: ReactNode; extra?: ReactNode }) {
  return (
    <div className="zt-set-row">
      <div className="zt-set-row-main">
        <div className="zt-set-label">{label}</div>
        {extra && <div className="zt-set-extra">{extra}</div>}
      </div>
      <div className="zt-set-control">{children}</div>
    </div>
  );
}

export function SettingsDrawer({
  conversation,
  members,
  hiddenCount,
  open,
  onClose,
  reloadMembers,
  joinRequests,
  reloadJoinRequests,
}: {
  conversation: Conversation;
  members: ChatMember[];
  hiddenCount: number;
  open: boolean;
  onClose: () => void;
  reloadMembers: () => void;
  joinRequests: JoinRequest[];
  reloadJoinRequests: () => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const navigate = useNavigate();
  const { message, modal } = App.useApp();
  const { store, policy } = useChat();
  const myId = useChatState((s) => s.myId);
  const group = conversation.kind !== "direct";
  const manual = conversation.kind === "group";
  const settings = conversation.settings;
  const manager = manages(conversation);
  const owner = conversation.rank === "owner";
  const [editingName, setEditingName] = useState(false);
  const [name, setName] = useState(conversation.title);
  const [editingNotice, setEditingNotice] = useState(false);
  const [notice, setNotice] = useState(conversation.announcement ?? "");
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);
  const [showAll, setShowAll] = useState(false);

  useEffect(() => {
    if (!open) {
      setEditingName(false);
      setEditingNotice(false);
      setShowAll(false);
    }
  }, [open]);

  const run = async (work: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    try {
      await work();
      if (done) message.success(done);
      return true;
    } catch (error) {
      message.error(errorMessage(error));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const change = (body: SettingsChange) =>
    run(async () => {
      const updated = await call(
        api.PATCH("/api/v1/im/conversations/{conversation_id}/settings", { params: { path: { conversation_id: conversation.id } }, body }),
      );
      store.upsertConversation(updated);
    });

  const saveName = async () => {
    if (!name.trim()) return;
    if (await change({ name: name.trim() })) setEditingName(false);
  };

  const saveNotice = async () => {
    const ok = await run(async () => {
      const updated = await call(
        api.PUT("/api/v1/im/conversations/{conversation_id}/announcement", {
          params: { path: { conversation_id: conversation.id } },
          body: { text: notice.trim() },
        }),
      );
      store.upsertConversation(updated);
    }, t("chat.notice.saved"));
    if (ok) setEditingNotice(false);
  };

  const personal = (flags: { do_not_disturb?: boolean; pinned?: boolean }) => run(() => store.setPersonal(conversation.id, flags));

  const addMembers = async (picked: Picked[]) => {
    const ok = await run(async () => {
      const updated = await call(
        api.POST("/api/v1/im/conversations/{conversation_id}/members", {
          params: { path: { conversation_id: conversation.id } },
          body: { member_ids: picked.map((p) => p.id) },
        }),
      );
      store.upsertConversation(updated);
      reloadMembers();
    }, settings?.join_approval && !manager ? t("chat.join.invited") : undefined);
    if (ok) setAdding(false);
  };

  const decide = (request: JoinRequest, approve: boolean) =>
    void run(async () => {
      const path = { request_id: request.id };
      if (approve) await call(api.POST("/api/v1/im/join-requests/{request_id}/approve", { params: { path } }));
      else await call(api.POST("/api/v1/im/join-requests/{request_id}/reject", { params: { path } }));
      reloadJoinRequests();
      reloadMembers();
    }, approve ? t("chat.join.approved", { name: request.name }) : t("chat.join.rejected", { name: request.name }));

  const memberAction = (member: ChatMember, key: string) => {
    const path = { conversation_id: conversation.id, membership_id: member.membership_id };
    if (key === "admin" || key === "unadmin") {
      void run(async () => {
        await call(api.PUT("/api/v1/im/conversations/{conversation_id}/members/{membership_id}/rank", { params: { path }, body: { rank: key === "admin" ? "admin" : "member" } }));
        reloadMembers();
      });
    } else if (key === "owner") {
      modal.confirm({
        title: t("chat.member.transferConfirm", { name: member.name }),
        okText: t("common.confirm"),
        cancelText: t("common.cancel"),
        onOk: () =>
          run(async () => {
            await call(api.PUT("/api/v1/im/conversations/{conversation_id}/members/{membership_id}/rank", { params: { path }, body: { rank: "owner" } }));
            reloadMembers();
            await store.refreshConversation(conversation.id);
          }),
      });
    } else if (key === "remove") {
      modal.confirm({
        title: t("chat.member.removeConfirm", { name: member.name }),
        okText: t("common.confirm"),
        okButtonProps: { danger: true },
        cancelText: t("common.cancel"),
        onOk: () =>
          run(async () => {
            await call(api.DELETE("/api/v1/im/conversations/{conversation_id}/members/{membership_id}", { params: { path } }));
            reloadMembers();
          }),
      });
    } else if (key.startsWith("mute:")) {
      const minutes = Number(key.slice(5));
      void run(async () => {
        await call(api.PUT("/api/v1/im/conversations/{conversation_id}/members/{membership_id}/mute", { params: { path }, body: { minutes } }));
        reloadMembers();
      }, minutes ? t("chat.member.muted", { name: member.name }) : t("chat.member.unmuted", { name: member.name }));
    }
  };

  const leave = () =>
    modal.confirm({
      title: t("chat.leaveConfirm"),
      okText: t("chat.leave"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () =>
        run(async () => {
          if (!myId) throw new Error(t("chat.identityUnknown"));
          await call(api.DELETE("/api/v1/im/conversations/{conversation_id}/members/{membership_id}", { params: { path: { conversation_id: conversation.id, membership_id: myId } } }));
          store.removeConversation(conversation.id);
          onClose();
          navigate("/chat");
        }),
    });

  const disband = () =>
    modal.confirm({
      title: t("chat.disbandConfirm"),
      content: t("chat.disbandHelp"),
      okText: t("chat.disband"),
      okButtonProps: { danger: true },
      cancelText: t("common.cancel"),
      onOk: () =>
        run(async () => {
          await call(api.DELETE("/api/v1/im/conversations/{conversation_id}", { params: { path: { conversation_id: conversation.id } } }));
          store.removeConversation(conversation.id);
          onClose();
          navigate("/chat");
        }),
    });

  const memberMenu = (member: ChatMember): MenuProps["items"] => {
    if (member.membership_id === myId || member.rank === "owner") return [];
    const items: NonNullable<MenuProps["items"]> = [];
    if (owner && member.rank === "member") items.push({ key: "admin", label: t("chat.member.makeAdmin") });
    if (owner && member.rank === "admin") items.push({ key: "unadmin", label: t("chat.member.unmakeAdmin") });
    if (owner) items.push({ key: "owner", label: t("chat.member.transfer") });
    if (manager && member.rank === "member") {
      items.push({
        key: "mute",
        label: t("chat.member.mute"),
        children: [
          ...MUTE_OPTIONS.map((o) => ({ key: `mute:${o.minutes}`, label: t(o.key) })),
          ...(member.muted_until && new Date(member.muted_until).getTime() > Date.now() ? [{ key: "mute:0", label: t("chat.member.unmute") }] : []),
        ],
      });
    }
    if (manual && manager && (member.rank === "member" || owner)) items.push({ type: "divider" }, { key: "remove", label: t("chat.member.remove"), danger: true });
    return items;
  };

  const shown = showAll ? members : members.slice(0, 30);

  // Who of the members shown is online: asked when the drawer opens, and every minute while open.
  const shownIds = group ? shown.map((m) => m.membership_id).join(",") : "";
  useEffect(() => {
    if (!open || !shownIds) return;
    const ids = shownIds.split(",");
    void store.loadPresence(ids);
    const timer = window.setInterval(() => void store.loadPresence(ids), PRESENCE_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [open, shownIds, store]);
  const mayAdd = manual; // with join approval, a member's invitation waits for a manager
  const history = settings?.history_visible_count;

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={group ? t("chat.groupSettings") : t("chat.chatSettings")}
      size={phone ? "100%" : 400}
      className="zt-set-drawer"
      data-testid="settings-drawer"
    >
      <div data-testid="conversation-settings">
        <div className="zt-set-head">
          <ConversationAvatar conversation={conversation} size={48} />
          <div className="zt-set-head-main">
            {editingName ? (
              <Input.Search
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
                enterButton={t("common.save")}
                onSearch={() => void saveName()}
                loading={busy}
                autoFocus
                data-testid="group-name-input"
              />
            ) : (
              <div className="zt-set-title" data-testid="settings-title">
                {conversation.title}
                {group && manager && (
                  <Button size="small" type="text" icon={<EditOutlined />} onClick={() => (setName(conversation.title), setEditingName(true))} aria-label={t("chat.rename")} data-testid="rename-group" />
                )}
              </div>
            )}
            {group && <div className="zt-set-sub">{t("chat.memberCount", { count: conversation.member_count })}</div>}
          </div>
        </div>

        {group && (
          <section className="zt-set-section">
            <div className="zt-set-section-head">
              <span>{t("chat.notice.title")}</span>
              {manager && !editingNotice && (
                <Button size="small" type="link" onClick={() => (setNotice(conversation.announcement ?? ""), setEditingNotice(true))} data-testid="edit-notice">
                  {t("chat.notice.edit")}
                </Button>
              )}
            </div>
            {editingNotice ? (
              <>
                <Input.TextArea value={notice} onChange={(e) => setNotice(e.target.value)} maxLength={2000} autoSize={{ minRows: 3, maxRows: 8 }} data-testid="notice-input" />
                <div className="zt-set-actions">
                  <Button size="small" onClick={() => setEditingNotice(false)}>
                    {t("common.cancel")}
                  </Button>
                  <Button size="small" type="primary" loading={busy} onClick={() => void saveNotice()} data-testid="notice-save">
                    {t("chat.notice.publish")}
                  </Button>
                </div>
              </>
            ) : (
              <Typography.Paragraph className="zt-set-notice" type={conversation.announcement ? undefined : "secondary"} data-testid="notice-text">
                {conversation.announcement || t("chat.notice.none")}
              </Typography.Paragraph>
            )}
          </section>
        )}

        {joinRequests.length > 0 && (
          <section className="zt-set-section" data-testid="join-requests">
            <div className="zt-set-section-head">
              <span>{t("chat.join.requests", { count: joinRequests.length })}</span>
            </div>
            {joinRequests.map((request) => (
              <div key={request.id} className="zt-set-member" data-testid="join-request">
                <Avatar size={32} style={{ backgroundColor: avatarColour(request.membership_id), flex: "none", fontSize: 12 }}>
                  {avatarText(request.name)}
                </Avatar>
                <span className="zt-set-member-name">
                  {request.name}
                  {request.invited_by_name && <span className="zt-set-extra"> {t("chat.join.invitedBy", { name: request.invited_by_name })}</span>}
                </span>
                <Button size="small" onClick={() => decide(request, false)}>
                  {t("chat.join.reject")}
                </Button>
                <Button size="small" type="primary" onClick={() => decide(request, true)} data-testid="join-approve">
                  {t("chat.join.approve")}
                </Button>
              </div>
            ))}
          </section>
        )}

        {group && (
          <section className="zt-set-section">
            <div className="zt-set-section-head">
              <span>{t("chat.members", { count: conversation.member_count })}</span>
              {mayAdd && (
                <Button size="small" type="link" icon={<UserAddOutlined />} onClick={() => setAdding(true)} data-testid="add-members">
                  {t("chat.addMembers")}
                </Button>
              )}
            </div>
            <div className="zt-set-members" data-testid="member-list">
              {shown.map((member) => {
                const items = memberMenu(member);
                const muted = member.muted_until && new Date(member.muted_until).getTime() > Date.now();
                return (
                  <div key={member.membership_id} className="zt-set-member" data-testid="chat-member" data-member-id={member.membership_id}>
                    <MemberAvatar member={member} />
                    <span className="zt-set-member-name">{member.name}</span>
                    {member.rank === "owner" && (
                      <Tag color="gold" icon={<CrownOutlined />} data-testid="rank-owner">
                        {t("chat.rank.owner")}
                      </Tag>
                    )}
                    {member.rank === "admin" && <Tag color="blue" data-testid="rank-admin">{t("chat.rank.admin")}</Tag>}
                    {muted && (
                      <Tag color="red">
                        {t("chat.member.mutedTag", { time: timeOfDay(member.muted_until!, language) })}
                      </Tag>
                    )}
                    {items && items.length > 0 && (
                      <Dropdown trigger={["click"]} menu={{ items, onClick: ({ key }) => memberAction(member, key) }}>
                        <Button size="small" type="text" icon={<EllipsisOutlined />} aria-label={t("chat.member.actions")} data-testid="member-actions" />
                      </Dropdown>
                    )}
                  </div>
                );
              })}
              {members.length > shown.length && (
                <Button type="link" block onClick={() => setShowAll(true)}>
                  {t("chat.members.showAll", { count: members.length })}
                </Button>
              )}
              {hiddenCount > 0 && <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t("chat.members.hidden", { count: hiddenCount })}</Typography.Text>}
            </div>
          </section>
        )}

        {group && manager && <RobotsSection conversation={conversation} />}

        <section className="zt-set-section">
          <Row label={t("chat.dnd")} extra={t("chat.dndHelp")}>
            <Switch checked={conversation.do_not_disturb} onChange={(value) => void personal({ do_not_disturb: value })} data-testid="dnd-switch" />
          </Row>
          <Row label={t("chat.pinTop")}>
            <Switch checked={conversation.pinned} onChange={(value) => void personal({ pinned: value })} data-testid="pin-switch" />
          </Row>
        </section>

        {group && manager && settings && (
          <section className="zt-set-section" data-testid="group-switches">
            <div className="zt-set-section-head">
              <span>{t("chat.manage")}</span>
            </div>
            <Row label={t("chat.settings.muteAll")} extra={t("chat.settings.muteAllHelp")}>
              <Switch checked={settings.mute_all} onChange={(v) => void change({ mute_all: v })} data-testid="mute-all-switch" />
            </Row>
            <Row label={t("chat.settings.mentionAllAdminsOnly")}>
              <Switch checked={settings.mention_all_admins_only} onChange={(v) => void change({ mention_all_admins_only: v })} />
            </Row>
            {manual && (
              <Row label={t("chat.settings.joinApproval")} extra={t("chat.settings.joinApprovalHelp")}>
                <Switch checked={settings.join_approval} onChange={(v) => void change({ join_approval: v })} />
              </Row>
            )}
            <Row label={t("chat.settings.forbidPrivateChat")}>
              <Switch checked={settings.forbid_private_chat} onChange={(v) => void change({ forbid_private_chat: v })} />
            </Row>
            <Row label={t("chat.settings.searchable")}>
              <Switch checked={settings.searchable} onChange={(v) => void change({ searchable: v })} />
            </Row>
            <Row label={t("chat.settings.history")}>
              <Select
                size="small"
                style={{ width: 140 }}
                value={history === null || history === undefined ? -1 : history}
                onChange={(v: number) => void change({ history_visible_count: v })}
                options={[
                  { value: -1, label: t("chat.history.all") },
                  { value: 0, label: t("chat.history.none") },
                  ...[20, 50, 100, 500].map((n) => ({ value: n, label: t("chat.history.last", { count: n }) })),
                  ...(history && ![20, 50, 100, 500].includes(history) ? [{ value: history, label: t("chat.history.last", { count: history }) }] : []),
                ]}
              />
            </Row>
            {owner && (
              <>
                <Row label={t("chat.settings.onlyOwnerManages")} extra={t("chat.settings.onlyOwnerManagesHelp")}>
                  <Switch checked={settings.only_owner_manages} onChange={(v) => void change({ only_owner_manages: v })} />
                </Row>
                <Row label={t("chat.settings.maxMembers")}>
                  <InputNumber
                    size="small"
                    min={Math.max(2, conversation.member_count)}
                    max={policy?.max_group_members ?? 100000}
                    defaultValue={settings.max_members}
                    onBlur={(e) => {
                      const value = Number(e.target.value);
                      if (value && value !== settings.max_members) void change({ max_members: value });
                    }}
                    style={{ width: 110 }}
                  />
                </Row>
              </>
            )}
          </section>
        )}

        {manual && (
          <>
            <Divider />
            <div className="zt-set-danger">
              {!owner && (
                <Button danger block onClick={leave} data-testid="leave-group">
                  {t("chat.leave")}
                </Button>
              )}
              {owner && (
                <Button danger block onClick={disband} data-testid="disband-group">
                  {t("chat.disband")}
                </Button>
              )}
            </div>
          </>
        )}
      </div>
      <MemberPicker
        open={adding}
        title={t("chat.addMembers")}
        multiple
        exclude={new Set(members.map((m) => m.membership_id))}
        confirmLoading={busy}
        onCancel={() => setAdding(false)}
        onConfirm={(picked) => void addMembers(picked)}
      />
    </Drawer>
  );
}
