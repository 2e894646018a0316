// Small shared components: links, status badges, relative times, favorite stars, tabs, YAML.

import type { ComponentChildren, JSX } from "preact";
import type { Status } from "../api";
import { navigate } from "../router";
import { isFavorite, toggleFavorite, useFavorites } from "../store";
import { useNow } from "../hooks";

export function Link(props: { href: string; class?: string; title?: string; children: ComponentChildren; [k: string]: unknown }) {
  const { href, children, ...rest } = props;
  const onClick = (e: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} {...rest}>
      {children}
    </a>
  );
}

/** Where a page sits: links to the lists it came from, then the page itself (no trailing "›"). */
export function Crumbs(props: { links: [string, string][]; current: string }) {
  return (
    <nav class="crumbs" aria-label="Breadcrumb" data-testid="crumbs">
      {props.links.map(([href, label]) => (
        <>
          <Link href={href}>{label}</Link>
          <span class="sep" aria-hidden="true"> › </span>
        </>
      ))}
      <span aria-current="page">{props.current}</span>
    </nav>
  );
}

const LABELS: Record<string, string> = {
  ready: "Ready",
  failed: "Failed",
  progressing: "Progressing",
  suspended: "Suspended",
  unknown: "Unknown",
  missing: "Not found",
};

export function StatusBadge({ status, label }: { status: Status | "missing" | null | undefined; label?: string }) {
  const s = status ?? "unknown";
  return (
    <span class={`badge st-${s}`} data-status={s}>
      <span class="dot" aria-hidden="true" />
      {label ?? LABELS[s] ?? s}
    </span>
  );
}

export function ago(time: string | number | null | undefined, now: number): string {
  if (time === null || time === undefined || time === "") return "—";
  const t = typeof time === "number" ? time * 1000 : Date.parse(time);
  if (Number.isNaN(t)) return String(time);
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function Ago({ time }: { time: string | number | null | undefined }) {
  const now = useNow();
  const title = typeof time === "number" ? new Date(time * 1000).toISOString() : time ?? "";
  return <time title={title ?? ""}>{ago(time, now)}</time>;
}

export function Star({ objKey }: { objKey: string }) {
  useFavorites();
  const on = isFavorite(objKey);
  return (
    <button
      class={`star ${on ? "on" : ""}`}
      aria-pressed={on}
      title={on ? "Unpin (f)" : "Pin to favorites (f)"}
      aria-label={on ? `Unpin ${objKey}` : `Pin ${objKey}`}
      onClick={(e) => {
        e.stopPropagation();
        toggleFavorite(objKey);
      }}
    >
      {on ? "★" : "☆"}
    </button>
  );
}

export function Tabs(props: { tabs: [string, string][]; active: string; onSelect: (id: string) => void }) {
  return (
    <nav class="tabs" role="tablist">
      {props.tabs.map(([id, label]) => (
        <button
          role="tab"
          aria-selected={props.active === id}
          class={props.active === id ? "active" : ""}
          data-tab={id}
          onClick={() => props.onSelect(id)}
        >
          {label}
        </button>
      ))}
    </nav>
  );
}

export function Code({ text, empty = "(empty)" }: { text: string | null | undefined; empty?: string }) {
  return <pre class="code">{text && text.trim() ? text : empty}</pre>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function ErrorBox({ error }: { error: string | null }) {
  return error ? <p class="error-box" role="alert">{error}</p> : null;
}

export function Section(props: { title: string; children: ComponentChildren; extra?: ComponentChildren; id?: string }) {
  return (
    <section class="card" id={props.id}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.extra}
      </header>
      {props.children}
    </section>
  );
}

export function KeyValue({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="kv">
      {items.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v ?? "—"}</dd>
        </>
      ))}
    </dl>
  );
}
