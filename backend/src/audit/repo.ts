import type { Queryable } from '../db/connection.js';

export type AuditRow = {
  id: string;
  created_at: string;
  actor_id: string | null;
  actor_username: string | null;
  action: string;
  target_user_id: string | null;
  target_username: string | null;
  detail: string | null;
  ip: string | null;
};

export function createAuditRepo(db: Queryable) {
  return {
    async insert(entry: {
      id: string;
      at: string;
      actorId: string | null;
      action: string;
      targetUserId: string | null;
      detail: string | null;
      ip: string | null;
    }) {
      await db.run(
        `INSERT INTO audit_log (id, created_at, actor_id, action, target_user_id, detail, ip)
         VALUES ($1, CAST($2 AS TIMESTAMPTZ), $3, $4, $5, $6, $7)`,
        [
          entry.id,
          entry.at,
          entry.actorId,
          entry.action,
          entry.targetUserId,
          entry.detail,
          entry.ip,
        ],
      );
    },

    /**
     * Deletes the entries older than `before`; returns how many. Counted first rather than
     * returned by the DELETE: the first prune of a large log would read back every id. Run it
     * in a transaction for the count to be exact.
     */
    async deleteOlderThan(before: string): Promise<number> {
      const old = await db.one<{ n: number }>(
        'SELECT count(*) AS n FROM audit_log WHERE created_at < CAST($1 AS TIMESTAMPTZ)',
        [before],
      );
      if (!old?.n) return 0;
      await db.run('DELETE FROM audit_log WHERE created_at < CAST($1 AS TIMESTAMPTZ)', [before]);
      return old.n;
    },

    /** Newest first; `before` is the (created_at, id) of the last entry of the previous page. */
    list(limit: number, before: { at: string; id: string } | null): Promise<AuditRow[]> {
      const columns = `a.id, a.created_at, a.actor_id, actor.username AS actor_username, a.action,
         a.target_user_id, target.username AS target_username, a.detail, a.ip
         FROM audit_log a
         LEFT JOIN users actor ON actor.id = a.actor_id
         LEFT JOIN users target ON target.id = a.target_user_id`;
      const order = 'ORDER BY a.created_at DESC, a.id DESC';
      if (before === null) {
        return db.all<AuditRow>(`SELECT ${columns} ${order} LIMIT $1`, [limit]);
      }
      return db.all<AuditRow>(
        `SELECT ${columns}
         WHERE a.created_at < CAST($1 AS TIMESTAMPTZ)
            OR (a.created_at = CAST($1 AS TIMESTAMPTZ) AND a.id < $2)
         ${order} LIMIT $3`,
        [before.at, before.id, limit],
      );
    },
  };
}
