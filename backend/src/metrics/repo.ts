import type { Queryable } from '../db/connection.js';

export interface DatabaseMemory {
  tag: string;
  bytes: number;
}

export function createMetricsRepo(db: Queryable) {
  return {
    /**
     * DuckDB's own accounting of the memory it holds, by component (buffer pool pages of the
     * tables and indexes, in-memory updates, …): what of the backend's RSS is DuckDB's.
     * (`duckdb_memory()` is DuckDB's; a PostgreSQL port would drop this metric.)
     */
    async databaseMemory(): Promise<DatabaseMemory[]> {
      const rows = await db.all<{ tag: string; bytes: bigint | number }>(
        'SELECT tag, memory_usage_bytes AS bytes FROM duckdb_memory()',
      );
      return rows.map((row) => ({ tag: row.tag, bytes: Number(row.bytes) }));
    },
  };
}
