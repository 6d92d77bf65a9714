import type { SqlParam } from './connection.js';

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
