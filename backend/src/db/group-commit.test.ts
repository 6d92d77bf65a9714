import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Queryable } from './connection.js';
import { createGroupCommit } from './group-commit.js';
import { valuesList } from './values.js';

let dir: string;
let db: Database;
/** The items of each transaction `write` was called in, in order. */
let batches: number[][];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-group-commit-'));
  db = await openDatabase(path.join(dir, 'test.db'));
  await db.run('CREATE TABLE items (n INTEGER PRIMARY KEY CHECK (n >= 0))');
  batches = [];
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function insertAll(tx: Queryable, items: number[]): Promise<void> {
  batches.push([...items]);
  const rows = valuesList(
    ['INTEGER'],
    items.map((n) => [n]),
  );
  await tx.run(`INSERT INTO items (n) VALUES ${rows.sql}`, rows.params);
}

const saved = async () =>
  (await db.all<{ n: number }>('SELECT n FROM items ORDER BY n')).map((row) => row.n);

/** Holds the database's queue until the returned function is called. */
function holdQueue(): () => void {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  void db.transaction(() => gate);
  return release;
}

describe('createGroupCommit', () => {
  it('writes a lone item in its own transaction, at once', async () => {
    const submit = createGroupCommit(db, insertAll);
    await submit(1);
    expect(batches).toEqual([[1]]);
    expect(await saved()).toEqual([1]);
  });

  it('commits the items that arrive while the database is busy together, in order', async () => {
    const submit = createGroupCommit(db, insertAll);
    const release = holdQueue();
    const pending = [1, 2, 3, 4, 5].map((n) => submit(n));
    release();
    await Promise.all(pending);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
    expect(await saved()).toEqual([1, 2, 3, 4, 5]);
  });

  it('starts a new batch behind the running one', async () => {
    const submit = createGroupCommit(db, insertAll);
    const first = submit(1);
    // The first batch is queued but the database has not started it: 2 joins it.
    const second = submit(2);
    await first;
    await second;
    const third = submit(3);
    await third;
    expect(batches).toEqual([[1, 2], [3]]);
  });

  it('splits batches at maxBatch', async () => {
    const submit = createGroupCommit(db, insertAll, { maxBatch: 2 });
    const release = holdQueue();
    const pending = [1, 2, 3, 4, 5].map((n) => submit(n));
    release();
    await Promise.all(pending);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the caller whose item breaks the batch; the others are saved', async () => {
    const submit = createGroupCommit(db, insertAll);
    const release = holdQueue();
    const outcomes = Promise.allSettled([1, 2, -3, 4].map((n) => submit(n)));
    release();
    const settled = await outcomes;
    expect(settled.map((s) => s.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/CHECK constraint/i);
    // The whole batch was rolled back, then each item written alone.
    expect(batches).toEqual([[1, 2, -3, 4], [1], [2], [-3], [4]]);
    expect(await saved()).toEqual([1, 2, 4]);
  });

  it('writes a batch too large to keep prepared (prepared for its run alone), twice', async () => {
    const submit = createGroupCommit(db, insertAll, { maxBatch: 1000 });
    for (const start of [0, 1000]) {
      const release = holdQueue();
      const pending = Array.from({ length: 300 }, (_, i) => submit(start + i));
      release();
      await Promise.all(pending);
    }
    expect(batches.map((b) => b.length)).toEqual([300, 300]);
    expect(await saved()).toHaveLength(600);
  });

  it('fails a batch whose transaction could not begin, and runs the next items in a new one', async () => {
    let refuse = true;
    // BEGIN refused (an I/O error, the database closed): the batch's work never runs.
    const flaky: Database = {
      ...db,
      transaction: (work) =>
        refuse ? Promise.reject(new Error('IO Error: cannot begin')) : db.transaction(work),
    };
    const submit = createGroupCommit(flaky, insertAll);
    await expect(submit(1)).rejects.toThrow(/cannot begin/);
    refuse = false;
    // Before the fix this joined the failed batch and never settled.
    await submit(2);
    expect(batches).toEqual([[2]]);
    expect(await saved()).toEqual([2]);
  });
});

describe('valuesList', () => {
  it('numbers and casts the placeholders from the given first one', () => {
    expect(
      valuesList(
        ['TEXT', 'INTEGER'],
        [
          ['a', 1],
          [null, 2],
        ],
        3,
      ),
    ).toEqual({
      sql: '(CAST($3 AS TEXT), CAST($4 AS INTEGER)), (CAST($5 AS TEXT), CAST($6 AS INTEGER))',
      params: ['a', 1, null, 2],
    });
  });

  it('refuses a row whose length does not match the columns', () => {
    expect(() => valuesList(['TEXT'], [['a', 'b']])).toThrow(/2 values for 1 columns/);
  });
});
