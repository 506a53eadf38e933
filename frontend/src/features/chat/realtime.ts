// The event stream over /api/v1/ws (protocol: src/zhengtong/realtime.py). Keeps the stream's epoch
// and the highest sequence number seen, and resumes from them after any disconnect, so that nothing
// is missed; when the server answers "resync" the owner refetches its state over the REST API.

import { recheckPolicyGate } from "../privacy/consent/PolicyGate";

export type ConnectionStatus = "connecting" | "open" | "closed";

export interface StreamEvent {
  type: string;
  [key: string]: unknown;
}

export interface RealtimeHandlers {
  /** The client must (re)load its state: first connection, or the events since last time are gone. */
  onResync: () => void;
  /** Reconnected and resumed: the replay covers the stream, but an event that died with a server
   * process before it entered the stream would not be in it — the list's last seqs tell. */
  onResumed: () => void;
  onEvent: (event: StreamEvent) => void;
  onStatus: (status: ConnectionStatus) => void;
}

const PING_MS = 25_000;
const POLICY_VIOLATION = 1008; // the server refused the socket (not logged in, or the policy gate)
const MAX_BACKOFF_MS = 30_000;

/** One frame of the socket's protocol (src/zhengtong/realtime.py). */
type Frame = { type?: string; [key: string]: unknown };

export class RealtimeConnection {
  private socket: WebSocket | null = null;
  private epoch: string | null = null;
  private seq = 0;
  private attempts = 0;
  private stopped = true;
  private pingTimer: number | undefined;
  private retryTimer: number | undefined;

  constructor(private readonly handlers: RealtimeHandlers) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.reconnectNow);
    document.addEventListener("visibilitychange", this.reconnectIfVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.reconnectNow);
    document.removeEventListener("visibilitychange", this.reconnectIfVisible);
    window.clearTimeout(this.retryTimer);
    window.clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      socket.close();
    }
  }

  /** Sends a frame when connected; frames are courtesies (typing), never queued. */
  send(frame: Record<string, unknown>): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  private url(): string {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ batch: "1" }); // frames waiting together arrive as one
    if (this.epoch !== null) {
      params.set("epoch", this.epoch);
      params.set("since", String(this.seq));
    }
    const query = params.toString();
    return `${scheme}://${window.location.host}/api/v1/ws${query ? `?${query}` : ""}`;
  }

  private connect(): void {
    if (this.stopped) return;
    window.clearTimeout(this.retryTimer);
    this.handlers.onStatus("connecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === POLICY_VIOLATION) recheckPolicyGate(); // refused: perhaps a new policy to accept
      window.clearInterval(this.pingTimer);
      this.handlers.onStatus("closed");
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and schedules the reconnect
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let frame: Frame;
    try {
      frame = JSON.parse(data) as Frame;
    } catch {
      return;
    }
    this.apply(frame);
  }

  private apply(frame: Frame): void {
    switch (frame.type) {
      case "batch":
        if (Array.isArray(frame.frames)) for (const inner of frame.frames as Frame[]) this.apply(inner);
        break;
      case "hello": {
        this.attempts = 0;
        this.handlers.onStatus("open");
        window.clearInterval(this.pingTimer);
        this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), PING_MS);
        const resuming = this.epoch !== null;
        const resync = Boolean(frame.resync);
        this.epoch = String(frame.epoch ?? "");
        // When resuming, the missed events follow this frame and move `seq` themselves.
        if (!resuming || resync) this.seq = Number(frame.seq ?? 0);
        if (!resuming || resync) this.handlers.onResync();
        else this.handlers.onResumed();
        break;
      }
      case "resync":
        this.epoch = String(frame.epoch ?? "");
        this.seq = Number(frame.seq ?? 0);
        this.handlers.onResync();
        break;
      case "event": {
        const seq = Number(frame.seq ?? 0);
        if (seq > 0) {
          if (seq <= this.seq) return; // already applied
          this.seq = seq;
        }
        const event = frame.event as StreamEvent | undefined;
        if (event && typeof event.type === "string") this.handlers.onEvent(event);
        break;
      }
      default:
        break; // pong and anything newer
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.attempts);
    this.attempts += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private reconnectNow = (): void => {
    if (this.stopped || this.socket) return;
    this.attempts = 0;
    this.connect();
  };

  private reconnectIfVisible = (): void => {
    if (document.visibilityState === "visible") this.reconnectNow();
  };
}
