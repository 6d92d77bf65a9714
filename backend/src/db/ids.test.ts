import { describe, expect, it } from 'vitest';
import { createIdGenerator, newId } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The millisecond timestamp an id carries in its first 48 bits. */
const msOf = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
const counterOf = (id: string) => parseInt(id.slice(15, 18), 16);

describe('ids', () => {
  it('are UUIDv7 carrying the creation time', () => {
    const before = Date.now();
    const id = newId();
    const after = Date.now();
    expect(id).toMatch(UUID_V7);
    expect(msOf(id)).toBeGreaterThanOrEqual(before);
    expect(msOf(id)).toBeLessThanOrEqual(after);
  });

  it('increase in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    ids.forEach((id) => expect(id).toMatch(UUID_V7));
  });

  it('borrow the next millisecond once 4,096 were made in one, and stay in order', () => {
    const next = createIdGenerator(() => 1_700_000_000_000);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(msOf(ids[0]!)).toBe(1_700_000_000_000);
    // The counter starts below 2,048, so the first millisecond holds at least 2,048 ids.
    expect(counterOf(ids[0]!)).toBeLessThan(2048);
    expect(msOf(ids.at(-1)!)).toBeGreaterThan(1_700_000_000_000);
    expect(msOf(ids.at(-1)!)).toBeLessThanOrEqual(1_700_000_000_000 + 10_000 / 2048);
  });

  it('stay in order when the clock steps back', () => {
    const clock = [5_000, 5_001, 4_000, 4_500, 5_001, 5_002];
    const next = createIdGenerator(() => clock.shift()!);
    const ids = Array.from({ length: 6 }, () => next());
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map(msOf)).toEqual([5_000, 5_001, 5_001, 5_001, 5_001, 5_002]);
  });

  it('keep 62 random bits: two generators on one clock do not collide', () => {
    const a = createIdGenerator(() => 42);
    const b = createIdGenerator(() => 42);
    const ids = new Set<string>();
    for (let i = 0; i < 4000; i += 1) {
      ids.add(a());
      ids.add(b());
    }
    expect(ids.size).toBe(8000);
  });
});
