import type { AuthUser } from './service.js';

/** What a verified session token stands for: its user and the session's public id. */
export interface CachedSession {
  user: AuthUser;
  sessionId: string;
}

/**
 * Recently verified sessions, by token hash. Every /api request is authenticated, and a
 * lookup in DuckDB waits in the one connection's queue behind commits (a stop request
 * then waited seconds under load): a hit answers from memory. Entries live `ttlMs` at
 * most, and every revocation path of the service removes them at once.
 */
export function createSessionCache(ttlMs = 30_000, maxEntries = 10_000) {
  const entries = new Map<string, { session: CachedSession; until: number }>();
  return {
    get(tokenHash: string, nowMs: number): CachedSession | undefined {
      const entry = entries.get(tokenHash);
      if (!entry) return undefined;
      if (entry.until <= nowMs) {
        entries.delete(tokenHash);
        return undefined;
      }
      return entry.session;
    },
    set(tokenHash: string, session: CachedSession, nowMs: number, sessionExpiresMs: number): void {
      // Maps iterate in insertion order: the first key is the oldest entry.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(tokenHash, { session, until: Math.min(nowMs + ttlMs, sessionExpiresMs) });
    },
    delete(tokenHash: string): void {
      entries.delete(tokenHash);
    },
    deleteUser(userId: string): void {
      for (const [key, entry] of entries) {
        if (entry.session.user.id === userId) entries.delete(key);
      }
    },
  };
}
