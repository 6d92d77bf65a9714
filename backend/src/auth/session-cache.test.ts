import { describe, expect, it } from 'vitest';
import { createSessionCache } from './session-cache.js';

const alice = {
  user: { id: 'a', username: 'alice', role: 'admin' as const, createdAt: '2026-01-01T00:00:00Z' },
  sessionId: 's-a',
};
const bob = {
  user: { id: 'b', username: 'bob', role: 'user' as const, createdAt: '2026-01-01T00:00:00Z' },
  sessionId: 's-b',
};

describe('the session cache', () => {
  it('answers until its ttl or the session expiry, whichever comes first', () => {
    const cache = createSessionCache(1000);
    cache.set('t1', alice, 0, 10_000);
    cache.set('t2', bob, 0, 500);
    expect(cache.get('t1', 999)).toBe(alice);
    expect(cache.get('t1', 1000)).toBeUndefined();
    expect(cache.get('t2', 499)).toBe(bob);
    expect(cache.get('t2', 500)).toBeUndefined();
  });

  it('forgets a token, or every token of a user, at once', () => {
    const cache = createSessionCache();
    cache.set('t1', alice, 0, 1e12);
    cache.set('t2', alice, 0, 1e12);
    cache.set('t3', bob, 0, 1e12);
    cache.delete('t3');
    expect(cache.get('t3', 1)).toBeUndefined();
    cache.deleteUser('a');
    expect(cache.get('t1', 1)).toBeUndefined();
    expect(cache.get('t2', 1)).toBeUndefined();
  });

  it('drops the oldest entry when full', () => {
    const cache = createSessionCache(60_000, 2);
    cache.set('t1', alice, 0, 1e12);
    cache.set('t2', bob, 0, 1e12);
    cache.set('t3', bob, 0, 1e12);
    expect(cache.get('t1', 1)).toBeUndefined();
    expect(cache.get('t3', 1)).toBe(bob);
  });
});
