import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './connection.js';

/** What repositories get back from a read: plain JSON-ready values, whatever the column type. */
describe('rows read from DuckDB', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase(':memory:');
  });
  afterAll(async () => {
    await db.close();
  });

  it('come back as strings, numbers, booleans, ISO timestamps and nulls', async () => {
    const row = await db.one(
      `SELECT 'text' AS s, '' AS empty, CAST(7 AS INTEGER) AS i, CAST(-3 AS SMALLINT) AS small,
              CAST(9007199254740991 AS BIGINT) AS big, CAST(12 AS HUGEINT) AS huge,
              CAST(5 AS UBIGINT) AS ubig, CAST(0.25 AS DOUBLE) AS d, CAST(1.5 AS FLOAT) AS f,
              true AS yes, false AS no, CAST(NULL AS TEXT) AS nothing, CAST(NULL AS BIGINT) AS no_count,
              CAST('2026-12-06 10:20:30.456789+00' AS TIMESTAMPTZ) AS at,
              CAST('1969-07-20 20:17:40.5' AS TIMESTAMP) AS plain_at,
              CAST(NULL AS TIMESTAMPTZ) AS never,
              count(*) AS counted`,
    );
    expect(row).toEqual({
      s: 'text',
      empty: '',
      i: 7,
      small: -3,
      big: 9007199254740991,
      huge: 12,
      ubig: 5,
      d: 0.25,
      f: 1.5,
      yes: true,
      no: false,
      nothing: null,
      no_count: null,
      // Milliseconds, UTC, as Date.prototype.toISOString writes them (microseconds truncated).
      at: '2026-12-06T10:20:30.456Z',
      plain_at: '1969-07-20T20:17:40.500Z',
      never: null,
      counted: 1,
    });
  });

  it('leave the rarer types to the library: decimals as numbers, lists as arrays', async () => {
    const row = await db.one(
      `SELECT CAST(1.25 AS DECIMAL(10, 2)) AS price, ['a', NULL, 'c'] AS letters,
              CAST('2026-12-06' AS DATE) AS day`,
    );
    expect(row?.price).toBe(1.25);
    expect(row?.letters).toEqual(['a', null, 'c']);
    expect(row?.day).toEqual(new Date('2026-12-06T00:00:00.000Z').toISOString());
  });

  it('read every row of a result of many chunks, each with its own values', async () => {
    // DuckDB hands results over in chunks of 2,048 rows.
    const rows = await db.all<{ n: number; label: string; at: string }>(
      `SELECT CAST(range AS INTEGER) AS n, 'row ' || range AS label,
              CAST('2026-01-01 00:00:00+00' AS TIMESTAMPTZ) + to_seconds(range) AS at
       FROM range(5000) ORDER BY range`,
    );
    expect(rows).toHaveLength(5000);
    for (const k of [0, 2047, 2048, 4095, 4096, 4999]) {
      expect(rows[k]).toEqual({
        n: k,
        label: `row ${k}`,
        at: new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString(),
      });
    }
  });

  it('name duplicated columns apart, as the library does', async () => {
    const row = await db.one('SELECT 1 AS x, 2 AS x');
    expect(Object.values(row ?? {})).toEqual([1, 2]);
    expect(Object.keys(row ?? {})).toHaveLength(2);
  });
});
