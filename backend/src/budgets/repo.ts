import type { Queryable } from '../db/connection.js';

export interface UserLimitRow {
  /** Whether the user has a limit of their own (which may be null: unlimited). */
  overridden: boolean;
  limitUsd: number | null;
}

export interface BudgetUserRow {
  userId: string;
  username: string;
  role: string;
  overridden: boolean;
  limitUsd: number | null;
}

/** Monthly spending limits (user_budgets, budget_defaults) and spend (generations.cost_usd). */
export function createBudgetsRepo(db: Queryable) {
  return {
    /**
     * USD the user's generations cost that started in [from, to). Imported ones (transfer/)
     * ran elsewhere or earlier: their cost is history, not this server's spend.
     */
    async spend(userId: string, from: string, to: string): Promise<number> {
      const row = await db.one<{ total: number | null }>(
        `SELECT SUM(cost_usd) AS total FROM generations
         WHERE user_id = $1 AND created_at >= CAST($2 AS TIMESTAMPTZ)
           AND created_at < CAST($3 AS TIMESTAMPTZ) AND COALESCE(imported, false) = false`,
        [userId, from, to],
      );
      return row?.total ?? 0;
    },

    /** Every user's spend in [from, to), for the admin's list; users without any are absent. */
    async spendByUser(from: string, to: string): Promise<Map<string, number>> {
      const rows = await db.all<{ user_id: string; total: number | null }>(
        `SELECT user_id, SUM(cost_usd) AS total FROM generations
         WHERE created_at >= CAST($1 AS TIMESTAMPTZ) AND created_at < CAST($2 AS TIMESTAMPTZ)
           AND COALESCE(imported, false) = false
         GROUP BY user_id`,
        [from, to],
      );
      return new Map(rows.map((r) => [r.user_id, r.total ?? 0]));
    },

    async defaultLimit(): Promise<number | null> {
      const row = await db.one<{ monthly_limit_usd: number | null }>(
        'SELECT monthly_limit_usd FROM budget_defaults WHERE id = 1',
      );
      return row?.monthly_limit_usd ?? null;
    },

    async setDefaultLimit(limitUsd: number | null, by: string, now: string): Promise<void> {
      await db.run(
        `INSERT INTO budget_defaults (id, monthly_limit_usd, updated_at, updated_by)
         VALUES (1, $1, CAST($2 AS TIMESTAMPTZ), $3)
         ON CONFLICT (id) DO UPDATE SET monthly_limit_usd = excluded.monthly_limit_usd,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [limitUsd, now, by],
      );
    },

    async userLimit(userId: string): Promise<UserLimitRow> {
      const row = await db.one<{ monthly_limit_usd: number | null }>(
        'SELECT monthly_limit_usd FROM user_budgets WHERE user_id = $1',
        [userId],
      );
      return row ? { overridden: true, limitUsd: row.monthly_limit_usd } : noOverride;
    },

    async setUserLimit(
      userId: string,
      limitUsd: number | null,
      by: string,
      now: string,
    ): Promise<void> {
      await db.run(
        `INSERT INTO user_budgets (user_id, monthly_limit_usd, updated_at, updated_by)
         VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ), $4)
         ON CONFLICT (user_id) DO UPDATE SET monthly_limit_usd = excluded.monthly_limit_usd,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [userId, limitUsd, now, by],
      );
    },

    /** Back to the default; whether the user had a limit of their own. */
    async clearUserLimit(userId: string): Promise<boolean> {
      const rows = await db.all<{ user_id: string }>(
        'DELETE FROM user_budgets WHERE user_id = $1 RETURNING user_id',
        [userId],
      );
      return rows.length > 0;
    },

    /** Every user with their own limit, if any, by username. */
    async users(): Promise<BudgetUserRow[]> {
      const rows = await db.all<{
        id: string;
        username: string;
        role: string;
        overridden: boolean;
        monthly_limit_usd: number | null;
      }>(
        `SELECT u.id, u.username, u.role, b.user_id IS NOT NULL AS overridden, b.monthly_limit_usd
         FROM users u LEFT JOIN user_budgets b ON b.user_id = u.id
         ORDER BY u.username`,
      );
      return rows.map((r) => ({
        userId: r.id,
        username: r.username,
        role: r.role,
        overridden: r.overridden,
        limitUsd: r.monthly_limit_usd,
      }));
    },

    async userExists(userId: string): Promise<boolean> {
      return (await db.one('SELECT id FROM users WHERE id = $1', [userId])) !== undefined;
    },
  };
}

const noOverride: UserLimitRow = { overridden: false, limitUsd: null };
