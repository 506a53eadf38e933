// Writing a message: multi-line text (Enter sends, Shift+Enter starts a new line), the @-picker,
// emoji, image and file attachments (pasted images too), replies, drafts and typing notices.
import { CloseOutlined, PaperClipOutlined, PictureOutlined, SendOutlined, SmileOutlined, StopOutlined } from "@ant-design/icons";
import { App, Avatar, Button, Mentions, Popover, Tooltip } from "antd";
import { useEffect, useMemo, useRef, useState, type ClipboardEvent, type KeyboardEvent } from "react";

import { useIsPhone } from "../../app/useIsPhone";
import { useLanguage, useT } from "../../i18n";
import { avatarColour, avatarText } from "../directory/model";
import { useChat, useChatState } from "./ChatProvider";
import { EMOJI } from "./emoji";
import { fileSize, manages, mutedUntil, previewText, timeOfDay, type ChatMember, type Conversation, type FileKind, type Message, type Quote } from "./model";

const ALL = "__all__";
/** Until the organisation's policy has loaded (the server's default). */
const DEFAULT_MAX_CHARS = 5000;

/** The counter shows over the last tenth of the allowance (at most the last 500 characters). */
function counterFrom(max: number): number {
  return max - Math.min(500, Math.ceil(max / 10));
}

type MentionsRef = { textarea?: HTMLTextAreaElement | null; focus: () => void };

export function quoteOf(message: Message, text: string): Quote {
  return {
    message_id: message.id,
    seq: message.seq,
    sender_name: message.sender_name,
    excerpt: text.slice(0, 60),
    recalled: false,
  };
}

