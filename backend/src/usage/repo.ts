import type { Queryable, SqlParam } from '../db/connection.js';
import type { UpstreamGenerationStats } from '../openrouter/types.js';

/**
 * The usage page's SQL: plain aggregates over the generations table, parameterized, every one
 * filtered on a time range and, unless an admin asked for the whole server, on one user.
 *
 * - Imported generations (transfer/) ran elsewhere: they are never this server's usage.
 * - Days are UTC days, as budgets' months are: `epoch_ms(created_at) // 86400000` (pure
 *   arithmetic; DuckDB's date_trunc and AT TIME ZONE go through ICU and took ~20 times as long
 *   on 2M rows). On PostgreSQL: `floor(extract(epoch FROM created_at) / 86400)`.
 * - Percentiles use the ordered-set form PostgreSQL also has:
 *   `percentile_cont(ARRAY[…]) WITHIN GROUP (ORDER BY …)`, one sort for the three.
 */

/** Whose usage: one user's, or (an admin's view) everyone's. */
export interface UsageScope {
  userId: string | null;
}

/** [from, to) as ISO instants. */
export interface UsageRange {
  from: string;
  to: string;
}

// A BIGINT day number (a cast to INTEGER per row doubled the grouping's time on 2M rows).
const DAY = `epoch_ms(created_at) // 86400000`;
const DAY_OF_G = `epoch_ms(g.created_at) // 86400000`;
/** A day number (days since 1970-01-01) back to a DATE, once per group. */
const AS_DATE = (column: string) => `DATE '1970-01-01' + CAST(${column} AS INTEGER)`;

/**
 * A generation's cost at catalog (list) prices: its tokens times the prices of the row of
 * model_prices `p` valid when it ran. Completion tokens include reasoning tokens; cached prompt
 * tokens cost the cache-read price when the model has one.
 */
export const LIST_PRICE = `(p.request_price
  + (COALESCE(g.prompt_tokens, 0) - COALESCE(g.cached_tokens, 0)) * p.prompt_price
  + COALESCE(g.cached_tokens, 0) * COALESCE(p.cache_read_price, p.prompt_price)
  + (COALESCE(g.completion_tokens, 0) - COALESCE(g.reasoning_tokens, 0)) * p.completion_price
  + COALESCE(g.reasoning_tokens, 0) * COALESCE(p.reasoning_price, p.completion_price))`;

/** The model_prices row valid when generation `g` ran. */
const PRICE_AT = `p.model_id = g.model AND p.valid_from <= g.created_at
  AND (p.valid_to IS NULL OR g.created_at < p.valid_to)`;

/** The WHERE clause of a report: range, not imported, and the user unless the scope is all. */
function where(
  scope: UsageScope,
  range: UsageRange,
  alias = '',
): { sql: string; params: SqlParam[] } {
  const a = alias === '' ? '' : `${alias}.`;
  const params: SqlParam[] = [range.from, range.to];
  let sql = `${a}created_at >= CAST($1 AS TIMESTAMPTZ) AND ${a}created_at < CAST($2 AS TIMESTAMPTZ)
    AND ${a}imported IS NOT TRUE`;
  if (scope.userId !== null) {
    params.push(scope.userId);
    sql += ` AND ${a}user_id = $3`;
  }
  return { sql, params };
}

/** A report's SQL and parameters: run for JSON, or wrapped in COPY … TO for a download. */
export interface ReportQuery {
  sql: string;
  params: SqlParam[];
}

export type ReportName =
  'daily' | 'kinds' | 'latency' | 'conversations' | 'errors' | 'prices' | 'users' | 'generations';

