import type { Queryable, QueueState } from '../db/connection.js';
import { judgeQueue } from './queue.js';
import { createHealthRepo } from './repo.js';

export type Liveness =
  { ok: true } | { ok: false; reason: string; queue: QueueState; error?: unknown };

/**
 * Alive means the database is open and its one connection makes progress. The answer
 * never waits behind other callers in the connection's queue, since a busy backend is a
 * healthy one:
 * - closed, or one call running for longer than `stuckAfterMs`: not alive;
 * - idle: a trivial query, which runs at once, must succeed;
 * - busy: a trivial query is queued but not awaited (one at a time), and the probe answers
 *   from the last one that finished, so a database failing every call is still reported.
 */
export function createLivenessCheck(deps: {
  db: Queryable;
  queueState: () => QueueState;
  stuckAfterMs: number;
}): () => Promise<Liveness> {
  const repo = createHealthRepo(deps.db);
  let lastPing: { ok: true } | { ok: false; error: unknown } = { ok: true };
  let pinging: Promise<void> | undefined;
  const ping = (): Promise<void> =>
    (pinging ??= repo
      .ping()
      .then(
        () => {
          lastPing = { ok: true };
        },
        (error: unknown) => {
          lastPing = { ok: false, error };
        },
      )
      .finally(() => {
        pinging = undefined;
      }));

  return async () => {
    const queue = deps.queueState();
    switch (judgeQueue(queue, deps.stuckAfterMs)) {
      case 'closed':
        return { ok: false, reason: 'database closed', queue };
      case 'stuck':
        return { ok: false, reason: 'a database call is stuck', queue };
      case 'idle':
        await ping();
        break;
      case 'busy':
        void ping();
        break;
    }
    if (!lastPing.ok)
      return { ok: false, reason: 'database query failed', queue, error: lastPing.error };
    return { ok: true };
  };
}
