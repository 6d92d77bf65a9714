import type { SqlList, SqlParam } from './connection.js';

/**
 * Many rows as one parameterized `VALUES` list — `(CAST($1 AS TEXT), …), (…)` — so a batch
 * is one statement rather than one per row (each DuckDB statement costs ~1 ms of planning and,
 * for an UPDATE, a scan). Every placeholder carries its column's type, so NULLs and numbers
 * bind alike on DuckDB and PostgreSQL.
 */
export function valuesList(
  types: readonly string[],
  rows: readonly (readonly SqlParam[])[],
  firstParam = 1,
): { sql: string; params: SqlParam[] } {
  const params: SqlParam[] = [];
  const tuples = rows.map((row) => {
    if (row.length !== types.length) {
      throw new Error(`valuesList: a row has ${row.length} values for ${types.length} columns`);
    }
    const cells = row.map((value, i) => {
      params.push(value);
      return `CAST($${firstParam + params.length - 1} AS ${types[i]})`;
    });
    return `(${cells.join(', ')})`;
  });
  return { sql: tuples.join(', '), params };
}

/**
 * Rows to UPDATE by their key without a join: each column is one list parameter
 * (`CAST($2 AS TEXT[])`), a row's value is found at its key's position in the keys' list, and
 * the rows are chosen by `key IN ($n, …)`, which DuckDB reads through the key's index (its
 * optimizer that turns long IN lists into joins is off, db/connection.ts).
 *
 * Why not `UPDATE … FROM (VALUES …)`: DuckDB runs that as a hash join, and each hash join
 * leaves its buffers' handles in the buffer pool's eviction queue, freed only when the queue
 * is purged past tens of thousands of entries: under the soak's load the batched writes held
 * ~28 MB of native memory that way, and the same statements in this form none, for the same
 * CPU (docs/benchmarks.md, Findings 13). The form is PostgreSQL's too (`array_position`).
 *
 *   const rows = keyedRows(['TEXT', 'TEXT'], [[id, content], …]);
 *   `UPDATE messages SET content = ${rows.value(1, 'id')} WHERE id IN (${rows.keys})`
 *
 * `types[0]` and each row's first value are the key; of rows with the same key, the last wins.
 */
export function keyedRows(
  types: readonly string[],
  rows: readonly (readonly (string | number | boolean | null)[])[],
  firstParam = 1,
): { value: (column: number, key: string) => string; keys: string; params: SqlParam[] } {
  const byKey = new Map<string | number | boolean | null, (typeof rows)[number]>();
  for (const row of rows) {
    if (row.length !== types.length) {
      throw new Error(`keyedRows: a row has ${row.length} values for ${types.length} columns`);
    }
    byKey.set(row[0] ?? null, row);
  }
  const unique = [...byKey.values()];
  const columns = types.map((type, column): SqlList => ({
    list: unique.map((row) => row[column] ?? null),
    items: listItems(type),
  }));
  const keysParam = (i: number) => `$${firstParam + types.length + i}`;
  const position = (key: string) => `array_position(CAST($${firstParam} AS ${types[0]}[]), ${key})`;
  return {
    value: (column, key) =>
      `(CAST($${firstParam + column} AS ${types[column]}[]))[${position(key)}]`,
    keys: unique.map((_, i) => keysParam(i)).join(', '),
    params: [...columns, ...columns[0]!.list],
  };
}

function listItems(type: string): SqlList['items'] {
  if (/^(?:INTEGER|BIGINT|DOUBLE)$/i.test(type)) return 'number';
  if (/^BOOLEAN$/i.test(type)) return 'boolean';
  return 'text';
}