/** Each report's query. Column names are the CSV/Parquet headers (snake_case). */
export const reportQueries = {
  /** Per day and model: generations, tokens, cost (and how much of it is estimated). */
  daily(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range);
    return {
      sql: `SELECT ${AS_DATE('day')} AS day, model, generations, prompt_tokens, completion_tokens,
                   reasoning_tokens, cached_tokens, cost_usd, estimated_cost_usd
            FROM (SELECT ${DAY} AS day, model, count(*) AS generations,
                         COALESCE(sum(prompt_tokens), 0) AS prompt_tokens,
                         COALESCE(sum(completion_tokens), 0) AS completion_tokens,
                         COALESCE(sum(reasoning_tokens), 0) AS reasoning_tokens,
                         COALESCE(sum(cached_tokens), 0) AS cached_tokens,
                         COALESCE(sum(cost_usd), 0) AS cost_usd,
                         COALESCE(sum(cost_usd) FILTER (WHERE usage_source = 'estimate'), 0)
                           AS estimated_cost_usd
                  FROM generations WHERE ${w.sql}
                  GROUP BY ${DAY}, model) t
            ORDER BY day, model`,
      params: w.params,
    };
  },

  /** Per kind (what the call was for: answer, regenerate, continue, compare, title). */
  kinds(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range);
    return {
      sql: `SELECT COALESCE(purpose, 'answer') AS kind, count(*) AS generations,
                   COALESCE(sum(prompt_tokens), 0) + COALESCE(sum(completion_tokens), 0) AS tokens,
                   COALESCE(sum(cost_usd), 0) AS cost_usd
            FROM generations WHERE ${w.sql}
            GROUP BY COALESCE(purpose, 'answer') ORDER BY kind`,
      params: w.params,
    };
  },

  /** Time to first token and tokens per second per model and provider: p50, p90, p99. */
  latency(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range);
    const q = (column: string) =>
      `percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY ${column})`;
    return {
      sql: `SELECT model, provider, generations,
                   ttft[1] AS ttft_p50_ms, ttft[2] AS ttft_p90_ms, ttft[3] AS ttft_p99_ms,
                   tps[1] AS tps_p50, tps[2] AS tps_p90, tps[3] AS tps_p99
            FROM (SELECT model, COALESCE(provider, '') AS provider, count(*) AS generations,
                         ${q('time_to_first_token_ms')} AS ttft, ${q('tokens_per_second')} AS tps
                  FROM generations
                  WHERE ${w.sql} AND time_to_first_token_ms IS NOT NULL
                  GROUP BY model, COALESCE(provider, '')) t
            ORDER BY generations DESC, model, provider`,
      params: w.params,
    };
  },

  /** The conversations that cost most, with their title (and owner, for the whole server). */
  conversations(scope: UsageScope, range: UsageRange, limit: number): ReportQuery {
    const w = where(scope, range);
    const n = w.params.length + 1;
    return {
      // Grouped by conversation alone (a conversation has one owner, and the rows are the
      // scope's already): its title and owner come with the ten rows left. A temporary chat's
      // calls belong to no conversation (they count in the totals, under their kind).
      sql: `WITH top AS (
              SELECT conversation_id, count(*) AS generations,
                     COALESCE(sum(prompt_tokens), 0) + COALESCE(sum(completion_tokens), 0) AS tokens,
                     COALESCE(sum(cost_usd), 0) AS cost_usd
              FROM generations WHERE ${w.sql} AND conversation_id IS NOT NULL
              GROUP BY conversation_id
              ORDER BY cost_usd DESC, conversation_id LIMIT $${n})
            SELECT top.conversation_id, c.title, u.username, top.generations, top.tokens,
                   top.cost_usd
            FROM top
            LEFT JOIN conversations c ON c.id = top.conversation_id
            LEFT JOIN users u ON u.id = c.user_id
            ORDER BY top.cost_usd DESC, top.conversation_id`,
      params: [...w.params, limit],
    };
  },

  /** Failed calls per day, model and error code. */
  errors(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range);
    return {
      sql: `SELECT ${AS_DATE('day')} AS day, model, error_code, generations
            FROM (SELECT ${DAY} AS day, model, error_code, count(*) AS generations
                  FROM generations WHERE ${w.sql} AND error_code IS NOT NULL
                  GROUP BY ${DAY}, model, error_code) t
            ORDER BY day, model, error_code`,
      params: w.params,
    };
  },

  /**
   * The cost check: per day and model, what OpenRouter charged (the recorded cost, estimates
   * left out) next to the same tokens at the catalog's list price of that day.
   *
   * Joining every row to the price valid at its instant took 0.3–0.5 s on 2M rows, so rows are
   * summed per day and model first, and a sum is priced once, at the day's start: a price is
   * linear in the token counts, and it is the same all day unless a price of the model starts
   * or ends that day. The rows of those few days and models ("edges") are priced one by one.
   */
  prices(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range, 'g');
    const counted = `FILTER (WHERE g.usage_source <> 'estimate')`;
    return {
      sql: `WITH edges AS (
              SELECT model_id AS model, epoch_ms(valid_from) // 86400000 AS day FROM model_prices
              UNION
              SELECT model_id, epoch_ms(valid_to) // 86400000 FROM model_prices
              WHERE valid_to IS NOT NULL),
            whole AS (
              SELECT g.day, g.model, count(*) AS generations,
                     COALESCE(sum(g.cost_usd) ${counted}, 0) AS charged_usd,
                     count(*) ${counted} AS counted,
                     COALESCE(sum(COALESCE(g.prompt_tokens, 0) - COALESCE(g.cached_tokens, 0))
                       ${counted}, 0) AS uncached,
                     COALESCE(sum(COALESCE(g.cached_tokens, 0)) ${counted}, 0) AS cached,
                     COALESCE(sum(COALESCE(g.completion_tokens, 0) - COALESCE(g.reasoning_tokens, 0))
                       ${counted}, 0) AS output,
                     COALESCE(sum(COALESCE(g.reasoning_tokens, 0)) ${counted}, 0) AS reasoning
              FROM (SELECT ${DAY_OF_G} AS day, g.* FROM generations g
                    WHERE ${w.sql} AND g.usage_source IS NOT NULL) g
              LEFT JOIN edges e ON e.model = g.model AND e.day = g.day
              WHERE e.model IS NULL
              GROUP BY g.day, g.model),
            priced AS (
              SELECT w.day, w.model, w.generations, w.charged_usd,
                     COALESCE(p.request_price * w.counted + p.prompt_price * w.uncached
                       + COALESCE(p.cache_read_price, p.prompt_price) * w.cached
                       + p.completion_price * w.output
                       + COALESCE(p.reasoning_price, p.completion_price) * w.reasoning, 0)
                       AS list_price_usd,
                     CASE WHEN p.model_id IS NULL THEN w.generations ELSE 0 END AS unpriced
              FROM whole w LEFT JOIN model_prices p
                ON p.model_id = w.model AND p.valid_from <= to_timestamp(w.day * 86400)
                AND (p.valid_to IS NULL OR to_timestamp(w.day * 86400) < p.valid_to)
              UNION ALL
              SELECT g.day, g.model, count(*), COALESCE(sum(g.cost_usd) ${counted}, 0),
                     COALESCE(sum(${LIST_PRICE}) ${counted}, 0),
                     count(*) FILTER (WHERE p.model_id IS NULL)
              FROM (SELECT ${DAY_OF_G} AS day, g.* FROM generations g
                    WHERE ${w.sql} AND g.usage_source IS NOT NULL) g
              JOIN edges e ON e.model = g.model AND e.day = g.day
              LEFT JOIN model_prices p ON ${PRICE_AT}
              GROUP BY g.day, g.model)
            SELECT ${AS_DATE('day')} AS day, model, generations, charged_usd, list_price_usd,
                   charged_usd - list_price_usd AS difference_usd, unpriced
            FROM priced
            ORDER BY day, model`,
      params: w.params,
    };
  },

  /** Per user (the whole server's view). */
  users(range: UsageRange): ReportQuery {
    const w = where({ userId: null }, range);
    return {
      sql: `SELECT t.user_id, u.username, t.generations, t.tokens, t.cost_usd, t.errors
            FROM (SELECT user_id, count(*) AS generations,
                         COALESCE(sum(prompt_tokens), 0) + COALESCE(sum(completion_tokens), 0) AS tokens,
                         COALESCE(sum(cost_usd), 0) AS cost_usd,
                         count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
                  FROM generations WHERE ${w.sql} GROUP BY user_id) t
            LEFT JOIN users u ON u.id = t.user_id
            ORDER BY t.cost_usd DESC, u.username`,
      params: w.params,
    };
  },

  /** Every generation row behind the charts, for a download. */
  generations(scope: UsageScope, range: UsageRange): ReportQuery {
    const w = where(scope, range);
    return {
      sql: `SELECT id, created_at, user_id, conversation_id, COALESCE(purpose, 'answer') AS kind,
                   model, provider, prompt_tokens, completion_tokens, reasoning_tokens,
                   cached_tokens, cost_usd, usage_source,
                   COALESCE(usage_source = 'estimate', false) AS estimated,
                   time_to_first_token_ms, duration_ms, tokens_per_second, finish_reason,
                   error_code
            FROM generations WHERE ${w.sql}
            ORDER BY created_at, id`,
      params: w.params,
    };
  },
};

