import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connection.js';
import { keyedRows } from './values.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-values-'));
  db = await openDatabase(path.join(dir, 'test.db'));
  await db.run(
    `CREATE TABLE items (id TEXT PRIMARY KEY, label TEXT, n INTEGER, price DOUBLE,
                         flag BOOLEAN, seen_at TIMESTAMPTZ)`,
  );
  await db.run(
    `INSERT INTO items
     SELECT 'item-' || i, 'old', 0, 0, false, TIMESTAMPTZ '2026-01-01 00:00:00+00'
     FROM range(1000) r(i)`,
  );
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const TYPES = ['TEXT', 'TEXT', 'INTEGER', 'DOUBLE', 'BOOLEAN', 'TIMESTAMPTZ'];

function updateSql(rows: ReturnType<typeof keyedRows>): string {
  const v = (column: number) => rows.value(column, 'id');
  return `UPDATE items SET label = ${v(1)}, n = ${v(2)}, price = ${v(3)}, flag = ${v(4)}, seen_at = ${v(5)}
          WHERE id IN (${rows.keys})`;
}

describe('keyedRows', () => {
  it('updates exactly the listed rows, each with its own values, NULLs first or not', async () => {
    const rows = keyedRows(TYPES, [
      ['item-7', null, null, null, null, null],
      ['item-3', 'three 😀 \u202eRTL', 3, 0.000123456789, true, '2026-12-06T01:02:03.456Z'],
      ['item-999', 'x\u0000y', 2_000_000_000, 1e-12, false, '2026-12-31T23:59:59.999Z'],
    ]);
    await db.run(updateSql(rows), rows.params);

    const changed = await db.all(
      `SELECT id, label, n, price, flag, seen_at FROM items WHERE label IS DISTINCT FROM 'old' ORDER BY id`,
    );
    expect(changed).toEqual([
      {
        id: 'item-3',
        label: 'three 😀 \u202eRTL',
        n: 3,
        price: 0.000123456789,
        flag: true,
        seen_at: '2026-12-06T01:02:03.456Z',
      },
      { id: 'item-7', label: null, n: null, price: null, flag: null, seen_at: null },
      {
        id: 'item-999',
        label: 'x\u0000y',
        n: 2_000_000_000,
        price: 1e-12,
        flag: false,
        seen_at: '2026-12-31T23:59:59.999Z',
      },
    ]);
    expect(await db.one(`SELECT count(*) AS n FROM items WHERE label = 'old'`)).toEqual({
      n: 997,
    });
  });

  it('numbers its placeholders from the given first one', async () => {
    const rows = keyedRows(['TEXT', 'TEXT'], [['item-1', 'new']], 2);
    expect(rows.keys).toBe('$4');
    expect(rows.value(1, 'id')).toBe(
      '(CAST($3 AS TEXT[]))[array_position(CAST($2 AS TEXT[]), id)]',
    );
    await db.run(
      `UPDATE items SET label = CASE WHEN label = $1 THEN ${rows.value(1, 'id')} END
       WHERE id IN (${rows.keys})`,
      ['old', ...rows.params],
    );
    expect(await db.one(`SELECT label FROM items WHERE id = 'item-1'`)).toEqual({ label: 'new' });
  });

  // The reason for the form (values.ts): a hash join per statement leaves native memory in
  // DuckDB's buffer pool; these statements read their rows through the key's index instead.
  it('plans no join: the rows are read through the primary key, one or many', async () => {
    const many = Array.from({ length: 200 }, (_, i) => [
      `item-${i * 3}`,
      `label ${i}`,
      i,
      i / 4,
      i % 2 === 0,
      '2026-12-06T00:00:00.000Z',
    ]);
    for (const batch of [many.slice(0, 1), many.slice(0, 5), many]) {
      const rows = keyedRows(TYPES, batch);
      // ANALYZE: DuckDB chooses the index scan as the statement runs, not in the plan.
      const plan = (
        await db.all<{ explain_value: string }>(`EXPLAIN ANALYZE ${updateSql(rows)}`, rows.params)
      )
        .map((row) => row.explain_value)
        .join('\n');
      expect(plan).not.toMatch(/JOIN/);
      expect(plan).toMatch(/Type: Index Scan/);
    }
    expect(
      await db.all(`SELECT id, label, n FROM items WHERE id IN ('item-0', 'item-597')`),
    ).toEqual([
      { id: 'item-0', label: 'label 0', n: 0 },
      { id: 'item-597', label: 'label 199', n: 199 },
    ]);
  });

  it('takes the last of rows with the same key', async () => {
    const rows = keyedRows(
      ['TEXT', 'TEXT'],
      [
        ['item-1', 'first'],
        ['item-2', 'other'],
        ['item-1', 'last'],
      ],
    );
    expect(rows.keys).toBe('$3, $4');
    await db.run(
      `UPDATE items SET label = ${rows.value(1, 'id')} WHERE id IN (${rows.keys})`,
      rows.params,
    );
    expect(await db.all(`SELECT id, label FROM items WHERE label <> 'old' ORDER BY id`)).toEqual([
      { id: 'item-1', label: 'last' },
      { id: 'item-2', label: 'other' },
    ]);
  });

  it('refuses a row whose length does not match the columns', () => {
    expect(() => keyedRows(['TEXT', 'TEXT'], [['a']])).toThrow(/1 values for 2 columns/);
  });
});
