// What is inside a message bubble: text with @mentions and links, a little markdown, images,
// files, voice and video, merged forwards, quotes, group robots' cards.
import { FileOutlined, FileTextOutlined } from "@ant-design/icons";
import { Image, Modal } from "antd";
import { Fragment, useState, type ReactNode } from "react";

import { useLanguage, useT } from "../../i18n";
import { fileSize, fileUrl, listTime, type Attachment, type Message, type Quote } from "./model";
import { RobotCard } from "./robots/RobotCard";

const LINK = /(https?:\/\/[^\s<>"'，。）]+)/g;
const MENTION = /((?:^|\s)@[^\s@]+)/g;

function linkified(text: string, keyBase: string): ReactNode[] {
  return text.split(LINK).map((part, i) =>
    i % 2 === 1 ? (
      <a key={`${keyBase}-l${i}`} href={part} target="_blank" rel="noopener noreferrer">
        {part}
      </a>
    ) : (
      <Fragment key={`${keyBase}-t${i}`}>{part}</Fragment>
    ),
  );
}

/** Plain text: @mentions highlighted, links clickable; newlines kept by CSS. */
export function RichText({ text }: { text: string }) {
  return (
    <>
      {text.split(MENTION).map((part, i) =>
        i % 2 === 1 ? (
          <Fragment key={i}>
            {part.startsWith("@") ? "" : part.slice(0, part.indexOf("@"))}
            <span className="zt-msg-at">{part.slice(part.indexOf("@"))}</span>
          </Fragment>
        ) : (
          <Fragment key={i}>{linkified(part, String(i))}</Fragment>
        ),
      )}
    </>
  );
}

function inline(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /(\*\*[^*]+\*\*|`[^`]+`|\[[^\]]+\]\(https?:\/\/[^)\s]+\))/g;
  text.split(pattern).forEach((part, i) => {
    const k = `${key}-${i}`;
    if (i % 2 === 0) out.push(<Fragment key={k}>{linkified(part, k)}</Fragment>);
    else if (part.startsWith("**")) out.push(<strong key={k}>{part.slice(2, -2)}</strong>);
    else if (part.startsWith("`")) out.push(<code key={k}>{part.slice(1, -1)}</code>);
    else {
      const match = /^\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)$/.exec(part);
      out.push(
        match ? (
          <a key={k} href={match[2]} target="_blank" rel="noopener noreferrer">
            {match[1]}
          </a>
        ) : (
          part
        ),
      );
    }
  });
  return out;
}

/** A small, safe markdown subset (headings, lists, code blocks, bold, code, links): no HTML is injected. */
export function Markdown({ text }: { text: string }) {
  const blocks: ReactNode[] = [];
  const lines = text.split("\n");
  let list: { ordered: boolean; items: string[] } | null = null;
  const flush = () => {
    if (!list) return;
    const items = list.items.map((item, i) => <li key={i}>{inline(item, `li${blocks.length}-${i}`)}</li>);
    blocks.push(list.ordered ? <ol key={blocks.length}>{items}</ol> : <ul key={blocks.length}>{items}</ul>);
    list = null;
  };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.startsWith("```")) {
      flush();
      const code: string[] = [];
      for (i += 1; i < lines.length && !lines[i]!.startsWith("```"); i += 1) code.push(lines[i]!);
      blocks.push(<pre key={blocks.length}>{code.join("\n")}</pre>);
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(line);
    const bullet = /^\s*[-*]\s+(.*)$/.exec(line);
    const numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
    if (bullet || numbered) {
      const ordered = Boolean(numbered);
      if (list && list.ordered !== ordered) flush();
      list ??= { ordered, items: [] };
      list.items.push((bullet ?? numbered)![1]!);
      continue;
    }
    flush();
    if (heading) blocks.push(<div key={blocks.length} className={`zt-md-h${heading[1]!.length}`}>{inline(heading[2]!, `h${i}`)}</div>);
    else if (line.trim()) blocks.push(<p key={blocks.length}>{inline(line, `p${i}`)}</p>);
  }
  flush();
  return <div className="zt-md">{blocks}</div>;
}

function boxOf(attachment: { width?: number | null; height?: number | null }, max = 240): { width: number; height: number } {
  const w = attachment.width ?? 0;
  const h = attachment.height ?? 0;
  if (!w || !h) return { width: 160, height: 120 };
  const scale = Math.min(1, max / Math.max(w, h));
  return { width: Math.max(40, Math.round(w * scale)), height: Math.max(40, Math.round(h * scale)) };
}

