import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  decideRetry,
  isRetryableStatus,
  parseRetryAfter,
  waitFor,
  type RetryOptions,
} from './retry.js';

const options = (random: number, extra: Partial<RetryOptions> = {}): RetryOptions => ({
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 8000,
  budgetMs: 20_000,
  random: () => random,
  ...extra,
});

describe('backoffDelay', () => {
  it('doubles per retry, jittered within the upper half, capped', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, options(0)))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, options(0.999)))).toEqual([
      500, 1000, 1999, 3998,
    ]);
    expect(backoffDelay(10, options(0.999))).toBeLessThanOrEqual(8000);
    expect(backoffDelay(10, options(0))).toBe(4000);
  });
});

describe('decideRetry', () => {
  it('retries up to maxRetries', () => {
    expect(decideRetry(0, 0, null, options(0))).toEqual({ retry: true, delayMs: 250 });
    expect(decideRetry(1, 250, null, options(0))).toEqual({ retry: true, delayMs: 500 });
    expect(decideRetry(2, 750, null, options(0))).toEqual({ retry: false });
    expect(decideRetry(0, 0, null, options(0, { maxRetries: 0 }))).toEqual({ retry: false });
  });

  it('waits at least what Retry-After asks, within the budget', () => {
    expect(decideRetry(0, 0, 3000, options(0))).toEqual({ retry: true, delayMs: 3000 });
    expect(decideRetry(0, 0, 0, options(0))).toEqual({ retry: true, delayMs: 250 });
    expect(decideRetry(0, 0, 30_000, options(0))).toEqual({ retry: false });
    expect(decideRetry(1, 18_000, 3000, options(0))).toEqual({ retry: false });
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    for (const bad of [null, '', 'soon', '-1', '1.5']) expect(parseRetryAfter(bad, now)).toBeNull();
  });
});

describe('isRetryableStatus', () => {
  it('retries transient statuses only', () => {
    for (const status of [408, 429, 500, 502, 503, 504])
      expect(isRetryableStatus(status)).toBe(true);
    for (const status of [400, 401, 402, 403, 404, 413, 422]) {
      expect(isRetryableStatus(status)).toBe(false);
    }
  });
});

describe('waitFor', () => {
  it('ends at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await expect(waitFor(10_000, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
