import { describe, expect, it } from 'vitest';
import { openDatabase } from './connection.js';

describe('text in DuckDB', () => {
  it('comes back exactly as it went in, a leading byte-order mark included', async () => {
    const db = await openDatabase(':memory:');
    try {
      await db.run('CREATE TABLE t (id INTEGER, s TEXT)');
      const values = [
        '\uFEFF',
        '\uFEFFstarts with a BOM',
        'a\uFEFFb',
        '\uFEFF\uFEFFtwo',
        '😀é\u0301',
      ];
      for (const [id, s] of values.entries()) {
        await db.run('INSERT INTO t (id, s) VALUES ($1, $2)', [id, s]);
      }
      const rows = await db.all<{ s: string }>('SELECT s FROM t ORDER BY id');
      expect(rows.map((r) => r.s)).toEqual(values);
      // The bytes stored are the UTF-8 of the text: nothing was lost on the way in either.
      const bytes = await db.one<{ n: number }>(
        'SELECT CAST(strlen(s) AS INTEGER) AS n FROM t WHERE id = 1',
      );
      expect(bytes?.n).toBe(new TextEncoder().encode(values[1]).length);
    } finally {
      await db.close();
    }
  });
});
