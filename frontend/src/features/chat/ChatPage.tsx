// 消息: the conversation list beside the open conversation; on a phone, two screens.
import { MessageOutlined } from "@ant-design/icons";
import { useParams } from "react-router";

import { useIsPhone } from "../../app/useIsPhone";
import { useT } from "../../i18n";
import "./chat.css";
import { ConversationPane } from "./ConversationPane";
import { ConversationView } from "./ConversationView";

export default function ChatPage() {
  const t = useT();
  const phone = useIsPhone();
  const { conversationId } = useParams();
  const id = conversationId ?? null;

  if (phone) {
    return (
      <div className="zt-chat-phone" data-testid="page-chat" data-view={id ? "conversation" : "list"}>
        {id ? (
          <div className="zt-chat-phone-conv">
            <ConversationView key={id} id={id} />
          </div>
        ) : (
          <ConversationPane activeId={null} />
        )}
      </div>
    );
  }

  return (
    <div className="zt-chat" data-testid="page-chat">
      <aside className="zt-chat-side">
        <ConversationPane activeId={id} />
      </aside>
      <section className="zt-chat-main">
        {id ? (
          <ConversationView key={id} id={id} />
        ) : (
          <div className="zt-conv-empty" data-testid="no-conversation">
            <MessageOutlined className="zt-conv-empty-icon" />
            <div>{t("chat.pick")}</div>
          </div>
        )}
      </section>
    </div>
  );
}
