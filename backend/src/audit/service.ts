import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { createAuditRepo, type AuditRow } from './repo.js';
import type { AuditEntry, AuditPage } from './schemas.js';

/**
 * One event of the audit log. `action` is a dotted name (`auth.sign_in`, `user.deleted`,
 * `settings.allowed_models`, …); `detail` says what changed, as plain JSON. Never put a
 * password, token or key in it: fields named like one are dropped anyway.
 */
export interface AuditEvent {
  /** Who did it; null when nobody is signed in (a failed sign-in of an unknown user). */
  actorId: string | null;
  action: string;
  targetUserId?: string | null;
  detail?: Record<string, unknown> | null;
  /** The client address, request.ip (X-Forwarded-For only from trusted proxies). */
  ip?: string | null;
}

export interface AuditLog {
  /** Appends one event. A failed write is logged, never thrown: the audited action stands. */
  record(event: AuditEvent): Promise<void>;
  /** Newest first, `limit` per page. */
  list(limit: number, cursor: string | undefined): Promise<AuditPage>;
  /** Deletes the entries past the retention (none when it is 0); returns how many. */
  prune(): Promise<number>;
}

const SECRET_FIELD = /pass(word)?|token|secret|api_?key|^key$|cookie|hash/i;

export function createAuditLog(deps: {
  db: Database;
  log: FastifyBaseLogger;
  now?: () => Date;
  /** Days an entry is kept (AUDIT_RETENTION_DAYS); 0: forever. */
  retentionDays?: number;
}): AuditLog {
  const repo = createAuditRepo(deps.db);
  const now = deps.now ?? (() => new Date());
  // Each entry is at least 1 ms after the previous one, so "newest first" is this process's
  // order of events even within one millisecond.
  let lastMs = 0;

  return {
    async record(event) {
      try {
        await repo.insert({
          id: newId(),
          at: new Date((lastMs = Math.max(now().getTime(), lastMs + 1))).toISOString(),
          actorId: event.actorId,
          action: event.action,
          targetUserId: event.targetUserId ?? null,
          detail: event.detail ? JSON.stringify(withoutSecrets(event.detail)) : null,
          ip: event.ip ?? null,
        });
      } catch (error) {
        deps.log.error({ err: error, action: event.action }, 'audit log write failed');
      }
    },

    async prune() {
      const days = deps.retentionDays ?? 0;
      if (days === 0) return 0;
      const before = new Date(now().getTime() - days * 86_400_000).toISOString();
      return deps.db.transaction((tx) => createAuditRepo(tx).deleteOlderThan(before));
    },

    async list(limit, cursor) {
      const before = cursor === undefined ? null : decodeCursor(cursor);
      // One row more than asked tells whether another page exists.
      const rows = await repo.list(limit + 1, before);
      const entries = rows.slice(0, limit).map(toEntry);
      const last = entries.at(-1);
      return {
        entries,
        nextCursor:
          rows.length > limit && last
            ? Buffer.from(JSON.stringify([last.at, last.id])).toString('base64url')
            : null,
      };
    },
  };
}

function withoutSecrets(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(detail).filter(([key]) => !SECRET_FIELD.test(key)));
}

function toEntry(row: AuditRow): AuditEntry {
  let detail: Record<string, unknown> | null = null;
  if (row.detail !== null) {
    try {
      const parsed: unknown = JSON.parse(row.detail);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        detail = parsed as Record<string, unknown>;
      }
    } catch {
      detail = null; // written by this module as JSON; anything else reads as no detail
    }
  }
  return {
    id: row.id,
    at: row.created_at,
    action: row.action,
    actorId: row.actor_id,
    actorUsername: row.actor_username,
    targetUserId: row.target_user_id,
    targetUsername: row.target_username,
    detail,
    ip: row.ip,
  };
}

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string' && !Number.isNaN(Date.parse(at))) {
      return { at, id };
    }
  } catch {
    // Falls through to the typed error below.
  }
  throw new AppError(
    'request.invalid',
    'The cursor is not valid: use nextCursor from the previous page.',
  );
}
