import type { Queryable, SqlParam } from '../db/connection.js';
import type { UpstreamGenerationStats } from '../openrouter/types.js';
import { DAY_MS } from './rollup/days.js';
import {
  BUCKET_VALUE,
  DAILY_COLUMNS,
  conversationRowsOf,
  dailyRowsOf,
  latencyRowsOf,
  markIfClosed,
} from './rollup/repo.js';

/**
 * The usage page's SQL: plain aggregates over the generations table, parameterized, every one
 * filtered on a time range and, unless an admin asked for the whole server, on one user. The
 * closed days of a range are read from the rollup (rollup/repo.ts, migration 014): the same
 * sums, summed once.
 *
 * - Imported generations (transfer/) ran elsewhere: they are never this server's usage.
 * - Days are UTC days, as budgets' months are: `epoch_ms(created_at) // 86400000` (pure
 *   arithmetic; DuckDB's date_trunc and AT TIME ZONE go through ICU and took ~20 times as long
 *   on 2M rows). On PostgreSQL: `floor(extract(epoch FROM created_at) / 86400)`.
 * - Latency percentiles come from log-scale histograms, within 1 % of percentile_cont's
 *   (see `latency`).
 */

/** Whose usage: one user's, or (an admin's view) everyone's. */
export interface UsageScope {
  userId: string | null;
}

/** [from, to) as ISO instants: midnights (UTC), whole days. */
export interface UsageRange {
  from: string;
  to: string;
}

// A BIGINT day number (a cast to INTEGER per row doubled the grouping's time on 2M rows).
const DAY = `epoch_ms(created_at) // 86400000`;
const DAY_OF_G = `epoch_ms(g.created_at) // 86400000`;
/** The sums every totals report takes of the daily rows: counts, tokens, cost, estimated cost. */
const TOTALS = `sum(generations) AS generations, sum(prompt_tokens) AS prompt_tokens,
  sum(completion_tokens) AS completion_tokens, sum(reasoning_tokens) AS reasoning_tokens,
  sum(cached_tokens) AS cached_tokens, sum(cost_usd) AS cost_usd,
  COALESCE(sum(cost_usd) FILTER (WHERE source = 'estimate'), 0) AS estimated_cost_usd`;

/** The columns TOTALS makes, as read. */
export interface TotalsColumns {
  generations: number;
  prompt_tokens: number;
  completion_tokens: number;
  reasoning_tokens: number;
  cached_tokens: number;
  cost_usd: number;
  estimated_cost_usd: number;
}

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

/** A range's midnight as a day number; the reports cover whole UTC days only. */
function dayParam(instant: string): number {
  const ms = Date.parse(instant);
  if (!Number.isInteger(ms / DAY_MS)) throw new Error(`not a UTC midnight: ${instant}`);
  return ms / DAY_MS;
}

/** What the rollup holds, read just before a report (rollup/repo.ts, `view`). */
export interface RollupView {
  /** Days before it are summed in the rollup… */
  closedBefore: number;
  /** …but these, read raw until summed again. */
  dirty: readonly number[];
  /** The days a model's price starts or ends (the cost check prices their rows one by one). */
  edges: readonly number[];
}

/**
 * A report's row sets, each allocating its parameters as it is used. `all`: the generations
 * rows of the range (not imported, the user's unless the scope is all). `raw`: those of them
 * the rollup does not hold, two disjoint sets (open days; dirty days, when there are any).
 * `closed`: the rollup rows of the range's other days.
 *
 * The view is read by a statement of its own, so a refresh or a write may commit between it
 * and the report's. Either way each day is read whole from one side: a refresh only sums days
 * the view reads raw, and a change marks its day (raw) in its own transaction; a report that
 * read the view just before a change reads that day as it was just before the change. Passing
 * the view as parameters lets DuckDB skip row groups by day (the rollup tables are appended
 * in day order) instead of an anti-join per row (~10 ms per 1M rollup rows).
 */
