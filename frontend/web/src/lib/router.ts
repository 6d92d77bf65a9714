import { useSyncExternalStore } from 'react';

/**
 * A tiny History API router: `/` (new chat), `/c/:conversationId`, `/temporary` (a temporary
 * chat, kept in this tab's memory only), `/account` (your password and sessions), `/usage`
 * (spend, tokens, latency and errors) and `/admin` (users, settings and the audit log; admins
 * only).
 */

const NAVIGATE_EVENT = 'app:navigate';

/** Calls `onChange` after every change of the path (a link followed, back or forward). */
export function subscribePath(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(NAVIGATE_EVENT, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(NAVIGATE_EVENT, onChange);
  };
}

function getPath(): string {
  return window.location.pathname;
}

export function usePath(): string {
  return useSyncExternalStore(subscribePath, getPath, () => '/');
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

export function conversationPath(id: string): string {
  return `/c/${encodeURIComponent(id)}`;
}

/** The conversation id in the path, or null for the new-chat screen. */
export function conversationIdFrom(path: string): string | null {
  const match = /^\/c\/([^/]+)\/?$/.exec(path);
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

export const TEMPORARY_PATH = '/temporary';

/** The temporary chat's screen: a chat page with no conversation (nothing of it is stored). */
export function isTemporaryPath(path: string): boolean {
  return path.replace(/\/+$/, '') === TEMPORARY_PATH;
}

export const ACCOUNT_PATH = '/account';
export const ADMIN_PATH = '/admin';
export const USAGE_PATH = '/usage';

export type Page = 'chat' | 'account' | 'admin' | 'usage';

/** Which page a path shows: a chat, the account page, the usage page or the admin page. */
export function pageOf(path: string): Page {
  const bare = path.replace(/\/+$/, '');
  if (bare === ACCOUNT_PATH) return 'account';
  if (bare === ADMIN_PATH) return 'admin';
  if (bare === USAGE_PATH) return 'usage';
  return 'chat';
}