export interface KindTotalsRow {
  kind: string;
  generations: number;
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  estimated_cost_usd: number;
  errors: number;
}

export function createUsageRepo(db: Queryable) {
  return {
    /** Runs a report for JSON. */
    rows<T extends object>(query: ReportQuery): Promise<T[]> {
      return db.all<T>(query.sql, query.params);
    },

    /**
     * Writes a report's rows to `file` with DuckDB's COPY … TO (the query and the file name
     * are parameters). Runs on the reader connection: it only reads the database.
     */
    async copyTo(query: ReportQuery, file: string, format: 'csv' | 'parquet'): Promise<void> {
      const options = format === 'csv' ? 'FORMAT csv, HEADER' : 'FORMAT parquet';
      await db.all(`COPY (${query.sql}) TO $${query.params.length + 1} (${options})`, [
        ...query.params,
        file,
      ]);
    },

    /**
     * Totals over the range per kind (one scan serves the summary's totals, their sum, and its
     * table per kind).
     */
    async totalsByKind(scope: UsageScope, range: UsageRange): Promise<KindTotalsRow[]> {
      const w = where(scope, range);
      return db.all<KindTotalsRow>(
        `SELECT COALESCE(purpose, 'answer') AS kind, count(*) AS generations,
                COALESCE(sum(prompt_tokens), 0) AS prompt_tokens,
                COALESCE(sum(completion_tokens), 0) AS completion_tokens,
                COALESCE(sum(reasoning_tokens), 0) AS reasoning_tokens,
                COALESCE(sum(cached_tokens), 0) AS cached_tokens,
                COALESCE(sum(cost_usd), 0) AS cost_usd,
                COALESCE(sum(cost_usd) FILTER (WHERE usage_source = 'estimate'), 0)
                  AS estimated_cost_usd,
                count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
         FROM generations WHERE ${w.sql}
         GROUP BY COALESCE(purpose, 'answer') ORDER BY kind`,
        w.params,
      );
    },

    /** What today and this month cost (month start ≤ today start < end). */
    async todayAndMonth(
      scope: UsageScope,
      monthStart: string,
      todayStart: string,
      end: string,
    ): Promise<{
      today_usd: number;
      today_tokens: number;
      month_usd: number;
      month_tokens: number;
    }> {
      const w = where(scope, { from: monthStart, to: end });
      const n = w.params.length + 1;
      const row = await db.one<{
        today_usd: number;
        today_tokens: number;
        month_usd: number;
        month_tokens: number;
      }>(
        `SELECT COALESCE(sum(cost_usd) FILTER (WHERE created_at >= CAST($${n} AS TIMESTAMPTZ)), 0)
                  AS today_usd,
                COALESCE(sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0))
                  FILTER (WHERE created_at >= CAST($${n} AS TIMESTAMPTZ)), 0) AS today_tokens,
                COALESCE(sum(cost_usd), 0) AS month_usd,
                COALESCE(sum(COALESCE(prompt_tokens, 0) + COALESCE(completion_tokens, 0)), 0)
                  AS month_tokens
         FROM generations WHERE ${w.sql}`,
        [...w.params, todayStart],
      );
      return row!;
    },

    async userExists(userId: string): Promise<boolean> {
      return (await db.one('SELECT id FROM users WHERE id = $1', [userId])) !== undefined;
    },

    /** Every user, for the admin's selector. */
    async users(): Promise<Array<{ id: string; username: string }>> {
      return db.all<{ id: string; username: string }>(
        'SELECT id, username FROM users ORDER BY username',
      );
    },

    // The background fill (usage/fill.ts). Rows are matched by id alone: the id was minted by
    // this server's send for the signed-in user (see chat/repo.ts on why not `AND user_id`).

    /**
     * A generation's figures from OpenRouter's GET /generation: the token counts and cost it
     * reports replace the estimates; the provider is kept when the stream named one. Returns
     * the cost before and after, for the budget.
     */
    async applyStats(
      generationId: string,
      stats: UpstreamGenerationStats,
    ): Promise<{ before: number | null; after: number | null } | null> {
      const before = await db.one<{ cost_usd: number | null }>(
        'SELECT cost_usd FROM generations WHERE id = $1',
        [generationId],
      );
      if (before === undefined) return null;
      const after = await db.one<{ cost_usd: number | null }>(
        `UPDATE generations
         SET prompt_tokens = COALESCE(CAST($2 AS INTEGER), prompt_tokens),
             completion_tokens = COALESCE(CAST($3 AS INTEGER), completion_tokens),
             reasoning_tokens = COALESCE(CAST($4 AS INTEGER), reasoning_tokens),
             cached_tokens = COALESCE(CAST($5 AS INTEGER), cached_tokens),
             cost_usd = COALESCE(CAST($6 AS DOUBLE), cost_usd),
             provider = COALESCE(provider, CAST($7 AS TEXT)),
             usage_source = 'openrouter',
             tokens_per_second = CASE
               WHEN CAST($3 AS INTEGER) > 0 AND duration_ms > time_to_first_token_ms
               THEN CAST($3 AS INTEGER) * 1000.0 / (duration_ms - time_to_first_token_ms)
               ELSE tokens_per_second END
         WHERE id = $1
         RETURNING cost_usd`,
        [
          generationId,
          stats.promptTokens,
          stats.completionTokens,
          stats.reasoningTokens,
          stats.cachedTokens,
          stats.totalCost,
          stats.providerName,
        ],
      );
      return { before: before.cost_usd, after: after?.cost_usd ?? null };
    },

    /**
     * The estimate of a generation's cost from the catalog price of the day it ran, where it
     * has none; marked `estimate`. Returns the cost written, or null (none known, or the row
     * had one).
     */
    async applyEstimate(generationId: string): Promise<number | null> {
      const rows = await db.all<{ cost_usd: number | null }>(
        `UPDATE generations SET cost_usd = e.cost, usage_source = 'estimate'
         FROM (SELECT g.id, ${LIST_PRICE} AS cost
               FROM generations g JOIN model_prices p ON ${PRICE_AT}
               WHERE g.id = $1 AND g.cost_usd IS NULL) e
         WHERE generations.id = e.id
         RETURNING generations.cost_usd`,
        [generationId],
      );
      return rows[0]?.cost_usd ?? null;
    },

    /**
     * At start-up: estimated rows still without a cost (their fill was cut by a restart) get
     * the catalog price of their day. Returns how many.
     */
    async estimateMissingCosts(): Promise<number> {
      const rows = await db.all<{ id: string }>(
        `UPDATE generations SET cost_usd = e.cost
         FROM (SELECT g.id, ${LIST_PRICE} AS cost
               FROM generations g JOIN model_prices p ON ${PRICE_AT}
               WHERE g.usage_source = 'estimate' AND g.cost_usd IS NULL) e
         WHERE generations.id = e.id
         RETURNING generations.id`,
      );
      return rows.length;
    },
  };
}

export type UsageRepo = ReturnType<typeof createUsageRepo>;
