import type { Database, QueueState } from '../db/connection.js';
import { pendingMigrations } from '../db/migrate.js';
import { judgeQueue } from './queue.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * Ready means: not shutting down, the database open and making progress, and every
 * migration file recorded as applied (a process started on an older schema must not take
 * traffic). Like liveness, the answer never waits in the connection's queue.
 *
 * Migrations: this process applies them before it serves (main.ts), and only this process
 * opens the file, so once every one is seen recorded it stays so: that positive result is
 * kept and later probes never query. Until then the check runs through the queue (one at
 * a time): awaited when the queue is idle (it runs at once); when the queue is busy, the
 * probe answers `checking migrations` at once and a later probe gets the outcome.
 */
export function createReadinessCheck(deps: {
  db: Pick<Database, 'transaction'>;
  queueState: () => QueueState;
  stuckAfterMs: number;
  isShuttingDown: () => boolean;
  migrationsDir?: string;
}): () => Promise<Readiness> {
  let migrated = false;
  let checking: Promise<Readiness> | undefined;
  const checkMigrations = async (): Promise<Readiness> => {
    let pending: string[];
    try {
      // One transaction: one job in the queue, however many queries the check makes.
      pending = await deps.db.transaction((tx) => pendingMigrations(tx, deps.migrationsDir));
    } catch {
      return { ready: false, reason: 'database unavailable' };
    }
    if (pending.length > 0)
      return { ready: false, reason: `migrations not applied: ${pending.join(', ')}` };
    migrated = true;
    return { ready: true };
  };

  return async () => {
    if (deps.isShuttingDown()) return { ready: false, reason: 'shutting down' };
    const queue = judgeQueue(deps.queueState(), deps.stuckAfterMs);
    if (queue === 'closed') return { ready: false, reason: 'database unavailable' };
    if (queue === 'stuck') return { ready: false, reason: 'database not responding' };
    if (migrated) return { ready: true };
    const check = (checking ??= checkMigrations().finally(() => {
      checking = undefined;
    }));
    if (queue === 'idle') return check;
    return { ready: false, reason: 'checking migrations' };
  };
}
