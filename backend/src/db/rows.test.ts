import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import duckdb from '@duckdb/node-bindings';
import { openDatabase, type Database } from './connection.js';

/** Text of every kind a reader can trip on: lengths around the 12 bytes kept inline, UTF-8 of
 * one to four bytes a character, NULLs, and repeats; seeded, so a failure can be replayed. */
function texts(count: number, seed: number): (string | null)[] {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const alphabet = [
    'a',
    'Z',
    '0',
    ' ',
    '\n',
    'é',
    'ß',
    '中',
    '文',
    '😀',
    '🧪',
    '\uFEFF',
    '"',
    '\\',
  ];
  const made: (string | null)[] = [];
  for (let i = 0; i < count; i++) {
    const pick = next();
    if (pick < 0.1) made.push(null);
    else if (pick < 0.15 && made.length > 0) made.push(made[Math.floor(next() * made.length)]!);
    else {
      // Mostly near the inline limit, some long (a model's answer), some empty.
      const length = pick < 0.6 ? Math.floor(next() * 16) : Math.floor(next() * 3000);
      let text = '';
      while (text.length < length) text += alphabet[Math.floor(next() * alphabet.length)];
      made.push(text);
    }
  }
  return made;
}

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

  it('read timestamps as the millisecond they fall in, near 1970 and far from it', async () => {
    const row = await db.one(
      `SELECT CAST('1969-12-31 23:59:59.9985' AS TIMESTAMP) AS before_1970,
              CAST('2112-09-17 23:53:47.370495' AS TIMESTAMP) AS late,
              CAST('2200-01-01 00:00:00.123456' AS TIMESTAMP) AS far,
              CAST('1700-06-01 12:00:00.5+00' AS TIMESTAMPTZ) AS early,
              CAST('0001-01-01 00:00:00' AS TIMESTAMP) AS first_year,
              CAST('9999-12-31 23:59:59.999999' AS TIMESTAMP) AS last_of_9999,
              CAST('12345-06-07 08:09:10.011' AS TIMESTAMP) AS five_digit_year`,
    );
    expect(row).toEqual({
      first_year: '0001-01-01T00:00:00.000Z',
      last_of_9999: '9999-12-31T23:59:59.999Z',
      five_digit_year: '+012345-06-07T08:09:10.011Z',
      before_1970: '1969-12-31T23:59:59.998Z',
      late: '2112-09-17T23:53:47.370Z',
      far: '2200-01-01T00:00:00.123Z',
      early: '1700-06-01T12:00:00.500Z',
    });
    // Microseconds from 1500 to 2500, NULLs among them, against Date's own ISO text.
    const millis: (number | null)[] = [];
    for (let i = 0; i < 3000; i++) {
      millis.push(
        i % 97 === 0 ? null : Math.round((((i * 7919) % 3000) / 3000) * 3.16e13 - 1.58e13),
      );
    }
    const rows = await db.all<{ at: string | null }>(
      `SELECT make_timestamp(CAST(m AS BIGINT) * 1000 + CAST(n AS BIGINT) % 1000) AS at
       FROM (SELECT unnest(CAST($1 AS DOUBLE[])) AS m, unnest(CAST($2 AS DOUBLE[])) AS n)`,
      [
        { list: millis, items: 'number' },
        { list: millis.map((_, n) => n), items: 'number' },
      ],
    );
    expect(rows.map((r) => r.at)).toEqual(
      millis.map((m) => (m === null ? null : new Date(m).toISOString())),
    );
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

  it('read text back exactly as written, in order or not, many chunks long', async () => {
    const written = texts(6000, 7);
    await db.run('CREATE TABLE written (n INTEGER, s TEXT)');
    await db.run(
      'INSERT INTO written SELECT unnest(CAST($1 AS INTEGER[])), unnest(CAST($2 AS TEXT[]))',
      [
        { list: written.map((_, n) => n), items: 'number' },
        { list: written, items: 'text' },
      ],
    );
    const inOrder = await db.all<{ n: number; s: string | null }>(
      'SELECT n, s FROM written ORDER BY n',
    );
    expect(inOrder.map((r) => r.s)).toEqual(written);
    // Rows in another order than their text was stored in, and one text in many rows.
    const shuffled = await db.all<{ n: number; s: string | null; again: string | null }>(
      'SELECT n, s, s AS again FROM written ORDER BY hash(n)',
    );
    expect(shuffled).toHaveLength(written.length);
    for (const row of shuffled) {
      expect(row.s).toBe(written[row.n]);
      expect(row.again).toBe(written[row.n]);
    }
    const repeated = await db.all<{ s: string }>(
      "SELECT 'one answer, the same in every row: ' || '😀' AS s FROM range(3000)",
    );
    expect(new Set(repeated.map((r) => r.s))).toEqual(
      new Set(['one answer, the same in every row: 😀']),
    );
    expect(repeated).toHaveLength(3000);
  });

  it('read text back exactly from a file DuckDB has compressed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ai-rows-'));
    const file = await openDatabase(path.join(dir, 'rows.db'));
    try {
      const written = texts(5000, 11);
      await file.run('CREATE TABLE written (n INTEGER, s TEXT, kind TEXT)');
      await file.run(
        `INSERT INTO written
         SELECT n, s, CASE WHEN n % 3 = 0 THEN 'a kind named at length' ELSE 'short' END
         FROM (SELECT unnest(CAST($1 AS INTEGER[])) AS n, unnest(CAST($2 AS TEXT[])) AS s)`,
        [
          { list: written.map((_, n) => n), items: 'number' },
          { list: written, items: 'text' },
        ],
      );
      // Written to the file: the text is stored compressed (FSST, dictionary) and read from it.
      await file.checkpoint();
      const rows = await file.all<{ n: number; s: string | null; kind: string }>(
        'SELECT n, s, kind FROM written WHERE n % 2 = 0 ORDER BY n',
      );
      expect(rows.map((r) => r.s)).toEqual(written.filter((_, n) => n % 2 === 0));
      expect(rows.map((r) => r.kind)).toEqual(
        rows.map((r) => (r.n % 3 === 0 ? 'a kind named at length' : 'short')),
      );
    } finally {
      await file.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('use the very bindings the library loaded (package.json pins both to one version)', () => {
    const require = createRequire(import.meta.url);
    const librarysOwn: unknown = createRequire(require.resolve('@duckdb/node-api'))(
      '@duckdb/node-bindings',
    );
    expect(librarysOwn).toBe(duckdb);
  });
});
