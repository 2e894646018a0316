// What the browser remembers: favorites (pinned objects) and the theme, in localStorage.

import { useEffect, useState } from "preact/hooks";

const FAVORITES = "weir.favorites";
const THEME = "weir.theme";
export type Theme = "auto" | "light" | "dark";

function read<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : fallback;
  } catch {
    return fallback;
  }
}

const listeners = new Set<() => void>();
let favorites: string[] = read<string[]>(FAVORITES, []);

window.addEventListener("storage", (e) => {
  if (e.key === FAVORITES) {
    favorites = read<string[]>(FAVORITES, []);
    listeners.forEach((l) => l());
  }
});

export function isFavorite(key: string): boolean {
  return favorites.includes(key);
}

export function toggleFavorite(key: string): void {
  favorites = isFavorite(key) ? favorites.filter((k) => k !== key) : [...favorites, key];
  localStorage.setItem(FAVORITES, JSON.stringify(favorites));
  listeners.forEach((l) => l());
}

export function useFavorites(): string[] {
  const [value, setValue] = useState(favorites);
  useEffect(() => {
    const update = () => setValue(favorites);
    listeners.add(update);
    update();
    return () => void listeners.delete(update);
  }, []);
  return value;
}

export function getTheme(): Theme {
  return read<Theme>(THEME, "auto");
}

export function applyTheme(theme: Theme): void {
  localStorage.setItem(THEME, JSON.stringify(theme));
  const dark = theme === "dark" || (theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}
