// Notifications: what an action did, and how it ended (the ACTION changes on the live stream).

import { useEffect, useState } from "preact/hooks";
import { live } from "../live";

export interface Toast {
  id: number;
  kind: "info" | "ok" | "error";
  text: string;
}

let nextId = 1;
let toasts: Toast[] = [];
const listeners = new Set<() => void>();
const pending = new Map<string, string>(); // actionId -> what was asked

function publish(): void {
  listeners.forEach((l) => l());
}

export function notify(kind: Toast["kind"], text: string, ms = 6000): void {
  const toast = { id: nextId++, kind, text };
  toasts = [...toasts, toast].slice(-5);
  publish();
  window.setTimeout(() => {
    toasts = toasts.filter((t) => t.id !== toast.id);
    publish();
  }, ms);
}

export function expectOutcome(actionId: string, what: string): void {
  pending.set(actionId, what);
}

live.subscribe((changes) => {
  for (const c of changes) {
    if (c.type !== "ACTION") continue;
    const data = c.data as { actionId: string; result: string; message: string };
    if (!pending.has(data.actionId)) continue;
    const what = pending.get(data.actionId);
    pending.delete(data.actionId);
    notify(data.result === "succeeded" ? "ok" : "error", `${what}: ${data.result} — ${data.message}`, 9000);
  }
});

export function Toasts() {
  const [items, setItems] = useState(toasts);
  useEffect(() => {
    const update = () => setItems(toasts);
    listeners.add(update);
    update();
    return () => void listeners.delete(update);
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role="status">
          {t.text}
        </div>
      ))}
    </div>
  );
}
