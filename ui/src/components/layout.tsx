// The frame around every view: navigation, live-connection state, theme switch, shortcuts.

import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { signOut, useWhoAmI } from "../auth";
import { useKeys, useLiveState } from "../hooks";
import { navigate } from "../router";
import { applyTheme, getTheme, type Theme } from "../store";
import { Link } from "./common";
import { QuickSearch } from "./search";
import { Toasts } from "./toasts";

const NAV: [string, string, string][] = [
  ["", "Dashboard", "d"],
  ["resources", "Resources", "r"],
  ["graph", "Graph", "g"],
  ["workloads", "Workloads", "w"],
  ["events", "Events", "e"],
  ["favorites", "Favorites", "f"],
];

const LIVE_TEXT: Record<string, string> = {
  connecting: "connecting…",
  live: "live",
  polling: "polling",
  paused: "paused (tab hidden)",
  offline: "offline — retrying",
};

const THEMES: Theme[] = ["auto", "light", "dark"];

export function Layout(props: { section: string; children: ComponentChildren }) {
  const state = useLiveState();
  const [theme, setTheme] = useState<Theme>(getTheme());
  const [help, setHelp] = useState(false);
  const [menu, setMenu] = useState(false);
  const [searching, setSearching] = useState(false);
  const pendingG = useRef(0); // when "g" was pressed (a ref: the next key may come before a render)

  const cycleTheme = () => {
    const next = THEMES[(THEMES.indexOf(getTheme()) + 1) % THEMES.length];
    applyTheme(next);
    setTheme(next);
  };

  useKeys(
    (e) => {
      if (Date.now() - pendingG.current < 1500) {
        pendingG.current = 0;
        const target = NAV.find(([, , key]) => key === e.key);
        if (target) {
          navigate(target[0]);
          return true;
        }
      }
      if (e.key === "g") {
        pendingG.current = Date.now();
        return true;
      }
      if (e.key === "?") {
        setHelp((h) => !h);
        return true;
      }
      if (e.key === "t") {
        cycleTheme();
        return true;
      }
      if (e.key === "Escape" && help) {
        setHelp(false);
        return true;
      }
      if (e.key === "/") {
        setSearching(true);
        return true;
      }
      return false;
    },
  );

  return (
    <div class="shell">
      <header class="topbar">
        <Link href="" class="brand" aria-label="weir dashboard">
          <span class="logo" aria-hidden="true">≋</span> weir
        </Link>
        <button class="menu-toggle" aria-expanded={menu} aria-label="Menu" onClick={() => setMenu(!menu)}>
          ☰
        </button>
        <nav class={`mainnav ${menu ? "open" : ""}`} onClick={() => setMenu(false)}>
          {NAV.map(([href, label]) => (
            <Link href={href} class={props.section === (href || "dashboard") ? "active" : ""} data-nav={href || "dashboard"}>
              {label}
            </Link>
          ))}
        </nav>
        <div class="topbar-right">
          <Account />
          <span class={`live live-${state}`} title="Live updates" data-live-state={state}>
            <span class="dot" aria-hidden="true" /> {LIVE_TEXT[state]}
          </span>
          <button class="icon-button" onClick={cycleTheme} title={`Theme: ${theme} (t)`} aria-label={`Theme: ${theme}`}>
            {theme === "dark" ? "☾" : theme === "light" ? "☀" : "◐"}
          </button>
          <button class="icon-button" onClick={() => setSearching(true)} title="Search (/)" aria-label="Search" data-action="search">
            ⌕
          </button>
          <button class="icon-button" onClick={() => setHelp(!help)} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts">
            ?
          </button>
        </div>
      </header>
      <main class="content">{props.children}</main>
      {help && <Help onClose={() => setHelp(false)} />}
      {searching && <QuickSearch onClose={() => setSearching(false)} />}
      <Toasts />
    </div>
  );
}

function Account() {
  const who = useWhoAmI();
  if (!who || who.mode === "none" || !who.user) return null;
  const title = [`user: ${who.user}`, who.groups.length ? `groups: ${who.groups.join(", ")}` : ""].filter(Boolean).join("\n");
  return (
    <span class="account" data-testid="account" data-user={who.user} title={title}>
      {who.name || who.user}
      {(who.mode === "token" || who.mode === "oidc") && (
        <button class="link-button" onClick={() => void signOut()} data-action="signout">
          Sign out
        </button>
      )}
    </span>
  );
}

function Help(props: { onClose: () => void }) {
  const keys: [string, string][] = [
    ["g d / g r / g g / g w / g e / g f", "dashboard / resources / graph / workloads / events / favorites"],
    ["/", "quick search (ns: and kind: narrow it)"],
    ["j k or ↓ ↑", "move in a list"],
    ["Enter", "open the selected row"],
    ["f", "pin or unpin the selected row / this object"],
    ["[ ]", "previous / next tab"],
    ["r", "reconcile this object"],
    ["l", "logs of this workload"],
    ["t", "switch theme (auto, light, dark)"],
    ["?", "this help"],
  ];
  return (
    <div class="overlay" role="dialog" aria-label="Keyboard shortcuts" onClick={props.onClose}>
      <div class="dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table class="plain">
          {keys.map(([k, v]) => (
            <tr>
              <td>
                <kbd>{k}</kbd>
              </td>
              <td>{v}</td>
            </tr>
          ))}
        </table>
        <button onClick={props.onClose}>Close</button>
      </div>
    </div>
  );
}
