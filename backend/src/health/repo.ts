import type { Queryable } from '../db/connection.js';

export function createHealthRepo(db: Queryable) {
  return {
    /** Resolves when the database answers a trivial query. */
    async ping(): Promise<void> {
      await db.one('SELECT 1 AS ok');
    },
  };
}
