/**
 * An in-memory rate limiter: at most `limit` hits per key within any `windowMs` (a sliding
 * window log, exact). One backend process owns the database, so memory is the right place;
 * it is bounded: at most `maxKeys` keys are kept, the least recently hit evicted first, and
 * keys whose hits all left the window are dropped as they are met.
 *
 * Generic on purpose: sign-in failures per account and per address use it, and so can a
 * per-user limit on sending messages. `consume` counts a hit and answers; `check` only
 * answers (for "refuse while blocked, count failures only" as sign-in does).
 */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  /** Hits allowed within the window. */
  limit: number;
  windowMs: number;
  /** Keys kept at most; the least recently hit is forgotten past it (default 10,000). */
  maxKeys?: number;
  /** The clock, in ms (default Date.now); tests pass their own. */
  now?: () => number;
}

export interface RateLimiter {
  /** Whether a hit now would be allowed, without counting one. */
  check(key: string): RateDecision;
  /**
   * Counts `count` hits now (default 1) when all of them are allowed, and answers; refused,
   * none is counted. More hits than the limit are never allowed.
   */
  consume(key: string, count?: number): RateDecision;
  /** Forgets a key (e.g. after a successful sign-in). */
  reset(key: string): void;
  /** Keys currently held (for tests and metrics). */
  size(): number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { limit, windowMs } = options;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be >= 1');
  if (!(windowMs > 0)) throw new RangeError('windowMs must be > 0');
  // Hit times per key, oldest first. Maps iterate in insertion order: re-inserting a key on
  // each hit keeps the least recently hit key first, which is the one evicted.
  const hits = new Map<string, number[]>();
  let sweepAt = 0;

  function live(key: string, at: number): number[] {
    const times = hits.get(key);
    if (!times) return [];
    const from = at - windowMs;
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    if (times.length === 0) hits.delete(key);
    return times;
  }

  function decide(times: number[], at: number, count = 1): RateDecision {
    if (times.length + count <= limit) return { allowed: true };
    // More than the window ever holds: waiting a whole window is the honest answer.
    if (count > limit) return { allowed: false, retryAfterSeconds: Math.ceil(windowMs / 1000) };
    // Allowed again once enough of the oldest hits have left the window.
    const oldest = times[times.length + count - 1 - limit] as number;
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - at) / 1000)),
    };
  }

  /** Drops every expired key now and then, so idle keys do not wait for eviction. */
  function sweep(at: number): void {
    if (at < sweepAt) return;
    sweepAt = at + windowMs;
    for (const key of [...hits.keys()]) live(key, at);
  }

  return {
    check(key) {
      const at = now();
      return decide(live(key, at), at);
    },
    consume(key, count = 1) {
      const at = now();
      sweep(at);
      const times = live(key, at);
      const decision = decide(times, at, count);
      if (!decision.allowed) return decision;
      hits.delete(key);
      if (hits.size >= maxKeys) hits.delete(hits.keys().next().value as string);
      for (let i = 0; i < count; i++) times.push(at);
      hits.set(key, times);
      return decision;
    },
    reset(key) {
      hits.delete(key);
    },
    size() {
      return hits.size;
    },
  };
}
