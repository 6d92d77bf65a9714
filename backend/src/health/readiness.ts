import type { Queryable } from '../db/connection.js';
import { pendingMigrations } from '../db/migrate.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * Ready means: not shutting down, the database answers, and every migration file is
 * recorded as applied (a process started on an older schema must not take traffic).
 */
export function createReadinessCheck(deps: {
  db: Queryable;
  isShuttingDown: () => boolean;
  migrationsDir?: string;
}): () => Promise<Readiness> {
  return async () => {
    if (deps.isShuttingDown()) return { ready: false, reason: 'shutting down' };
    let pending: string[];
    try {
      pending = await pendingMigrations(deps.db, deps.migrationsDir);
    } catch {
      return { ready: false, reason: 'database unavailable' };
    }
    if (pending.length > 0)
      return { ready: false, reason: `migrations not applied: ${pending.join(', ')}` };
    return { ready: true };
  };
}
