// Chat that runs while the person is anywhere in the app: the event stream, the conversation list
// (the navigation shows its unread total), chat preferences, and desktop notifications.
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from "react";
import { useNavigate } from "react-router";

import { api, call } from "../../api/client";
import { useMe } from "../../app/session";
import { translate, getLanguage, useT } from "../../i18n";
import { inQuietHours, previewText, type Conversation, type Message, type Policy, type Preferences } from "./model";
import { RealtimeConnection, type StreamEvent } from "./realtime";
import { ChatStore, type ChatState } from "./store";

const TYPING_EVERY_MS = 3000;

export type NotificationState = NotificationPermission | "unsupported";

interface ChatContextValue {
  store: ChatStore;
  preferences: Preferences | null;
  policy: Policy | null;
  setPreferences: (preferences: Preferences) => void;
  sendTyping: (conversationId: string) => void;
  notifications: NotificationState;
  /** Asks the browser for permission; must run from a click. */
  enableNotifications: () => Promise<NotificationState>;
  /** Hears every event of the person's stream (the bell, DING lists); returns the unsubscribe. */
  subscribeEvents: (listener: (event: StreamEvent) => void) => () => void;
}

const ChatContext = createContext<ChatContextValue | null>(null);

function notificationState(): NotificationState {
  return typeof window !== "undefined" && "Notification" in window ? Notification.permission : "unsupported";
}

function ChatRuntime({ children }: { children: ReactNode }) {
  const me = useMe();
  const navigate = useNavigate();
  const t = useT();
  const [store] = useState(() => new ChatStore(me.current_membership_id));
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  const [policy, setPolicy] = useState<Policy | null>(null);
  const [notifications, setNotifications] = useState<NotificationState>(notificationState);
  const connection = useRef<RealtimeConnection | null>(null);
  const lastTyping = useRef<Record<string, number>>({});
  const preferencesRef = useRef<Preferences | null>(null);
  preferencesRef.current = preferences;
  const [eventListeners] = useState(() => new Set<(event: StreamEvent) => void>());

  useEffect(() => {
    store.open();
    const socket = new RealtimeConnection({
      onResync: () => void store.resync(),
      onResumed: () => void store.recheck(),
      onEvent: (event) => {
        store.applyEvent(event);
        eventListeners.forEach((listener) => listener(event));
      },
      onStatus: (status) => store.setStatus(status),
    });
    connection.current = socket;
    socket.start();
    // The list shows even when the socket cannot connect (a proxy without WebSocket support).
    const fallback = window.setTimeout(() => {
      if (!store.getState().listLoaded) void store.loadConversations();
    }, 2500);
    call(api.GET("/api/v1/im/preferences")).then(setPreferences).catch(() => undefined);
    call(api.GET("/api/v1/im/policy")).then(setPolicy).catch(() => undefined);
    return () => {
      window.clearTimeout(fallback);
      socket.stop();
      connection.current = null;
      store.close();
    };
  }, [store, eventListeners]);

  // Desktop notifications for messages that arrive while the person looks elsewhere.
  useEffect(
    () =>
      store.onIncoming((message: Message, conversation: Conversation | undefined) => {
        if (!conversation || message.kind === "system" || notificationState() !== "granted") return;
        const looking = document.visibilityState === "visible" && document.hasFocus();
        if (looking) return;
        const { myId } = store.getState();
        const mentioned = message.mention_all || (myId !== null && (message.mentions ?? []).includes(myId));
        if (conversation.do_not_disturb && !mentioned) return;
        const prefs = preferencesRef.current;
        if (prefs && inQuietHours(prefs)) return;
        const language = getLanguage();
        const text = previewText(message, (key, params) => translate(language, key, params), myId, store.nameOf);
        const body =
          conversation.kind === "direct" ? text : `${message.sender_name}${translate(language, "chat.colon")}${text}`;
        try {
          const notice = new Notification(
            mentioned ? translate(language, "chat.notify.mentioned", { title: conversation.title }) : conversation.title,
            { body, tag: conversation.id },
          );
          notice.onclick = () => {
            window.focus();
            navigate(`/chat/${conversation.id}`);
            notice.close();
          };
        } catch {
          // some browsers allow notifications only from a service worker
        }
      }),
    [store, navigate],
  );

  // The unread total in the tab's title.
  const total = useSyncExternalStore(store.subscribe, () => totalUnread(store.getState()));
  useEffect(() => {
    const name = t("app.name");
    // After the app's own title effect, which runs later on a language change.
    const timer = window.setTimeout(() => {
      document.title = total > 0 ? `(${total > 99 ? "99+" : total}) ${name}` : name;
    });
    return () => window.clearTimeout(timer);
  }, [total, t]);

  const sendTyping = useCallback((conversationId: string) => {
    const now = Date.now();
    if ((lastTyping.current[conversationId] ?? 0) + TYPING_EVERY_MS > now) return;
    lastTyping.current[conversationId] = now;
    connection.current?.send({ type: "typing", conversation_id: conversationId });
  }, []);

  const enableNotifications = useCallback(async () => {
    if (notificationState() === "unsupported") return "unsupported" as const;
    const answer = await Notification.requestPermission();
    setNotifications(answer);
    return answer;
  }, []);

  const subscribeEvents = useCallback(
    (listener: (event: StreamEvent) => void) => {
      eventListeners.add(listener);
      return () => void eventListeners.delete(listener);
    },
    [eventListeners],
  );

  const value = useMemo(
    () => ({
      store,
      preferences,
      policy,
      setPreferences,
      sendTyping,
      notifications,
      enableNotifications,
      subscribeEvents,
    }),
    [store, preferences, policy, sendTyping, notifications, enableNotifications, subscribeEvents],
  );
  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}

/** One chat state per organisation: switching organisations starts afresh. */
export function ChatProvider({ children }: { children: ReactNode }) {
  const me = useMe();
  return (
    <ChatRuntime key={`${me.account_id}:${me.current_org_id ?? ""}:${me.current_membership_id ?? ""}`}>{children}</ChatRuntime>
  );
}

export function useChat(): ChatContextValue {
  const value = useContext(ChatContext);
  if (!value) throw new Error("useChat outside ChatProvider");
  return value;
}

export function useChatState<T>(selector: (state: ChatState) => T): T {
  const { store } = useChat();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

export function totalUnread(state: ChatState): number {
  let total = 0;
  for (const conversation of Object.values(state.conversations)) {
    if (!conversation.do_not_disturb) total += conversation.unread;
  }
  return total;
}

/** The unread total for the navigation badge; 0 outside the provider (e.g. while it loads). */
export function useTotalUnread(): number {
  return useChatState(totalUnread);
}
