// Forwarding messages to other conversations, one by one or merged into a chat record (合并转发).
import { SearchOutlined } from "@ant-design/icons";
import { App, Checkbox, Empty, Input, Modal, Segmented } from "antd";
import { useEffect, useMemo, useState } from "react";

import { errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import { useChat, useChatState } from "./ChatProvider";
import { ConversationAvatar } from "./ConversationPane";
import { sortConversations } from "./model";

const MAX_TARGETS = 20;

export function ForwardModal({
  messageIds,
  initialMerged = false,
  onClose,
  onDone,
}: {
  messageIds: string[] | null;
  initialMerged?: boolean;
  onClose: () => void;
  onDone?: () => void;
}) {
  const t = useT();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const { store } = useChat();
  const conversations = useChatState((s) => s.conversations);
  const touched = useChatState((s) => s.touched);
  const [query, setQuery] = useState("");
  const [targets, setTargets] = useState<string[]>([]);
  const [merged, setMerged] = useState(initialMerged);
  const [busy, setBusy] = useState(false);
  const open = messageIds !== null;

  useEffect(() => {
    if (open) {
      setTargets([]);
      setQuery("");
      setMerged(initialMerged);
    }
  }, [open, initialMerged]);

  const list = useMemo(() => {
    const q = query.trim().toLowerCase();
    return sortConversations(Object.values(conversations), touched).filter((c) => !q || c.title.toLowerCase().includes(q));
  }, [conversations, touched, query]);

  const toggle = (id: string) =>
    setTargets((current) => (current.includes(id) ? current.filter((x) => x !== id) : current.length >= MAX_TARGETS ? current : [...current, id]));

  const submit = async () => {
    if (!messageIds) return;
    setBusy(true);
    try {
      await store.forward(messageIds, targets, merged && messageIds.length > 1);
      message.success(t("chat.forward.done"));
      onDone?.();
      onClose();
    } catch (error) {
      message.error(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t("chat.forward.title", { count: messageIds?.length ?? 0 })}
      onCancel={onClose}
      onOk={() => void submit()}
      okText={t("chat.forward.send")}
      okButtonProps={{ disabled: targets.length === 0 }}
      confirmLoading={busy}
      width={phone ? "100%" : 480}
      className={phone ? "zt-modal-phone" : undefined}
      destroyOnHidden
    >
      <div className="zt-forward" data-testid="forward-modal">
        {(messageIds?.length ?? 0) > 1 && (
          <Segmented
            block
            value={merged ? "merged" : "each"}
            onChange={(value) => setMerged(value === "merged")}
            options={[
              { value: "each", label: t("chat.forward.each") },
              { value: "merged", label: t("chat.forward.merged") },
            ]}
            style={{ marginBottom: 12 }}
          />
        )}
        <Input
          allowClear
          prefix={<SearchOutlined style={{ color: "rgba(0,0,0,0.35)" }} />}
          placeholder={t("chat.forward.search")}
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <div className="zt-forward-list">
          {list.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />}
          {list.map((c) => (
            <button key={c.id} type="button" className="zt-pick-row" onClick={() => toggle(c.id)} data-testid="forward-target">
              <Checkbox checked={targets.includes(c.id)} tabIndex={-1} />
              <ConversationAvatar conversation={c} size={32} />
              <span className="zt-pick-main">
                <span className="zt-pick-name">{c.title}</span>
              </span>
            </button>
          ))}
        </div>
      </div>
    </Modal>
  );
}