export function Composer({
  conversation,
  members,
  reply,
  onCancelReply,
}: {
  conversation: Conversation;
  members: ChatMember[];
  reply: Message | null;
  onCancelReply: () => void;
}) {
  const t = useT();
  const language = useLanguage();
  const { store, sendTyping, policy } = useChat();
  const { message } = App.useApp();
  const maxChars = policy?.max_text_chars ?? DEFAULT_MAX_CHARS;
  const maxUpload = policy?.max_upload_bytes ?? null;
  const phone = useIsPhone();
  const myId = useChatState((s) => s.myId);
  const id = conversation.id;
  const [text, setText] = useState(() => store.getState().drafts[id] ?? "");
  const [emojiOpen, setEmojiOpen] = useState(false);
  const picked = useRef(new Map<string, string>());
  const input = useRef<MentionsRef | null>(null);
  const imageInput = useRef<HTMLInputElement | null>(null);
  const fileInput = useRef<HTMLInputElement | null>(null);
  const group = conversation.kind !== "direct";
  const manager = manages(conversation);
  const allLabel = t("chat.mentionAll");

  useEffect(() => {
    // On a phone, focusing would open the keyboard over the history; only a reply asks for it.
    if (!phone || reply) input.current?.focus();
  }, [id, reply, phone]);

  const options = useMemo(() => {
    if (!group) return [];
    const people = members
      .filter((m) => m.membership_id !== myId)
      .map((m) => ({
        key: m.membership_id,
        value: m.name,
        label: (
          <span className="zt-at-option" data-testid="mention-option">
            <Avatar size={22} style={{ backgroundColor: avatarColour(m.membership_id), fontSize: 10 }}>
              {avatarText(m.name)}
            </Avatar>
            {m.name}
          </span>
        ),
      }));
    const allowAll = manager || !conversation.settings?.mention_all_admins_only;
    return allowAll
      ? [{ key: ALL, value: allLabel, label: <span className="zt-at-option" data-testid="mention-option">@ {allLabel}</span> }, ...people]
      : people;
  }, [group, members, myId, manager, conversation.settings?.mention_all_admins_only, allLabel]);

  const muted = mutedUntil(conversation);
  const silenced = group && conversation.settings?.mute_all && !manager;
  if (muted || silenced) {
    return (
      <div className="zt-composer is-disabled" data-testid="composer-disabled">
        <StopOutlined />{" "}
        {muted ? t("chat.mutedUntil", { time: `${muted.toLocaleDateString(language)} ${timeOfDay(muted.toISOString(), language)}` }) : t("chat.muteAllOn")}
      </div>
    );
  }

  const change = (value: string) => {
    setText(value);
    store.setDraft(id, value);
    if (value.trim()) sendTyping(id);
  };

  const send = () => {
    const value = text.trim();
    if (!value || value.length > maxChars) return;
    const mentions: string[] = [];
    let mentionAll = false;
    picked.current.forEach((memberId, label) => {
      if (!value.includes(`@${label}`)) return;
      if (memberId === ALL) mentionAll = true;
      else mentions.push(memberId);
    });
    store.send(
      id,
      { kind: "text", text: value, mentions, mention_all: mentionAll, reply_to_id: reply?.id ?? null },
      reply ? quoteOf(reply, previewText(reply, t, myId)) : null,
    );
    picked.current.clear();
    change("");
    onCancelReply();
  };

  const onPressEnter = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    send();
  };

  const insert = (value: string) => {
    const area = input.current?.textarea;
    const start = area?.selectionStart ?? text.length;
    const end = area?.selectionEnd ?? text.length;
    const next = text.slice(0, start) + value + text.slice(end);
    change(next);
    window.setTimeout(() => {
      const target = input.current?.textarea;
      if (!target) return;
      target.focus();
      target.setSelectionRange(start + value.length, start + value.length);
      // The @-picker opens on the key that typed "@"; a click on the @ button says the same.
      if (value === "@") target.dispatchEvent(new KeyboardEvent("keyup", { key: "@", bubbles: true }));
    });
  };

  const upload = (files: FileList | File[] | null, kind: FileKind) => {
    if (!files) return;
    const chosen = Array.from(files);
    // Checked here, before any upload: the server would refuse them only after the whole file.
    const tooLarge = maxUpload === null ? [] : chosen.filter((file) => file.size > maxUpload);
    for (const file of tooLarge) {
      message.error({
        content: t("chat.fileTooLarge", { name: file.name, size: fileSize(file.size), max: fileSize(maxUpload!) }),
        key: `too-large-${file.name}`,
      });
    }
    const accepted = chosen.filter((file) => !tooLarge.includes(file));
    if (accepted.length === 0) return;
    for (const file of accepted) {
      const actual: FileKind = kind === "image" && !file.type.startsWith("image/") ? "file" : kind;
      store.sendFile(id, file, actual, reply ? quoteOf(reply, previewText(reply, t, myId)) : null, reply?.id ?? null);
    }
    onCancelReply();
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const images = Array.from(event.clipboardData.files).filter((f) => f.type.startsWith("image/"));
    if (images.length === 0) return;
    event.preventDefault();
    upload(images, "image");
  };

  return (
    <div className="zt-composer" data-testid="composer">
      {reply && (
        <div className="zt-composer-reply" data-testid="reply-bar">
          <span className="zt-composer-reply-text">
            {t("chat.replyTo", { name: reply.sender_name })}
            {previewText(reply, t, myId)}
          </span>
          <Button size="small" type="text" icon={<CloseOutlined />} onClick={onCancelReply} aria-label={t("common.cancel")} />
        </div>
      )}
      <div className="zt-composer-tools">
        <Popover
          open={emojiOpen}
          onOpenChange={setEmojiOpen}
          trigger="click"
          placement="topLeft"
          content={
            <div className="zt-emoji-grid" data-testid="emoji-grid">
              {EMOJI.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  onClick={() => {
                    setEmojiOpen(false);
                    insert(emoji);
                  }}
                >
                  {emoji}
                </button>
              ))}
            </div>
          }
        >
          <Button type="text" icon={<SmileOutlined />} aria-label={t("chat.emoji")} data-testid="emoji-button" />
        </Popover>
        <Tooltip title={t("chat.sendImage")}>
          <Button type="text" icon={<PictureOutlined />} aria-label={t("chat.sendImage")} onClick={() => imageInput.current?.click()} data-testid="image-button" />
        </Tooltip>
        <Tooltip title={t("chat.sendFile")}>
          <Button type="text" icon={<PaperClipOutlined />} aria-label={t("chat.sendFile")} onClick={() => fileInput.current?.click()} data-testid="file-button" />
        </Tooltip>
        {group && (
          <Tooltip title={t("chat.mention")}>
            <Button type="text" aria-label={t("chat.mention")} onClick={() => insert("@")} className="zt-composer-at">
              @
            </Button>
          </Tooltip>
        )}
        <input
          ref={imageInput}
          type="file"
          accept="image/*"
          multiple
          hidden
          data-testid="image-input"
          onChange={(event) => {
            upload(event.target.files, "image");
            event.target.value = "";
          }}
        />
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(event) => {
            upload(event.target.files, "file");
            event.target.value = "";
          }}
        />
      </div>
      <div className="zt-composer-main">
        <Mentions
          ref={input as never}
          value={text}
          onChange={change}
          onSelect={(option) => {
            const chosen = options.find((o) => o.value === option.value);
            if (chosen) picked.current.set(chosen.value, chosen.key);
          }}
          options={options}
          prefix={group ? "@" : []}
          autoSize={phone ? { minRows: 1, maxRows: 5 } : { minRows: 2, maxRows: 8 }}
          placeholder={phone ? t("chat.composer.placeholderShort") : t("chat.composer.placeholder")}
          aria-label={t("chat.composer.placeholder")}
          onPressEnter={onPressEnter}
          onPaste={onPaste}
          variant="borderless"
          placement="top"
          data-testid="composer-input"
          className="zt-composer-input"
        />
        <div className="zt-composer-send">
          {text.length > counterFrom(maxChars) && (
            <span
              className={`zt-composer-count${text.length > maxChars ? " is-over" : ""}`}
              data-testid="composer-count"
              title={text.length > maxChars ? t("chat.composer.tooLong", { max: maxChars }) : undefined}
            >
              {text.length > maxChars ? t("chat.composer.over", { count: text.length - maxChars }) : `${text.length}/${maxChars}`}
            </span>
          )}
          <span className="zt-composer-hint">{t("chat.composer.hint")}</span>
          <Button type="primary" icon={<SendOutlined />} onClick={send} disabled={!text.trim() || text.length > maxChars} data-testid="send-button">
            {t("chat.send")}
          </Button>
        </div>
      </div>
    </div>
  );
}
