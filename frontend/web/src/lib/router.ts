import { useSyncExternalStore } from 'react';

/**
 * A tiny History API router: `/` (new chat), `/c/:conversationId`, `/account` (your password
 * and sessions) and `/admin` (users, settings and the audit log; admins only).
 */

const NAVIGATE_EVENT = 'app:navigate';

function subscribe(onChange: () => void): () => void {
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
  return useSyncExternalStore(subscribe, getPath, () => '/');
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

export const ACCOUNT_PATH = '/account';
export const ADMIN_PATH = '/admin';

/** Which page a path shows: a chat, the account page or the admin page. */
export function pageOf(path: string): 'chat' | 'account' | 'admin' {
  const bare = path.replace(/\/+$/, '');
  if (bare === ACCOUNT_PATH) return 'account';
  if (bare === ADMIN_PATH) return 'admin';
  return 'chat';
}
