/**
 * Light, dark, or the system's choice (prefers-color-scheme), stored in localStorage.
 *
 * The page's root element carries `data-theme="light|dark"`: styles.css defines its colours
 * from it. The entry module applies the stored choice before React's first render, and
 * index.html loads that module with `blocking="render"`, so the first paint already has the
 * right colours (the CSP allows no inline script to do it earlier). Without JavaScript, the
 * stylesheet follows prefers-color-scheme on its own.
 */
import { useCallback, useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

export const THEME_KEY = 'theme';
export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const DARK_QUERY = '(prefers-color-scheme: dark)';

export function readThemeChoice(
  storage: Pick<Storage, 'getItem'> | null = safeStorage(),
): ThemeChoice {
  try {
    const value = storage?.getItem(THEME_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

export function resolveTheme(choice: ThemeChoice, systemDark: boolean): Theme {
  if (choice === 'system') return systemDark ? 'dark' : 'light';
  return choice;
}

function systemPrefersDark(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia(DARK_QUERY).matches;
}

/** Sets the root element's theme from `choice` (and the system's preference). */
export function applyTheme(
  choice: ThemeChoice,
  root: HTMLElement = document.documentElement,
): Theme {
  const theme = resolveTheme(choice, systemPrefersDark());
  root.dataset['theme'] = theme;
  root.dataset['themeChoice'] = choice;
  return theme;
}

function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The next choice of the toggle: system → light → dark → system. */
export function nextThemeChoice(choice: ThemeChoice): ThemeChoice {
  const i = THEME_CHOICES.indexOf(choice);
  return THEME_CHOICES[(i + 1) % THEME_CHOICES.length] ?? 'system';
}

/** The stored choice, a setter that stores and applies it, and following the system's changes. */
export function useTheme(): [ThemeChoice, (choice: ThemeChoice) => void] {
  const [choice, setChoice] = useState<ThemeChoice>(() => readThemeChoice());

  useEffect(() => {
    applyTheme(choice);
    if (choice !== 'system' || typeof window.matchMedia !== 'function') return;
    const media = window.matchMedia(DARK_QUERY);
    const onChange = () => applyTheme('system');
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [choice]);

  const choose = useCallback((next: ThemeChoice) => {
    try {
      if (next === 'system') safeStorage()?.removeItem(THEME_KEY);
      else safeStorage()?.setItem(THEME_KEY, next);
    } catch {
      // Storage unavailable (private mode): the choice lasts for this page only.
    }
    setChoice(next);
  }, []);

  return [choice, choose];
}
