// The conversation's pinned messages (置顶消息).
import { PushpinOutlined } from "@ant-design/icons";
import { Alert, App, Button, Drawer, Empty, Spin } from "antd";
import { useEffect, useState } from "react";

import { api, call, errorMessage } from "../../api/client";
import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { useChat, useChatState } from "./ChatProvider";
import { listTime, manages, previewText, type Conversation, type Message } from "./model";
import { noVersions } from "./store";

export function PinsDrawer({
  conversation,
  open,
  onClose,
  onJump,
}: {
  conversation: Conversation;
  open: boolean;
  onClose: () => void;
  onJump: (message: Message) => void;
}) {
  const t = useT();
  const language = useLanguage();
  const phone = useIsPhone();
  const { message } = App.useApp();
  const { store } = useChat();
  const myId = useChatState((s) => s.myId);
  const version = useChatState((s) => (s.versions[conversation.id] ?? noVersions()).pins);
  const [pins, setPins] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mayUnpin = conversation.kind === "direct" || manages(conversation);

  useEffect(() => {
    if (!open) return;
    let stopped = false;
    call(api.GET("/api/v1/im/conversations/{conversation_id}/pins", { params: { path: { conversation_id: conversation.id } } }))
      .then((found) => !stopped && (setPins(found), setError(null)))
      .catch((thrown: unknown) => !stopped && setError(errorMessage(thrown)));
    return () => {
      stopped = true;
    };
  }, [open, conversation.id, version]);

  return (
    <Drawer
      open={open}
      onClose={onClose}
      title={
        <span>
          <PushpinOutlined /> {t("chat.pins.title")}
        </span>
      }
      size={phone ? "100%" : 380}
      destroyOnHidden
    >
      <div data-testid="pins-drawer">
        {error && <Alert type="error" showIcon title={error} />}
        {!error && pins === null && <Spin />}
        {pins?.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("chat.pins.none")} />}
        {pins?.map((pin) => (
          <div key={pin.id} className="zt-pin" data-testid="pin-item">
            <button type="button" className="zt-pin-main" onClick={() => onJump(pin)}>
              <span className="zt-pin-meta">
                {pin.sender_name} · {listTime(pin.created_at, language, t)}
              </span>
              <span className="zt-pin-text">{previewText(pin, t, myId, store.nameOf)}</span>
            </button>
            {mayUnpin && (
              <Button
                size="small"
                type="link"
                onClick={() => store.setPinned(pin.id, false).catch((thrown: unknown) => message.error(errorMessage(thrown)))}
                data-testid="unpin"
              >
                {t("chat.action.unpin")}
              </Button>
            )}
          </div>
        ))}
      </div>
    </Drawer>
  );
}