function parts(scope: UsageScope, range: UsageRange, view: RollupView) {
  const params: SqlParam[] = [];
  const $ = (value: SqlParam, type = 'BIGINT') => {
    params.push(value);
    return `CAST($${params.length} AS ${type})`;
  };
  const from = dayParam(range.from);
  const to = dayParam(range.to);
  const user = (column: string) =>
    scope.userId === null ? '' : ` AND ${column} = ${$(scope.userId, 'TEXT')}`;
  /** Generations rows of days [first, last) (midnights, so zone maps skip the rest). */
  const rows = (first: number, last: number, a = '') =>
    `${a}created_at >= to_timestamp(${$(first)} * 86400)
     AND ${a}created_at < to_timestamp(${$(last)} * 86400)
     AND ${a}imported IS NOT TRUE${user(`${a}user_id`)}`;
  // [from, closedTo) is the rollup's (but its dirty days), [closedTo, to) the raw rows'.
  const closedTo = Math.max(from, Math.min(to, view.closedBefore));
  const dirty = view.dirty.filter((d) => d >= from && d < closedTo);
  // One list parameter, as a subquery: a join for any number of days (db/connection.ts);
  // an IN list of 365 days compared on every row of a year took 13 times as long.
  const list = () => `SELECT unnest(${$({ list: dirty, items: 'number' }, 'BIGINT[]')})`;
  return {
    params,
    param: $,
    get all() {
      return rows(from, to);
    },
    /**
     * `all` of the rows named `alias` that may be of a day a price starts or ends: those of
     * the view's edge days and of the open days (a catalog refresh adds prices at the time it
     * runs, so a price read after the view starts on an open day).
     */
    edgesAs(alias: string) {
      const windows = [
        ...view.edges.filter((d) => d >= from && d < closedTo).map((d) => [d, d + 1]),
        ...(closedTo < to ? [[closedTo, to]] : []),
      ];
      if (windows.length === 0) return `${rows(to, to, `${alias}.`)}`;
      return windows.map(([first, last]) => `(${rows(first!, last!, `${alias}.`)})`).join(' OR ');
    },
    get raw(): string[] {
      const open = closedTo < to ? [rows(closedTo, to)] : [];
      const changed = dirty.length > 0 ? [`${rows(from, closedTo)} AND ${DAY} IN (${list()})`] : [];
      // A set that selects nothing keeps the SQL's shape when both are empty.
      return open.length + changed.length > 0 ? [...open, ...changed] : [`${rows(to, to)}`];
    },
    get closed() {
      const skip = dirty.length > 0 ? ` AND day NOT IN (${list()})` : '';
      return `day >= ${$(from)} AND day < ${$(closedTo)}${skip}${user('user_id')}`;
    },
  };
}

/**
 * The range's rows in usage_daily's shape (rollup/repo.ts): the rollup's for its closed days,
 * summed from the generations for the others; with user_id for the per-user report.
 */
function dailyRows(scope: UsageScope, p: ReturnType<typeof parts>, withUser = false): string {
  const table = scope.userId === null && !withUser ? 'usage_daily_server' : 'usage_daily';
  // In dailyRowsOf's order: user_id after day.
  const columns = withUser ? DAILY_COLUMNS.replace('day, ', 'day, user_id, ') : DAILY_COLUMNS;
  return `(SELECT ${columns} FROM ${table} WHERE ${p.closed}
           UNION ALL ${p.raw.map((w) => dailyRowsOf(w, withUser)).join(' UNION ALL ')})`;
}

/** A report's SQL and parameters: run for JSON, or wrapped in COPY … TO for a download. */
export interface ReportQuery {
  sql: string;
  params: SqlParam[];
}

export type ReportName =
  'daily' | 'kinds' | 'latency' | 'conversations' | 'errors' | 'prices' | 'users' | 'generations';

/**
 * Each report's query. Column names are the CSV/Parquet headers (snake_case). Each adds up
 * the rollup's sums of the range's closed days and the same sums of its other days' rows.
 */
