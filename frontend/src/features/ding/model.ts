// Types and small helpers of DING (urgent messages). Shapes come from the generated API types.
import type { BodyOf, ResponseOf } from "../../api/client";
import type { MessageKey } from "../../i18n";

export type Ding = ResponseOf<"/api/v1/ding/{ding_id}", "get">;
export type DingPage = ResponseOf<"/api/v1/ding/sent", "get">;
export type DingIn = BodyOf<"/api/v1/ding", "post">;
export type Channel = Ding["channel"];
export type RecipientPage = ResponseOf<"/api/v1/ding/{ding_id}/recipients", "get">;
export type Recipient = RecipientPage["items"][number];
export type RecipientTab = RecipientPage["tab"];
export type RecipientAttempts = ResponseOf<"/api/v1/ding/{ding_id}/recipients/{membership_id}/attempts", "get">;
export type Attempt = RecipientAttempts["items"][number];
export type DingFile = NonNullable<Ding["attachment"]>;

export const CHANNELS: readonly Channel[] = ["in_app", "sms", "call"];
export const MAX_TEXT_CHARS = 2000;

/** What the stream says when a DING arrives (or reminds) and when someone confirms one. */
export interface DingNewEvent {
  type: "ding.new";
  ding: Ding;
  round: number;
}

export interface DingConfirmedEvent {
  type: "ding.confirmed";
  ding_id: string;
  membership_id: string;
  name: string;
  confirmed_at: string;
  confirmed_count: number;
  unconfirmed_count: number;
}

export function isDingNew(event: { type: string }): event is DingNewEvent {
  return event.type === "ding.new";
}

export function isDingConfirmed(event: { type: string }): event is DingConfirmedEvent {
  return event.type === "ding.confirmed";
}

export function channelKey(channel: Channel): MessageKey {
  return `ding.channel.${channel}` as MessageKey;
}

/** One attempt as a person reads it: "短信已发送", "电话未接听", "免打扰时段，暂缓发送" … */
export function attemptKey(attempt: Attempt): MessageKey {
  if (attempt.result === "held_quiet_hours" || attempt.result === "queued") return `ding.attempt.${attempt.result}` as MessageKey;
  return `ding.attempt.${attempt.channel}.${attempt.result}` as MessageKey;
}

/** "mm:ss" of a countdown. */
export function countdown(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}
