// A work notice's message as its recipient sees it: text, markdown (the chat's safe subset: no HTML
// is injected), a link card, an action card with its buttons, an OA card. Used by the person's
// page, the admin's detail drawer and the compose form's preview.
import { LinkOutlined, RightOutlined } from "@ant-design/icons";
import { Typography } from "antd";
import type { ReactNode } from "react";

import { useT } from "../../i18n";
import { Markdown, RichText } from "../chat/MessageContent";
import { headColours, parseMessage, safeHref, safeImage, type Button, type WorkNoticeMessage } from "./model";
import "./worknotices.css";

/** An anchor to an http(s) URL in a new tab, or plain content when the URL is not one. */
function OutLink({ url, className, children, testId }: { url: string; className: string; children: ReactNode; testId?: string }) {
  const href = safeHref(url);
  if (!href) {
    return (
      <span className={`${className} is-inert`} data-testid={testId}>
        {children}
      </span>
    );
  }
  return (
    <a className={className} href={href} target="_blank" rel="noopener noreferrer" data-testid={testId}>
      {children}
    </a>
  );
}

function LinkCard({ link }: { link: Extract<WorkNoticeMessage, { msgtype: "link" }>["link"] }) {
  const picture = safeImage(link.picUrl);
  return (
    <OutLink url={link.messageUrl} className="zt-wn-link" testId="wn-link-card">
      <span className="zt-wn-link-title">{link.title}</span>
      <span className="zt-wn-link-main">
        <span className="zt-wn-link-text">{link.text}</span>
        {picture ? (
          <img className="zt-wn-link-pic" src={picture} alt="" referrerPolicy="no-referrer" />
        ) : (
          <span className="zt-wn-link-pic is-icon" aria-hidden>
            <LinkOutlined />
          </span>
        )}
      </span>
    </OutLink>
  );
}

function ActionCard({ card }: { card: Extract<WorkNoticeMessage, { msgtype: "action_card" }>["action_card"] }) {
  const buttons: Button[] = card.btn_json_list ?? (card.single_title ? [{ title: card.single_title, action_url: card.single_url ?? "" }] : []);
  const across = card.btn_json_list !== undefined && card.btn_orientation === "1";
  return (
    <div className="zt-wn-card" data-testid="wn-action-card">
      <div className="zt-wn-card-body">
        <div className="zt-wn-card-title">{card.title}</div>
        <Markdown text={card.markdown} />
      </div>
      {buttons.length > 0 && (
        <div className={`zt-wn-card-buttons${across ? " is-across" : ""}`}>
          {buttons.map((button, i) => (
            <OutLink key={i} url={button.action_url} className="zt-wn-card-button" testId="wn-card-button">
              {button.title}
              {!across && card.btn_json_list === undefined && <RightOutlined className="zt-wn-card-chevron" />}
            </OutLink>
          ))}
        </div>
      )}
    </div>
  );
}

function OaCard({ oa }: { oa: Extract<WorkNoticeMessage, { msgtype: "oa" }>["oa"] }) {
  const t = useT();
  const colours = headColours(oa.head.bgcolor);
  const { body } = oa;
  return (
    <div className="zt-wn-oa" data-testid="wn-oa-card">
      {(oa.head.text || colours) && (
        <div className="zt-wn-oa-head" style={colours ?? undefined}>
          {oa.head.text}
        </div>
      )}
      <div className="zt-wn-oa-body">
        {body.title && <div className="zt-wn-oa-title">{body.title}</div>}
        {body.form.length > 0 && (
          <dl className="zt-wn-oa-form">
            {body.form.map((row, i) => (
              <div key={i} className="zt-wn-oa-row">
                <dt>{row.key}</dt>
                <dd>{row.value}</dd>
              </div>
            ))}
          </dl>
        )}
        {body.content && (
          <div className="zt-wn-oa-content zt-msg-text">
            <RichText text={body.content} />
          </div>
        )}
        {body.author && <div className="zt-wn-oa-author">{body.author}</div>}
      </div>
      {safeHref(oa.message_url) && (
        <OutLink url={oa.message_url} className="zt-wn-oa-more">
          {t("worknotices.openLink")}
          <RightOutlined />
        </OutLink>
      )}
    </div>
  );
}

/** Renders `message` (anything: it is parsed here); unknown formats say so. */
export function MessageView({ message }: { message: unknown }) {
  const t = useT();
  const parsed = parseMessage(message);
  let body: ReactNode;
  switch (parsed?.msgtype) {
    case "text":
      body = (
        <div className="zt-msg-text zt-wn-text">
          <RichText text={parsed.text.content} />
        </div>
      );
      break;
    case "markdown":
      body = <Markdown text={parsed.markdown.text} />;
      break;
    case "link":
      body = <LinkCard link={parsed.link} />;
      break;
    case "action_card":
      body = <ActionCard card={parsed.action_card} />;
      break;
    case "oa":
      body = <OaCard oa={parsed.oa} />;
      break;
    default:
      body = <Typography.Text type="secondary">{t("worknotices.unknownFormat")}</Typography.Text>;
  }
  return (
    <div className="zt-wn-msg" data-testid="wn-message" data-msgtype={parsed?.msgtype ?? "unknown"}>
      {body}
    </div>
  );
}
