import type { Queryable } from '../db/connection.js';

export function createSettingsRepo(db: Queryable) {
  return {
    /** Every stored setting, its value as JSON text. */
    async all(): Promise<Map<string, string>> {
      const rows = await db.all<{ key: string; value: string }>('SELECT key, value FROM settings');
      return new Map(rows.map((row) => [row.key, row.value]));
    },

    async put(key: string, value: string, now: string) {
      await db.run(
        `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ))
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [key, value, now],
      );
    },
  };
}