export const reportQueries = {
  /** Per day and model: generations, tokens, cost (and how much of it is estimated). */
  daily(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    return {
      sql: `SELECT ${AS_DATE('day')} AS day, model, generations, prompt_tokens, completion_tokens,
                   reasoning_tokens, cached_tokens, cost_usd, estimated_cost_usd
            FROM (SELECT day, model, ${TOTALS}
                  FROM ${dailyRows(scope, p)} r
                  GROUP BY day, model) t
            ORDER BY day, model`,
      params: p.params,
    };
  },

  /** Per kind (what the call was for: answer, regenerate, continue, compare, title). */
  kinds(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    return {
      sql: `SELECT kind, sum(generations) AS generations,
                   sum(prompt_tokens) + sum(completion_tokens) AS tokens,
                   sum(cost_usd) AS cost_usd
            FROM ${dailyRows(scope, p)} r
            GROUP BY kind ORDER BY kind`,
      params: p.params,
    };
  },

  /**
   * Time to first token and tokens per second per model and provider: p50, p90, p99, from
   * log-scale histograms (rollup/repo.ts, LATENCY_GAMMA): each within 1 % of the exact
   * percentile_cont. The whole server's closed days come from the rollup's histograms; one
   * user's rows are bucketed here (the rollup keeps no histogram per user).
   *
   * A percentile p of n values is percentile_cont's: the values of ranks floor(p(n−1)) and
   * ceil(p(n−1)) (0-based), interpolated; a rank's value is its bucket's.
   */
  latency(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    const buckets =
      scope.userId === null
        ? `SELECT model, provider, metric, bucket, generations FROM usage_latency_daily
           WHERE ${p.closed}
           UNION ALL SELECT model, provider, metric, bucket, generations
           FROM (${p.raw.map((w) => latencyRowsOf(w, false)).join(' UNION ALL ')}) r`
        : latencyRowsOf(p.all, false);
    const rank = (round: 'floor' | 'ceil') => `${round}(q.p * (c.total - 1))`;
    const at = (round: 'floor' | 'ceil') =>
      `max(c.value) FILTER (WHERE c.upto - c.n <= ${rank(round)} AND ${rank(round)} < c.upto)`;
    const pick = (metric: string, q: number) =>
      `max(value) FILTER (WHERE metric = '${metric}' AND p = ${q})`;
    return {
      sql: `WITH h AS (
              SELECT model, provider, metric, bucket, sum(generations) AS n
              FROM (${buckets}) b
              GROUP BY model, provider, metric, bucket),
            c AS (
              SELECT model, provider, metric, n, ${BUCKET_VALUE('bucket')} AS value,
                     sum(n) OVER (PARTITION BY model, provider, metric ORDER BY bucket
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
                     sum(n) OVER (PARTITION BY model, provider, metric) AS total
              FROM h),
            v AS (
              SELECT c.model, c.provider, c.metric, q.p, max(c.total) AS total,
                     ${at('floor')} AS low, ${at('ceil')} AS high,
                     max(q.p * (c.total - 1) - ${rank('floor')}) AS fraction
              FROM c CROSS JOIN (VALUES (CAST(0.5 AS DOUBLE)), (CAST(0.9 AS DOUBLE)),
                                        (CAST(0.99 AS DOUBLE))) q(p)
              GROUP BY c.model, c.provider, c.metric, q.p),
            r AS (
              SELECT model, provider, metric, p, total, low + fraction * (high - low) AS value
              FROM v)
            SELECT model, provider,
                   max(total) FILTER (WHERE metric = 'ttft') AS generations,
                   ${pick('ttft', 0.5)} AS ttft_p50_ms, ${pick('ttft', 0.9)} AS ttft_p90_ms,
                   ${pick('ttft', 0.99)} AS ttft_p99_ms,
                   ${pick('tps', 0.5)} AS tps_p50, ${pick('tps', 0.9)} AS tps_p90,
                   ${pick('tps', 0.99)} AS tps_p99
            FROM r
            GROUP BY model, provider
            ORDER BY generations DESC, model, provider`,
      params: p.params,
    };
  },

  /** The conversations that cost most, with their title (and owner, for the whole server). */
  conversations(
    scope: UsageScope,
    range: UsageRange,
    view: RollupView,
    limit: number,
  ): ReportQuery {
    const p = parts(scope, range, view);
    return {
      // Grouped by conversation alone (a conversation has one owner, and the rows are the
      // scope's already): its title and owner come with the ten rows left. The rollup's
      // closed days are grouped by the conversation's number, then named. A temporary chat's
      // calls belong to no conversation (they count in the totals, under their kind).
      sql: `WITH closed AS (
              SELECT k.conversation_id, t.generations, t.tokens, t.cost_usd
              FROM (SELECT conversation_key, sum(generations) AS generations,
                           sum(tokens) AS tokens, sum(cost_usd) AS cost_usd
                    FROM usage_conversation_daily WHERE ${p.closed}
                    GROUP BY conversation_key) t
              JOIN usage_conversation_keys k ON k.conversation_key = t.conversation_key),
            top AS (
              SELECT conversation_id, sum(generations) AS generations, sum(tokens) AS tokens,
                     sum(cost_usd) AS cost_usd
              FROM (SELECT * FROM closed
                    UNION ALL ${p.raw.map((w) => conversationRowsOf(w, false)).join(' UNION ALL ')}) u
              GROUP BY conversation_id
              ORDER BY cost_usd DESC, conversation_id LIMIT ${p.param(limit)})
            SELECT top.conversation_id, c.title, u.username, top.generations, top.tokens,
                   top.cost_usd
            FROM top
            LEFT JOIN conversations c ON c.id = top.conversation_id
            LEFT JOIN users u ON u.id = c.user_id
            ORDER BY top.cost_usd DESC, top.conversation_id`,
      params: p.params,
    };
  },

  /** Failed calls per day, model and error code. */
  errors(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    return {
      sql: `SELECT ${AS_DATE('day')} AS day, model, error_code, generations
            FROM (SELECT day, model, error_code, sum(generations) AS generations
                  FROM ${dailyRows(scope, p)} r WHERE error_code IS NOT NULL
                  GROUP BY day, model, error_code) t
            ORDER BY day, model, error_code`,
      params: p.params,
    };
  },

  /**
   * The cost check: per day and model, what OpenRouter charged (the recorded cost, estimates
   * left out) next to the same tokens at the catalog's list price of that day.
   *
   * A price is linear in the token counts, and it is the same all day unless a price of the
   * model starts or ends that day: so the day's token sums (rollup or raw) are priced once, at
   * the day's start. The rows of those few days and models ("edges") are priced one by one,
   * from the generations (a price change never makes the rollup stale: it holds no price).
   */
  prices(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    const recorded = `FILTER (WHERE r.source = 'recorded')`;
    const counted = `FILTER (WHERE g.usage_source <> 'estimate')`;
    return {
      sql: `WITH edges AS (
              SELECT model_id AS model, epoch_ms(valid_from) // 86400000 AS day FROM model_prices
              UNION
              SELECT model_id, epoch_ms(valid_to) // 86400000 FROM model_prices
              WHERE valid_to IS NOT NULL),
            whole AS (
              SELECT r.day, r.model, sum(r.generations) AS generations,
                     COALESCE(sum(r.cost_usd) ${recorded}, 0) AS charged_usd,
                     COALESCE(sum(r.generations) ${recorded}, 0) AS counted,
                     COALESCE(sum(r.prompt_tokens - r.cached_tokens) ${recorded}, 0) AS uncached,
                     COALESCE(sum(r.cached_tokens) ${recorded}, 0) AS cached,
                     COALESCE(sum(r.completion_tokens - r.reasoning_tokens) ${recorded}, 0)
                       AS output,
                     COALESCE(sum(r.reasoning_tokens) ${recorded}, 0) AS reasoning
              FROM ${dailyRows(scope, p)} r
              LEFT JOIN edges e ON e.model = r.model AND e.day = r.day
              WHERE r.source <> 'none' AND e.model IS NULL
              GROUP BY r.day, r.model),
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
                    WHERE (${p.edgesAs('g')}) AND g.usage_source IS NOT NULL) g
              JOIN edges e ON e.model = g.model AND e.day = g.day
              LEFT JOIN model_prices p ON ${PRICE_AT}
              GROUP BY g.day, g.model)
            SELECT ${AS_DATE('day')} AS day, model, generations, charged_usd, list_price_usd,
                   charged_usd - list_price_usd AS difference_usd, unpriced
            FROM priced
            ORDER BY day, model`,
      params: p.params,
    };
  },

  /** Per user (the whole server's view). */
  users(range: UsageRange, view: RollupView): ReportQuery {
    const scope = { userId: null };
    const p = parts(scope, range, view);
    return {
      sql: `SELECT t.user_id, u.username, t.generations, t.tokens, t.cost_usd, t.errors
            FROM (SELECT user_id, sum(generations) AS generations,
                         sum(prompt_tokens) + sum(completion_tokens) AS tokens,
                         sum(cost_usd) AS cost_usd,
                         COALESCE(sum(generations) FILTER (WHERE error_code IS NOT NULL), 0)
                           AS errors
                  FROM ${dailyRows(scope, p, true)} r GROUP BY user_id) t
            LEFT JOIN users u ON u.id = t.user_id
            ORDER BY t.cost_usd DESC, u.username`,
      params: p.params,
    };
  },

  /** Every generation row behind the charts, for a download. */
  generations(scope: UsageScope, range: UsageRange, view: RollupView): ReportQuery {
    const p = parts(scope, range, view);
    return {
      sql: `SELECT id, created_at, user_id, conversation_id, COALESCE(purpose, 'answer') AS kind,
                   model, provider, prompt_tokens, completion_tokens, reasoning_tokens,
                   cached_tokens, cost_usd, usage_source,
                   COALESCE(usage_source = 'estimate', false) AS estimated,
                   time_to_first_token_ms, duration_ms, tokens_per_second, finish_reason,
                   error_code
            FROM generations WHERE ${p.all}
            ORDER BY created_at, id`,
      params: p.params,
    };
  },
};

