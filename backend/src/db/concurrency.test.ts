import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connection.js';

let db: Database;
beforeEach(async () => {
  db = await openDatabase(':memory:');
  await db.run('CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, note TEXT)');
  await db.run('INSERT INTO counters VALUES (1, 0, NULL)');
});
afterEach(() => db.close());

describe('the writer connection', () => {
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

describe('the reader connection', () => {
  /** Holds the writer's queue inside a transaction that has updated the row, uncommitted. */
  async function holdWriter() {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const held = db.transaction(async (tx) => {
      await tx.run('UPDATE counters SET n = 7 WHERE id = 1');
      entered();
      await gate;
    });
    await inside;
    return { release, held };
  }

  it('answers a SELECT while a transaction holds the writer, with what was committed', async () => {
    const { release, held } = await holdWriter();
    // Answered before the transaction ends (the test would time out otherwise), and without
    // its uncommitted update.
    expect(await db.one('SELECT n FROM counters WHERE id = 1')).toEqual({ n: 0 });
    expect(await db.all('WITH c AS (SELECT n FROM counters) SELECT n FROM c')).toEqual([{ n: 0 }]);
    release();
    await held;
    expect(await db.one('SELECT n FROM counters WHERE id = 1')).toEqual({ n: 7 });
  });

  it('leaves a statement that writes, even one read with all(), to the writer queue', async () => {
    const { release, held } = await holdWriter();
    let returned = false;
    const update = db
      .all<{ n: number }>('UPDATE counters SET n = n + 1 WHERE id = 1 RETURNING n')
      .then((rows) => {
        returned = true;
        return rows;
      });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(returned).toBe(false);
    release();
    await held;
    // After the held transaction's commit, not beside it: no write conflict.
    expect(await update).toEqual([{ n: 8 }]);
  });
});
