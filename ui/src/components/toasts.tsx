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

interface Outcome {
  actionId: string;
  result: string;
  message: string;
}

// Outcomes that arrived before the action's own answer: a quick reconcile can end, and its
// ACTION change reach the stream, before the POST's response names its actionId.
const early = new Map<string, Outcome>();
const EARLY_KEPT = 50;

function show(what: string, o: Outcome): void {
  notify(o.result === "succeeded" ? "ok" : "error", `${what}: ${o.result} — ${o.message}`, 9000);
}

export function expectOutcome(actionId: string, what: string): void {
  const arrived = early.get(actionId);
  if (arrived) {
    early.delete(actionId);
    show(what, arrived);
    return;
  }
  pending.set(actionId, what);
}

live.subscribe((changes) => {
  for (const c of changes) {
    if (c.type !== "ACTION") continue;
    const data = c.data as unknown as Outcome;
    const what = pending.get(data.actionId);
    if (what === undefined) {
      early.set(data.actionId, data);
      if (early.size > EARLY_KEPT) early.delete(early.keys().next().value as string);
      continue;
    }
    pending.delete(data.actionId);
    show(what, data);
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