export interface KindTotalsRow extends TotalsColumns {
  kind: string;
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
    async totalsByKind(
      scope: UsageScope,
      range: UsageRange,
      view: RollupView,
    ): Promise<KindTotalsRow[]> {
      const p = parts(scope, range, view);
      return db.all<KindTotalsRow>(
        `SELECT kind, ${TOTALS},
                COALESCE(sum(generations) FILTER (WHERE error_code IS NOT NULL), 0) AS errors
         FROM ${dailyRows(scope, p)} r
         GROUP BY kind ORDER BY kind`,
        p.params,
      );
    },

    /** What today and this month cost (month start ≤ today start < end; midnights). */
    async todayAndMonth(
      scope: UsageScope,
      view: RollupView,
      monthStart: string,
      todayStart: string,
      end: string,
    ): Promise<{
      today_usd: number;
      today_tokens: number;
      month_usd: number;
      month_tokens: number;
    }> {
      const p = parts(scope, { from: monthStart, to: end }, view);
      const rows = dailyRows(scope, p);
      const today = p.param(dayParam(todayStart));
      const row = await db.one<{
        today_usd: number;
        today_tokens: number;
        month_usd: number;
        month_tokens: number;
      }>(
        `SELECT COALESCE(sum(cost_usd) FILTER (WHERE day >= ${today}), 0) AS today_usd,
                COALESCE(sum(prompt_tokens + completion_tokens) FILTER (WHERE day >= ${today}), 0)
                  AS today_tokens,
                COALESCE(sum(cost_usd), 0) AS month_usd,
                COALESCE(sum(prompt_tokens + completion_tokens), 0) AS month_tokens
         FROM ${rows} r`,
        p.params,
      );
      return row!;
    },

