import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import { isAppError } from '../errors.js';
import type { OpenRouterClient } from '../openrouter/types.js';
import { createUsageRepo, type UsageRepo } from './repo.js';

/** A saved generation whose figures are estimates (usage_source 'estimate'). */
export interface FillJob {
  generationId: string;
  /** OpenRouter's id of the call (`gen-…`); other servers' ids are not asked about. */
  upstreamId: string | null;
  /** The client (and so the key) that made the call: OpenRouter answers its own key only. */
  openrouter: OpenRouterClient;
  /** Adds a cost to the user's spend this month (the difference from what was counted). */
  recordCost: (costUsd: number | null) => void;
}

export interface UsageFillerDeps {
  db: Database;
  log: FastifyBaseLogger;
  /**
   * Waits before each GET /generation: OpenRouter records a generation a moment after its
   * stream ends (404 until then). Default 0.5, 1, 2, 4, 8 and 16 s: ~30 s in all.
   */
  delaysMs?: number[];
  /** Lookups running at once; default 4. */
  concurrency?: number;
  /** Jobs waiting at most; past it, a job's cost is estimated at once. Default 10,000. */
  maxQueued?: number;
}

/** One lookup's time limit. */
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * Completes generations whose stream lacked figures (a stopped, failed or cut answer; a usage
 * chunk without cost): in the background, it asks OpenRouter's GET /generation for the
 * tokens and cost it recorded, retrying while it answers 404, and writes them (usage_source
 * 'openrouter'). When OpenRouter never knows the call (another OpenAI-compatible server, a
 * lookup that keeps failing) the row keeps its estimated tokens and gets the cost at the
 * catalog's price of its day (usage_source 'estimate'). Either way the user's spend this month
 * gets the difference. At shutdown the lookups stop and the waiting rows are estimated; a row
 * left without a cost by a crash is estimated at the next start (`recover`).
 */
export function createUsageFiller(deps: UsageFillerDeps) {
  // Each write in its own transaction: it may mark its row's day dirty in the usage rollup
  // (repo.ts), and the mark must commit with the change.
  const inTransaction = <T>(work: (repo: UsageRepo) => Promise<T>) =>
    deps.db.transaction((tx) => work(createUsageRepo(tx)));
  const estimate = (generationId: string) =>
    inTransaction((repo) => repo.applyEstimate(generationId));
  const delaysMs = deps.delaysMs ?? [500, 1000, 2000, 4000, 8000, 16_000];
  const concurrency = deps.concurrency ?? 4;
  const maxQueued = deps.maxQueued ?? 10_000;
  const queue: FillJob[] = [];
  const closing = new AbortController();
  const tasks = new Set<Promise<void>>();
  let running = 0;

  async function stats(job: FillJob) {
    if (job.upstreamId === null || !job.upstreamId.startsWith('gen-')) return null;
    for (const delay of delaysMs) {
      await sleep(delay, undefined, { signal: closing.signal }).catch(() => undefined);
      if (closing.signal.aborted) return null;
      try {
        const found = await job.openrouter.generationStats(job.upstreamId, {
          signal: AbortSignal.any([closing.signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]),
        });
        if (found !== null) return found;
      } catch (error) {
        if (closing.signal.aborted) return null;
        // The key was refused, or no key: asking again will not help.
        if (isAppError(error) && ['upstream.unauthorized', 'upstream.no_key'].includes(error.code))
          return null;
        deps.log.debug({ err: error, generationId: job.generationId }, 'usage lookup failed');
      }
    }
    return null;
  }

  async function fill(job: FillJob): Promise<void> {
    const found = await stats(job);
    if (found !== null && found.totalCost !== null) {
      const costs = await inTransaction((repo) => repo.applyStats(job.generationId, found));
      if (costs !== null) job.recordCost((costs.after ?? 0) - (costs.before ?? 0));
      return;
    }
    job.recordCost(await estimate(job.generationId));
  }

  function pump(): void {
    while (running < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      running++;
      const task = fill(job)
        .catch((error: unknown) => {
          deps.log.warn({ err: error, generationId: job.generationId }, 'usage fill failed');
        })
        .finally(() => {
          running--;
          tasks.delete(task);
          if (!closing.signal.aborted) pump();
        });
      tasks.add(task);
    }
  }

  return {
    /** Starts completing a saved generation's figures; returns at once. */
    schedule(job: FillJob): void {
      if (closing.signal.aborted) return;
      if (queue.length >= maxQueued) {
        // Too many waiting: this one is priced from the catalog now.
        const task = estimate(job.generationId)
          .then(job.recordCost, (error: unknown) => {
            deps.log.warn({ err: error, generationId: job.generationId }, 'usage fill failed');
          })
          .finally(() => tasks.delete(task));
        tasks.add(task);
        return;
      }
      queue.push(job);
      pump();
    },

    /** Resolves once nothing is waiting or running (tests). */
    async idle(): Promise<void> {
      while (tasks.size > 0 || queue.length > 0) await Promise.allSettled([...tasks]);
    },

    /** At start-up: estimated rows a crash left without a cost are priced from the catalog. */
    recover(): Promise<number> {
      return inTransaction((repo) => repo.estimateMissingCosts());
    },

    /** At shutdown, before the database closes: lookups stop, waiting rows are estimated. */
    async close(): Promise<void> {
      closing.abort();
      await Promise.allSettled([...tasks]);
      for (const job of queue.splice(0)) {
        await estimate(job.generationId).then(job.recordCost, (error: unknown) => {
          deps.log.warn({ err: error, generationId: job.generationId }, 'usage fill failed');
        });
      }
    },
  };
}

export type UsageFiller = ReturnType<typeof createUsageFiller>;
