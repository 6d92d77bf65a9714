import type { QueueState } from '../db/connection.js';

/**
 * What the connection's queue says about the database, read without entering it:
 * - `idle`: nothing runs or waits; a query would run at once.
 * - `busy`: a call runs (for less than `stuckAfterMs`) or calls wait: it makes progress.
 * - `stuck`: one call has held the connection for longer than `stuckAfterMs`.
 * - `closed`: the database was closed; every call fails.
 */
export type QueueVerdict = 'idle' | 'busy' | 'stuck' | 'closed';

export function judgeQueue(state: QueueState, stuckAfterMs: number): QueueVerdict {
  if (state.closed) return 'closed';
  if (state.runningForMs !== null && state.runningForMs > stuckAfterMs) return 'stuck';
  if (state.runningForMs !== null || state.waiting > 0) return 'busy';
  return 'idle';
}