export function ImageAttachment({ attachment }: { attachment: Attachment }) {
  const t = useT();
  const box = boxOf(attachment);
  return (
    <Image
      className="zt-msg-image"
      width={box.width}
      height={box.height}
      src={fileUrl(attachment.id, attachment.has_thumbnail)}
      preview={{ src: fileUrl(attachment.id) }}
      alt={attachment.name || t("chat.kind.image")}
      data-testid="message-image"
    />
  );
}

export function FileCard({ attachment }: { attachment: Attachment }) {
  return (
    <a className="zt-msg-file" href={fileUrl(attachment.id)} download={attachment.name} data-testid="message-file">
      <FileOutlined className="zt-msg-file-icon" />
      <span className="zt-msg-file-main">
        <span className="zt-msg-file-name">{attachment.name}</span>
        <span className="zt-msg-file-size">{fileSize(attachment.size)}</span>
      </span>
    </a>
  );
}

function ForwardCard({ message }: { message: Message }) {
  const t = useT();
  const language = useLanguage();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="zt-msg-forward" onClick={() => setOpen(true)} data-testid="message-forward">
        <span className="zt-msg-forward-title">
          <FileTextOutlined /> {t("chat.forward.record")}
        </span>
        {(message.items ?? []).slice(0, 4).map((item, i) => (
          <span key={i} className="zt-msg-forward-line">
            {item.sender_name}
            {t("chat.colon")}
            {item.attachment ? `[${t(`chat.kind.${item.kind === "image" ? "image" : "file"}`)}]` : item.text}
          </span>
        ))}
        <span className="zt-msg-forward-foot">{t("chat.forward.count", { count: (message.items ?? []).length })}</span>
      </button>
      <Modal open={open} onCancel={() => setOpen(false)} footer={null} title={t("chat.forward.record")} destroyOnHidden>
        <div className="zt-msg-forward-list">
          {(message.items ?? []).map((item, i) => (
            <div key={i} className="zt-msg-forward-item">
              <div className="zt-msg-forward-meta">
                {item.sender_name} · {listTime(item.created_at, language, t)}
              </div>
              {item.attachment?.kind === "image" ? (
                <ImageAttachment attachment={item.attachment} />
              ) : item.attachment ? (
                <FileCard attachment={item.attachment} />
              ) : (
                <div className="zt-msg-text">
                  <RichText text={item.text} />
                </div>
              )}
            </div>
          ))}
        </div>
      </Modal>
    </>
  );
}

export function QuoteBlock({ quote, onClick }: { quote: Quote; onClick?: () => void }) {
  const t = useT();
  return (
    <button type="button" className="zt-msg-quote" onClick={onClick} data-testid="message-quote" disabled={!onClick}>
      <span className="zt-msg-quote-name">{quote.sender_name}</span>
      <span className="zt-msg-quote-text">{quote.recalled ? t("chat.quote.recalled") : quote.excerpt || t("chat.kind.attachment")}</span>
    </button>
  );
}

export function MessageBody({ message }: { message: Message }) {
  const t = useT();
  const attachment = message.attachment;
  if (message.kind === "robot" && message.robot) return <RobotCard card={message.robot} />;
  switch (message.kind) {
    case "markdown":
      return <Markdown text={message.text} />;
    case "image":
      return attachment ? <ImageAttachment attachment={attachment} /> : <span className="zt-msg-gone">{t("chat.fileGone")}</span>;
    case "file":
      return attachment ? <FileCard attachment={attachment} /> : <span className="zt-msg-gone">{t("chat.fileGone")}</span>;
    case "voice":
      return attachment ? <audio className="zt-msg-audio" controls preload="none" src={fileUrl(attachment.id)} /> : <span className="zt-msg-gone">{t("chat.fileGone")}</span>;
    case "video":
      return attachment ? <video className="zt-msg-video" controls preload="metadata" src={fileUrl(attachment.id)} /> : <span className="zt-msg-gone">{t("chat.fileGone")}</span>;
    case "forward":
      return <ForwardCard message={message} />;
    default:
      return (
        <div className="zt-msg-text">
          <RichText text={message.text} />
        </div>
      );
  }
}
