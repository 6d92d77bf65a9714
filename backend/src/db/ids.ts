import { randomFillSync } from 'node:crypto';

/**
 * Ids of stored rows (users, conversations, messages, generations, …): UUIDv7 (RFC 9562),
 * the creation time in milliseconds first, then a 12-bit counter, then 62 random bits.
 *
 * Why not random (v4) ids: DuckDB holds the ART indexes of the tables it writes in memory
 * (no memory_limit caps them), and they grow with every row. Keys made close in time share
 * their leading characters and land at the index's right edge, so it stays far smaller and
 * takes them faster: in the soak the indexes stayed at 8–13 MB where random ids grew them
 * 8 → 41 MB; at 1,000,000 messages writes ×1.20 and the backend ~70 MB smaller
 * (docs/benchmarks.md, Findings 11; bench/src/send-db.ts --ids random,time).
 *
 * The counter (RFC 9562 §6.2, method 1) keeps ids made in the same millisecond, or after the
 * clock stepped back, in increasing order; it starts at a random value below 2,048 so the
 * next millisecond's ids are not guessable from this one's. Ids are no secrets (every query
 * is scoped to its user; session tokens are random and separate), yet 62 random bits still
 * keep them from being guessed.
 */
export function createIdGenerator(now: () => number = Date.now): () => string {
  const bytes = Buffer.alloc(16);
  // Random bytes drawn for many ids at once, as randomUUID() does: 1.5 → 0.3 µs an id.
  const pool = Buffer.alloc(10 * 256);
  let poolOffset = pool.length;
  let lastMs = -1;
  let counter = 0;
  return () => {
    if (poolOffset === pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    pool.copy(bytes, 6, poolOffset, poolOffset + 10);
    poolOffset += 10;
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = ((bytes[6]! & 0x07) << 8) | bytes[7]!;
    } else if (counter < 0xfff) {
      counter += 1;
    } else {
      // 4,096 ids in one millisecond: borrow the next one, as the RFC allows.
      lastMs += 1;
      counter = ((bytes[6]! & 0x07) << 8) | bytes[7]!;
    }
    bytes.writeUIntBE(lastMs, 0, 6);
    bytes[6] = 0x70 | (counter >> 8);
    bytes[7] = counter & 0xff;
    bytes[8] = 0x80 | (bytes[8]! & 0x3f);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
}

/** The process's generator: one clock and one counter, so its ids increase in creation order. */
export const newId = createIdGenerator();
