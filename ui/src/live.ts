// Live updates: one EventSource for the whole app, resumed by event id, paused while the tab
// is hidden, replaced by polling when streaming does not work (or with ?live=poll).

import { apiUrl } from "./api";

export interface Change {
  id: number;
  type: "ADDED" | "MODIFIED" | "DELETED" | "ACTION";
  group: "flux" | "workload" | "event" | "action";
  key: string;
  data: Record<string, unknown>;
  time: number;
}

export type LiveState = "connecting" | "live" | "polling" | "paused" | "offline";
type Listener = (changes: Change[], reset: boolean) => void;

const HIDDEN_PAUSE_MS = Number(localStorage.getItem("weir.hiddenPauseMs") ?? 10_000);
const POLL_MS = 3_000;
const WATCHDOG_MS = 45_000;
const CONNECT_TIMEOUT_MS = 8_000;
const MAX_FAILURES_BEFORE_POLLING = 3;

class Live {
  state: LiveState = "connecting";
  private lastId: string | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: LiveState) => void>();
  private source: EventSource | null = null;
  private failures = 0;
  private opened = false;
  private pollTimer: number | undefined;
  private hideTimer: number | undefined;
  private watchdog: number | undefined;
  private mode: "stream" | "poll";
  /** Stopped because the tab is hidden (for HIDDEN_PAUSE_MS); the only state that ends polling. */
  private paused = false;

  constructor() {
    const forced = new URLSearchParams(location.search).get("live") ?? localStorage.getItem("weir.live");
    this.mode = forced === "poll" || typeof EventSource === "undefined" ? "poll" : "stream";
    document.addEventListener("visibilitychange", () => this.onVisibility());
  }

  private started = false;

  start(): void {
    if (this.started) return; // once: signing in again must not open a second stream
    this.started = true;
    this.resume();
  }

  private resume(): void {
    if (document.hidden) {
      this.pause();
      return;
    }
    this.paused = false;
    if (this.mode === "poll") this.poll();
    else this.open();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (s: LiveState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    document.documentElement.dataset.live = state;
    this.stateListeners.forEach((l) => l(state));
  }

  private emit(changes: Change[], reset: boolean): void {
    this.listeners.forEach((l) => l(changes, reset));
  }

  private open(): void {
    this.close();
    const url = apiUrl("stream", { lastEventId: this.lastId ?? undefined });
    const source = new EventSource(url);
    this.source = source;
    this.setState("connecting");
    const seen = (e: MessageEvent) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.failures = 0;
      this.opened = true;
      this.setState("live");
      this.arm();
    };
    source.addEventListener("hello", (e) => seen(e as MessageEvent));
    source.addEventListener("heartbeat", (e) => seen(e as MessageEvent));
    source.addEventListener("reset", (e) => {
      seen(e as MessageEvent);
      this.emit([], true);
    });
    source.addEventListener("changes", (e) => {
      const msg = e as MessageEvent;
      seen(msg);
      this.emit((JSON.parse(msg.data) as { changes: Change[] }).changes, false);
    });
    this.arm(CONNECT_TIMEOUT_MS); // a stream that never answers is reopened
    source.onerror = () => {
      this.failures += 1;
      this.setState("offline");
      if (!this.opened && this.failures >= MAX_FAILURES_BEFORE_POLLING) {
        this.mode = "poll"; // a proxy that buffers or blocks streams: fall back to polling
        this.close();
        this.poll();
      }
    };
  }

  private arm(ms = WATCHDOG_MS): void {
    window.clearTimeout(this.watchdog);
    this.watchdog = window.setTimeout(() => this.open(), ms); // a silently dead stream
  }

  private close(): void {
    window.clearTimeout(this.watchdog);
    window.clearTimeout(this.pollTimer);
    this.source?.close();
    this.source = null;
  }

  private async poll(): Promise<void> {
    this.close();
    try {
      const resp = await fetch(apiUrl("changes", { since: this.lastId ?? undefined }));
      if (!resp.ok) throw new Error(resp.statusText);
      const body = (await resp.json()) as { head: string; reset: boolean; changes: Change[] };
      const first = this.lastId === null;
      this.lastId = body.head;
      this.setState("polling");
      if (body.reset && !first) this.emit([], true);
      else if (body.changes.length) this.emit(body.changes, false);
    } catch {
      this.setState("offline");
    }
    // Polling goes on while the tab is hidden until the pause (HIDDEN_PAUSE_MS) stops it: a tab
    // hidden for a moment must not stop updates for good (issue 12.8).
    if (!this.paused) this.pollTimer = window.setTimeout(() => this.poll(), POLL_MS);
  }

  private pause(): void {
    this.paused = true;
    this.close();
    this.setState("paused");
  }

  private onVisibility(): void {
    window.clearTimeout(this.hideTimer);
    if (document.hidden) {
      this.hideTimer = window.setTimeout(() => this.pause(), HIDDEN_PAUSE_MS);
    } else if (this.paused) {
      this.resume(); // from the last id: the server replays what was missed
    }
  }
}

export const live = new Live();
