/**
 * When and how long to wait before retrying a chat request that failed before its first byte.
 * Only transient failures are retried (408, 429, 5xx, a failed connection); never a request
 * the upstream refused for a reason that would not change (400, 401, 402, 403), and never once
 * an answer has started: a retry would write a second answer over the first.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The first backoff; doubled per retry, then jittered. */
  baseDelayMs: number;
  /** The longest single backoff (before Retry-After, which may ask for more). */
  maxDelayMs: number;
  /** The most time spent waiting across all retries of one request. */
  budgetMs: number;
  /** A number in [0, 1), for the jitter; Math.random by default. */
  random?: () => number;
}

const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Exponential backoff with "equal jitter": half of min(max, base · 2^retry) plus a random part
 * of the other half, so retries of many clients spread out yet never come back at once.
 */
export function backoffDelay(retry: number, options: RetryOptions): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  const random = options.random ?? Math.random;
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Whether to retry after `retries` retries already made and `waitedMs` already waited, for a
 * failure that is retryable in kind. A Retry-After is honoured (never waiting less than it
 * asks), but a wait past the budget ends the retries: the caller then reports the failure
 * with the wait asked for.
 */
export function decideRetry(
  retries: number,
  waitedMs: number,
  retryAfterMs: number | null,
  options: RetryOptions,
): RetryDecision {
  if (retries >= options.maxRetries) return { retry: false };
  const delayMs = Math.max(retryAfterMs ?? 0, backoffDelay(retries, options));
  if (waitedMs + delayMs > options.budgetMs) return { retry: false };
  return { retry: true, delayMs };
}

/**
 * Retry-After as milliseconds: delta-seconds ("120") or an HTTP date; null when absent or
 * unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its month ("Wed, 21 Oct 2015 07:28:00 GMT"); Date.parse would also
  // take "-1" or "1.5" as dates.
  if (!/[a-z]{3}/i.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Waits `ms`, or rejects at once when `signal` aborts (with the signal's reason). */
export async function waitFor(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal });
}
