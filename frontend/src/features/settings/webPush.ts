// Web Push to this browser: registers the service worker (/sw.js), subscribes with the server's
// VAPID key and hands the subscription to the server; or takes it back. Chromium's PushManager
// talks to Google's push service, which some networks cannot reach: subscribing then fails, or
// never answers, and is reported as "unreachable" (with the browser's words when it gave any).
import { api, call } from "../../api/client";

// Subscribing waits for the browser's push service; without an answer by then it is unreachable.
const SUBSCRIBE_TIMEOUT_MS = 20_000;

export type PushProblemKind = "unsupported" | "denied" | "unreachable";

export class PushProblem extends Error {
  readonly kind: PushProblemKind;

  constructor(kind: PushProblemKind, reason = "") {
    super(reason);
    this.name = "PushProblem";
    this.kind = kind;
  }
}

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  const text = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let index = 0; index < text.length; index += 1) bytes[index] = text.charCodeAt(index);
  return bytes;
}

function sameKey(subscription: PushSubscription, key: Uint8Array): boolean {
  const current = subscription.options.applicationServerKey;
  if (!current) return false;
  const bytes = new Uint8Array(current);
  return bytes.length === key.length && bytes.every((value, index) => value === key[index]);
}

async function browserSubscription(registration: ServiceWorkerRegistration, key: Uint8Array<ArrayBuffer>) {
  const existing = await registration.pushManager.getSubscription();
  if (existing && sameKey(existing, key)) return existing;
  await existing?.unsubscribe(); // made with a key the server no longer signs with
  let timer = 0;
  const silence = new Promise<never>((_, reject) => {
    timer = window.setTimeout(() => reject(new PushProblem("unreachable")), SUBSCRIBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
      silence,
    ]);
  } catch (error) {
    if (error instanceof PushProblem) throw error;
    throw new PushProblem("unreachable", error instanceof Error ? error.message : String(error));
  } finally {
    window.clearTimeout(timer);
  }
}

export async function subscribeThisBrowser(): Promise<void> {
  if (!pushSupported()) throw new PushProblem("unsupported");
  if ((await Notification.requestPermission()) !== "granted") throw new PushProblem("denied");
  await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  const registration = await navigator.serviceWorker.ready;
  const { public_key } = await call(api.GET("/api/v1/push/vapid-public-key"));
  const subscription = (await browserSubscription(registration, bytesOf(public_key))).toJSON();
  await call(
    api.POST("/api/v1/push/subscriptions", {
      body: {
        endpoint: subscription.endpoint ?? "",
        keys: { p256dh: subscription.keys?.p256dh ?? "", auth: subscription.keys?.auth ?? "" },
      },
    }),
  );
}

export async function unsubscribeThisBrowser(): Promise<void> {
  await call(api.DELETE("/api/v1/push/subscriptions/current"));
  if (!pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe();
}
