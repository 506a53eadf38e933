// Work notices: shapes from the generated API types, and the message formats (DingTalk's work
// notice `msg`: text, markdown, link, action_card, oa) read defensively. The server checks every
// message it stores; the client still reads each field as untrusted (only strings are taken, only
// http(s) URLs ever reach an href or src, only hex colours reach a style).
import type { ResponseOf } from "../../api/client";

export type NoticeSummary = ResponseOf<"/api/v1/org/work-notices", "get">[number];
export type NoticeDetail = ResponseOf<"/api/v1/org/work-notices/{work_notice_id}", "get">;
export type RecipientPage = ResponseOf<"/api/v1/org/work-notices/{work_notice_id}/recipients", "get">;
export type Received = ResponseOf<"/api/v1/work-notices/{work_notice_id}", "get">;

export const MSG_TYPES = ["text", "markdown", "link", "action_card", "oa"] as const;
export type MsgType = (typeof MSG_TYPES)[number];

export interface Button {
  title: string;
  action_url: string;
}
export interface FormRow {
  key: string;
  value: string;
}

export type WorkNoticeMessage =
  | { msgtype: "text"; text: { content: string } }
  | { msgtype: "markdown"; markdown: { title: string; text: string } }
  | { msgtype: "link"; link: { title: string; text: string; messageUrl: string; picUrl: string } }
  | {
      msgtype: "action_card";
      action_card: {
        title: string;
        markdown: string;
        single_title?: string;
        single_url?: string;
        btn_orientation?: "0" | "1";
        btn_json_list?: Button[];
      };
    }
  | {
      msgtype: "oa";
      oa: {
        message_url: string;
        head: { bgcolor: string; text: string };
        body: { title: string; form: FormRow[]; content: string; author: string };
      };
    };

type Loose = Record<string, unknown>;

function record(value: unknown): Loose {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Loose) : {};
}

function text(value: Loose, key: string): string {
  const found = value[key];
  return typeof found === "string" ? found : typeof found === "number" ? String(found) : "";
}

/** The message as the client renders it, or null when it is not one of the known formats. */
export function parseMessage(value: unknown): WorkNoticeMessage | null {
  const msg = record(value);
  const kind = msg.msgtype;
  if (kind === "text") return { msgtype: kind, text: { content: text(record(msg.text), "content") } };
  if (kind === "markdown") {
    const part = record(msg.markdown);
    return { msgtype: kind, markdown: { title: text(part, "title"), text: text(part, "text") } };
  }
  if (kind === "link") {
    const part = record(msg.link);
    return {
      msgtype: kind,
      link: {
        title: text(part, "title"),
        text: text(part, "text"),
        messageUrl: text(part, "messageUrl"),
        picUrl: text(part, "picUrl"),
      },
    };
  }
  if (kind === "action_card") {
    const part = record(msg.action_card);
    const list = Array.isArray(part.btn_json_list) ? part.btn_json_list : null;
    return {
      msgtype: kind,
      action_card: {
        title: text(part, "title"),
        markdown: text(part, "markdown"),
        ...(list
          ? {
              btn_orientation: text(part, "btn_orientation") === "1" ? "1" : "0",
              btn_json_list: list.map((button) => ({
                title: text(record(button), "title"),
                action_url: text(record(button), "action_url"),
              })),
            }
          : { single_title: text(part, "single_title"), single_url: text(part, "single_url") }),
      },
    };
  }
  if (kind === "oa") {
    const part = record(msg.oa);
    const head = record(part.head);
    const body = record(part.body);
    const form = Array.isArray(body.form) ? body.form : [];
    return {
      msgtype: kind,
      oa: {
        message_url: text(part, "message_url"),
        head: { bgcolor: text(head, "bgcolor"), text: text(head, "text") },
        body: {
          title: text(body, "title"),
          form: form.map((row) => ({ key: text(record(row), "key"), value: text(record(row), "value") })),
          content: text(body, "content"),
          author: text(body, "author"),
        },
      },
    };
  }
  return null;
}

/** One line saying what the message is about (as the server's summary does), for lists. */
export function summaryOf(message: WorkNoticeMessage | null): string {
  if (!message) return "";
  let line = "";
  switch (message.msgtype) {
    case "text":
      line = message.text.content;
      break;
    case "markdown":
      line = message.markdown.title;
      break;
    case "link":
      line = message.link.title;
      break;
    case "action_card":
      line = message.action_card.title;
      break;
    case "oa":
      line = message.oa.body.title || message.oa.body.content || message.oa.head.text;
      break;
  }
  return (line.trim().split("\n")[0] ?? "").slice(0, 80);
}

/** The URL when it is an absolute http(s) one; anything else (javascript:, data:, relative, junk) is dropped. */
export function safeHref(value: string | null | undefined): string | undefined {
  const raw = (value ?? "").trim();
  if (!/^https?:\/\//i.test(raw)) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A picture the page may load: the server's Content-Security-Policy allows images from its own
 * origin only (img-src 'self'), so a picture elsewhere would be blocked; the card then shows an icon. */
export function safeImage(value: string | null | undefined): string | undefined {
  const href = safeHref(value);
  if (!href) return undefined;
  return new URL(href).origin === window.location.origin ? href : undefined;
}

/** DingTalk's OA header colour (AARRGGBB, or RRGGBB) as CSS, with a readable text colour. */
export function headColours(value: string): { background: string; color: string } | null {
  const hex = value.trim().replace(/^(#|0x)/i, "");
  let alpha = 1;
  let rgb: string;
  if (/^[0-9a-f]{8}$/i.test(hex)) {
    alpha = parseInt(hex.slice(0, 2), 16) / 255;
    rgb = hex.slice(2);
  } else if (/^[0-9a-f]{6}$/i.test(hex)) {
    rgb = hex;
  } else {
    return null;
  }
  const [r, g, b] = [0, 2, 4].map((at) => parseInt(rgb.slice(at, at + 2), 16)) as [number, number, number];
  // Over a white page: the colour a person sees, to pick dark or light text on it.
  const seen = [r, g, b].map((c) => c * alpha + 255 * (1 - alpha));
  const luminance = (0.299 * seen[0]! + 0.587 * seen[1]! + 0.114 * seen[2]!) / 255;
  return {
    background: `rgba(${r}, ${g}, ${b}, ${alpha.toFixed(3)})`,
    color: luminance > 0.62 ? "rgba(0, 0, 0, 0.88)" : "#fff",
  };
}