    /** What the rollup holds now (RollupView): read before each report. */
    async view(): Promise<RollupView> {
      const rows = await db.all<{ closed_before: number; kind: string | null; day: number | null }>(
        `SELECT s.closed_before, d.kind, d.day FROM usage_rollup_state s
         LEFT JOIN (SELECT DISTINCT 'dirty' AS kind, day FROM usage_dirty_days
                    UNION SELECT 'edge', epoch_ms(valid_from) // 86400000 FROM model_prices
                    UNION SELECT 'edge', epoch_ms(valid_to) // 86400000 FROM model_prices
                    WHERE valid_to IS NOT NULL) d ON true
         WHERE s.id = 1`,
      );
      const days = (kind: string) =>
        rows.flatMap((r) => (r.kind === kind && r.day !== null ? [Number(r.day)] : []));
      return {
        closedBefore: Number(rows[0]?.closed_before ?? 0),
        dirty: days('dirty'),
        edges: days('edge'),
      };
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
    // Run each in a transaction (fill.ts does): a row of an earlier day than today may be in
    // the usage rollup already, and its day is marked dirty with the change (rollup/repo.ts).

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
      const after = await db.one<{ cost_usd: number | null; created_at: string }>(
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
         RETURNING cost_usd, created_at`,
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
      if (after !== undefined) await markIfClosed(db, after.created_at);
      return { before: before.cost_usd, after: after?.cost_usd ?? null };
    },

    /**
     * The estimate of a generation's cost from the catalog price of the day it ran, where it
     * has none; marked `estimate`. Returns the cost written, or null (none known, or the row
     * had one).
     */
    async applyEstimate(generationId: string): Promise<number | null> {
      const rows = await db.all<{ cost_usd: number | null; created_at: string }>(
        `UPDATE generations SET cost_usd = e.cost, usage_source = 'estimate'
         FROM (SELECT g.id, ${LIST_PRICE} AS cost
               FROM generations g JOIN model_prices p ON ${PRICE_AT}
               WHERE g.id = $1 AND g.cost_usd IS NULL) e
         WHERE generations.id = e.id
         RETURNING generations.cost_usd, generations.created_at`,
        [generationId],
      );
      const row = rows[0];
      if (row !== undefined) await markIfClosed(db, row.created_at);
      return row?.cost_usd ?? null;
    },

    /**
     * At start-up: estimated rows still without a cost (their fill was cut by a restart) get
     * the catalog price of their day. Returns how many.
     */
    async estimateMissingCosts(): Promise<number> {
      await db.run(
        `INSERT INTO usage_dirty_days (day)
         SELECT DISTINCT ${DAY} FROM generations
         WHERE usage_source = 'estimate' AND cost_usd IS NULL AND imported IS NOT TRUE`,
      );
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
