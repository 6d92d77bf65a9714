import type { Queryable } from '../db/connection.js';

/** Database-wide statements for backup and restore. `folder` is a checked literal (paths.ts). */
export function createOpsRepo(db: Queryable) {
  return {
    /** Row counts of every table, by name. */
    async tableCounts(): Promise<Record<string, number>> {
      const tables = await db.all<{ name: string }>(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`,
      );
      const counts: Record<string, number> = {};
      for (const { name } of tables) {
        const row = await db.one<{ n: number }>(
          `SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}"`,
        );
        counts[name] = row?.n ?? 0;
      }
      return counts;
    },

    /** Every attachment's owner and id: the files a backup copies (attachments/store.ts). */
    async attachmentFiles(): Promise<Array<{ id: string; user_id: string }>> {
      return db.all('SELECT id, user_id FROM attachments');
    },

    async engineVersion(): Promise<string> {
      const row = await db.one<{ version: string }>('SELECT version() AS version');
      return row?.version ?? 'unknown';
    },

    /** Writes schema.sql, load.sql and one Parquet file per table into the folder. */
    async exportTo(folder: string): Promise<void> {
      await db.run(`EXPORT DATABASE ${folder} (FORMAT PARQUET)`);
    },

    async importFrom(folder: string): Promise<void> {
      await db.run(`IMPORT DATABASE ${folder}`);
    },
  };
}
