import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connection.js';

let db: Database;
beforeEach(async () => {
  db = await openDatabase(':memory:');
  await db.run('CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, note TEXT)');
  await db.run('INSERT INTO counters VALUES (1, 0, NULL)');
});
afterEach(() => db.close());

describe('the one connection', () => {
  it('serializes concurrent read-modify-write transactions on one row: none conflicts or is lost', async () => {
    // On two connections, overlapping transactions updating the same row would fail with
    // DuckDB's "Conflict on update"; through the queue each sees the previous one's commit.
    const writers = Array.from({ length: 100 }, (_, i) =>
      db.transaction(async (tx) => {
        const row = await tx.one<{ n: number }>('SELECT n FROM counters WHERE id = 1');
        await tx.run('UPDATE counters SET n = $1, note = $2 WHERE id = 1', [
          (row?.n ?? 0) + 1,
          `writer ${i}`,
        ]);
      }),
    );
    const plain = Array.from({ length: 50 }, (_, i) =>
      db.run('UPDATE counters SET note = $1 WHERE id = 1', [`plain ${i}`]),
    );
    await Promise.all([...writers, ...plain]);
    expect(await db.one('SELECT n FROM counters WHERE id = 1')).toEqual({ n: 100 });
  });

  it('rolls a failed transaction back and lets the queued ones through', async () => {
    const failing = db.transaction(async (tx) => {
      await tx.run('UPDATE counters SET n = 99 WHERE id = 1');
      throw new Error('the work failed');
    });
    const next = db.transaction((tx) => tx.run('UPDATE counters SET n = n + 1 WHERE id = 1'));
    await expect(failing).rejects.toThrow('the work failed');
    await next;
    expect(await db.one('SELECT n FROM counters WHERE id = 1')).toEqual({ n: 1 });
  });
});
