import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('the rate limiter', () => {
  it('allows `limit` hits per window, then refuses with the seconds until the next is allowed', () => {
    const time = clock();
    const limiter = createRateLimiter({ limit: 3, windowMs: 60_000, now: time.now });
    expect(limiter.consume('k')).toEqual({ allowed: true });
    time.advance(10_000);
    expect(limiter.consume('k')).toEqual({ allowed: true });
    expect(limiter.consume('k')).toEqual({ allowed: true });
    // The first hit was 10 s ago: it leaves the window in 50 s.
    expect(limiter.consume('k')).toEqual({ allowed: false, retryAfterSeconds: 50 });
    expect(limiter.check('k')).toEqual({ allowed: false, retryAfterSeconds: 50 });
    time.advance(49_500);
    expect(limiter.check('k')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time.advance(500);
    // The window slides: one hit left it, two remain.
    expect(limiter.consume('k')).toEqual({ allowed: true });
    expect(limiter.consume('k')).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it('does not count refused hits, and keeps keys apart', () => {
    const time = clock();
    const limiter = createRateLimiter({ limit: 1, windowMs: 1000, now: time.now });
    expect(limiter.consume('a').allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect(limiter.consume('a').allowed).toBe(false);
    expect(limiter.consume('b').allowed).toBe(true);
    time.advance(1000);
    expect(limiter.consume('a').allowed).toBe(true);
  });

  it('counts several hits at once, all or none (a comparison of several models)', () => {
    const time = clock();
    const limiter = createRateLimiter({ limit: 4, windowMs: 60_000, now: time.now });
    expect(limiter.consume('k', 3)).toEqual({ allowed: true });
    time.advance(20_000);
    // One left: two at once are refused, counting none, until the first three have gone.
    expect(limiter.consume('k', 2)).toEqual({ allowed: false, retryAfterSeconds: 40 });
    expect(limiter.consume('k')).toEqual({ allowed: true });
    expect(limiter.consume('k')).toEqual({ allowed: false, retryAfterSeconds: 40 });
    time.advance(40_000);
    expect(limiter.consume('k', 3)).toEqual({ allowed: true });
    // More than the window ever holds: refused, with a whole window to wait.
    expect(createRateLimiter({ limit: 2, windowMs: 60_000 }).consume('k', 3)).toEqual({
      allowed: false,
      retryAfterSeconds: 60,
    });
  });

  it('check does not count a hit; reset forgets a key', () => {
    const time = clock();
    const limiter = createRateLimiter({ limit: 2, windowMs: 1000, now: time.now });
    for (let i = 0; i < 10; i++) expect(limiter.check('a').allowed).toBe(true);
    limiter.consume('a');
    limiter.consume('a');
    expect(limiter.check('a').allowed).toBe(false);
    limiter.reset('a');
    expect(limiter.check('a').allowed).toBe(true);
  });

  it('stays bounded: evicts the least recently hit key past maxKeys, and drops expired keys', () => {
    const time = clock();
    const limiter = createRateLimiter({ limit: 1, windowMs: 1000, maxKeys: 3, now: time.now });
    limiter.consume('a');
    limiter.consume('b');
    limiter.consume('c');
    limiter.consume('d');
    expect(limiter.size()).toBe(3);
    // 'a' was evicted, so it is allowed again; 'b' is still held.
    expect(limiter.check('a').allowed).toBe(true);
    expect(limiter.check('b').allowed).toBe(false);
    time.advance(1000);
    limiter.consume('e');
    expect(limiter.size()).toBe(1);
  });

  it('refuses nonsensical settings', () => {
    expect(() => createRateLimiter({ limit: 0, windowMs: 1000 })).toThrow(RangeError);
    expect(() => createRateLimiter({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
