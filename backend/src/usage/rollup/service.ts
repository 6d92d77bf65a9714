import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../../db/connection.js';
import { GRACE_MS, dayNumber } from './days.js';
import { createRollupRepo } from './repo.js';

/** Days summed per transaction: the writer's queue waits for one, not for a year of them. */
const CHUNK_DAYS = 31;
/** The periodic refresh. */
const EVERY_MS = 10 * 60_000;
/** A report's request starts a refresh when the last one began longer ago than this. */
const STALE_MS = 60_000;

/**
 * Keeps the usage rollup (repo.ts) up to date: at start (before the server listens), every
 * ten minutes, and on demand when a report is asked for and the last refresh is more than a
 * minute old. Reports never wait for it: the days it has not summed are read raw, so a stale
 * rollup is slower, never wrong. The clock is the wall clock the writers stamp rows with
 * (not the app's injectable `now`).
 */
export function createUsageRollup(deps: {
  db: Database;
  log?: FastifyBaseLogger;
  clock?: () => number;
}) {
  const repo = createRollupRepo(deps.db);
  const clock = deps.clock ?? Date.now;
  let running: Promise<void> | null = null;
  let startedAt = -Infinity;
  let timer: NodeJS.Timeout | null = null;

  async function refreshOnce(): Promise<void> {
    const target = dayNumber(clock() - GRACE_MS);
    const { closedBefore, dirty } = await repo.state();
    if (target <= closedBefore) {
      if (dirty > 0)
        await deps.db.transaction((tx) => createRollupRepo(tx).sum(closedBefore, closedBefore));
      return;
    }
    // The first chunk also sums the dirty days; empty days before the first row are skipped.
    const first = (await repo.firstDay(closedBefore, target)) ?? target;
    let from = closedBefore;
    let to = Math.min(target, Math.max(first, from) + CHUNK_DAYS);
    for (;;) {
      const [a, b] = [from, to];
      await deps.db.transaction((tx) => createRollupRepo(tx).sum(a, b));
      if (to >= target) break;
      from = to;
      to = Math.min(target, to + CHUNK_DAYS);
    }
  }

  function refresh(): Promise<void> {
    if (running !== null) return running;
    startedAt = clock();
    running = refreshOnce().finally(() => {
      running = null;
    });
    return running;
  }

  function background(): void {
    refresh().catch((error: unknown) => {
      deps.log?.warn({ err: error }, 'the usage rollup refresh failed');
    });
  }

  return {
    /** Sums what is new or changed; resolves when done (one run at a time). */
    refresh,

    /** A report was asked for: refreshes in the background when the last run is old. */
    nudge(): void {
      if (running === null && clock() - startedAt > STALE_MS) background();
    },

    /** Refreshes every ten minutes until close(). */
    start(): void {
      if (timer !== null) return;
      timer = setInterval(background, EVERY_MS);
      timer.unref();
    },

    /** Stops the timer and waits for a running refresh. */
    async close(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}

export type UsageRollup = ReturnType<typeof createUsageRollup>;
