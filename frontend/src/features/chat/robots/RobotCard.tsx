// A group robot's message: the robot's picture and name, then its card — text, markdown, a link
// with a picture, an action card with one or several buttons (stacked or side by side), or a feed
// of links. Links open in a new tab without telling the target where they came from, and only
// http(s) ones are links at all. Pictures from other hosts are not loaded: the client stays on
// its own origin (and a picture would tell its host who read the message, and when).
import { AlertOutlined, BellOutlined, CodeOutlined, LineChartOutlined, PictureOutlined, RightOutlined, RobotOutlined } from "@ant-design/icons";
import type { ReactNode } from "react";

import { useT } from "../../../i18n";
import type { Message } from "../model";
import { Markdown, RichText } from "../MessageContent";
import "./robots.css";

export type Card = NonNullable<Message["robot"]>;

const AVATARS: Record<string, ReactNode> = {
  robot: <RobotOutlined />,
  alert: <AlertOutlined />,
  chart: <LineChartOutlined />,
  bell: <BellOutlined />,
  code: <CodeOutlined />,
};

/** The robot's built-in picture (see the server's robots.schemas.Avatar). */
export function RobotAvatar({ avatar, size = 20 }: { avatar: string; size?: number }) {
  return (
    <span className={`zt-robot-avatar is-${avatar}`} style={{ width: size, height: size, fontSize: size * 0.6 }} aria-hidden>
      {AVATARS[avatar] ?? AVATARS.robot}
    </span>
  );
}

/** `url` when it is http(s), else undefined: nothing else becomes a link. */
function safeUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

function External({ url, className, children, testId }: { url: string; className: string; children: ReactNode; testId?: string }) {
  const href = safeUrl(url);
  if (!href) return <div className={className}>{children}</div>;
  return (
    <a className={className} href={href} target="_blank" rel="noopener noreferrer" data-testid={testId}>
      {children}
    </a>
  );
}

function Picture({ url, className }: { url: string; className: string }) {
  const t = useT();
  const href = safeUrl(url);
  if (!href) return null;
  const parsed = new URL(href);
  if (parsed.origin === window.location.origin) return <img className={className} src={href} alt="" />;
  return (
    <span className={`${className} zt-robot-picture-elsewhere`} title={href} data-testid="robot-picture">
      <PictureOutlined />
      <span>{t("robots.picture", { host: parsed.host })}</span>
    </span>
  );
}

function LinkCard({ card }: { card: Card }) {
  return (
    <External url={card.url ?? ""} className="zt-robot-link" testId="robot-link">
      <span className="zt-robot-title">{card.title}</span>
      <span className="zt-robot-link-body">
        <span className="zt-robot-link-text">{card.text}</span>
        {card.pic_url && <Picture url={card.pic_url} className="zt-robot-link-picture" />}
      </span>
    </External>
  );
}

function ActionCard({ card }: { card: Card }) {
  const t = useT();
  const buttons = card.buttons ?? [];
  return (
    <div className="zt-robot-action" data-testid="robot-action-card">
      <div className="zt-robot-title">{card.title}</div>
      <Markdown text={card.text ?? ""} />
      {buttons.length === 0 ? (
        <External url={card.url ?? ""} className="zt-robot-single" testId="robot-button">
          <span>{card.single_title || t("robots.open")}</span>
          <RightOutlined />
        </External>
      ) : (
        <div className={`zt-robot-buttons${card.vertical_buttons ? " is-vertical" : ""}`}>
          {buttons.map((button, i) => (
            <External key={i} url={button.url} className="zt-robot-button" testId="robot-button">
              {button.title}
            </External>
          ))}
        </div>
      )}
    </div>
  );
}

function FeedCard({ card }: { card: Card }) {
  const [first, ...rest] = card.links ?? [];
  if (!first) return null;
  return (
    <div className="zt-robot-feed" data-testid="robot-feed-card">
      <External url={first.url} className="zt-robot-feed-first" testId="robot-feed-link">
        {first.pic_url && <Picture url={first.pic_url} className="zt-robot-feed-banner" />}
        <span className="zt-robot-feed-first-title">{first.title}</span>
      </External>
      {rest.map((link, i) => (
        <External key={i} url={link.url} className="zt-robot-feed-row" testId="robot-feed-link">
          <span className="zt-robot-feed-title">{link.title}</span>
          {link.pic_url && <Picture url={link.pic_url} className="zt-robot-feed-thumb" />}
        </External>
      ))}
    </div>
  );
}

function CardBody({ card }: { card: Card }) {
  switch (card.msgtype) {
    case "markdown":
      return <Markdown text={card.text ?? ""} />;
    case "link":
      return <LinkCard card={card} />;
    case "actionCard":
      return <ActionCard card={card} />;
    case "feedCard":
      return <FeedCard card={card} />;
    default:
      return (
        <div className="zt-msg-text">
          <RichText text={card.text ?? ""} />
        </div>
      );
  }
}

export function RobotCard({ card }: { card: Card }) {
  const t = useT();
  return (
    <div className={`zt-robot-card is-${card.msgtype}`} data-testid="robot-card" data-msgtype={card.msgtype}>
      <div className="zt-robot-head">
        <RobotAvatar avatar={card.avatar ?? "robot"} />
        <span className="zt-robot-name">{card.name}</span>
        <span className="zt-robot-tag">{t("robots.tag")}</span>
      </div>
      <CardBody card={card} />
    </div>
  );
}
