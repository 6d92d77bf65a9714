import type { Queryable } from '../db/connection.js';
import type { Role } from '../auth/repo.js';
import { forgetUser } from '../usage/rollup/repo.js';

export type AdminUserRow = {
  id: string;
  username: string;
  role: Role;
  created_at: string;
  disabled_at: string | null;
  last_seen_at: string | null;
  sessions: number;
};

export function createAdminRepo(db: Queryable) {
  return {
    /** Every user, oldest first, with their unexpired sessions' count and last use. */
    listUsers(now: string): Promise<AdminUserRow[]> {
      return db.all<AdminUserRow>(
        `SELECT u.id, u.username, u.role, u.created_at, u.disabled_at,
                MAX(s.last_seen_at) AS last_seen_at, COUNT(s.token_hash) AS sessions
         FROM users u
         LEFT JOIN sessions s ON s.user_id = u.id AND s.expires_at > CAST($1 AS TIMESTAMPTZ)
         GROUP BY u.id, u.username, u.role, u.created_at, u.disabled_at
         ORDER BY u.created_at, u.username`,
        [now],
      );
    },

    findUser(id: string): Promise<Omit<AdminUserRow, 'last_seen_at' | 'sessions'> | undefined> {
      return db.one('SELECT id, username, role, created_at, disabled_at FROM users WHERE id = $1', [
        id,
      ]);
    },

    /** Active (not disabled) admins other than `exceptId`. */
    async countOtherActiveAdmins(exceptId: string): Promise<number> {
      const row = await db.one<{ n: number }>(
        `SELECT COUNT(*) AS n FROM users
         WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1`,
        [exceptId],
      );
      return row?.n ?? 0;
    },

    async setRole(id: string, role: Role, now: string) {
      await db.run(
        'UPDATE users SET role = $2, updated_at = CAST($3 AS TIMESTAMPTZ) WHERE id = $1',
        [id, role, now],
      );
    },

    async setDisabled(id: string, disabled: boolean, now: string) {
      await db.run(
        `UPDATE users SET disabled_at = ${disabled ? 'CAST($2 AS TIMESTAMPTZ)' : 'NULL'},
                          updated_at = CAST($2 AS TIMESTAMPTZ)
         WHERE id = $1`,
        [id, now],
      );
    },

    /**
     * Deletes the user and everything they own: generations, messages, comparisons, conversations, folders, sessions,
     * their own OpenRouter key (sealed, but still theirs), their spending limit, their favourite
     * models and default model, their presets, their attachments' rows (the files go once this
     * has committed), their usage rollup rows. Run it in a transaction.
     */
    async deleteUser(id: string) {
      const tables = [
        'attachments',
        'generations',
        'messages',
        'comparisons',
        'conversations',
        'folders',
        'sessions',
        'user_api_keys',
        'user_budgets',
        'user_model_favorites',
        'user_model_defaults',
        'presets',
      ];
      // Their rows of the usage rollup go too (before their generations: it reads their days).
      await forgetUser(db, id);
      for (const table of tables) {
        await db.run(`DELETE FROM ${table} WHERE user_id = $1`, [id]);
      }
      await db.run('DELETE FROM users WHERE id = $1', [id]);
    },
  };
}
