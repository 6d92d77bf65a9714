import type { Queryable } from '../../db/connection.js';
import { valuesList } from '../../db/values.js';
import { dayNumber, dayOf } from './days.js';

/**
 * The usage rollup (migration 014): the generations of each closed UTC day summed once, in
 * the shapes the reports group by. Each shape is one SELECT over `generations`, used both to
 * fill the rollup and, over the days it does not hold, by the reports themselves
 * (usage/repo.ts): a day's figures are the same SELECT either way, so a report is the same
 * whichever of its days come from the rollup.
 *
 * Which days the rollup holds: those before `usage_rollup_state.closed_before`, except the
 * days in `usage_dirty_days`. Every writer of a generations row of an earlier day than its
 * own marks that day in the same transaction (see markDays and its callers); the refresh
 * (service.ts) sums dirty days again and closes the days past the grace (days.ts).
 */

/** A row's day: days since 1970-01-01, UTC (BIGINT; see usage/repo.ts). */
export const DAY = `epoch_ms(created_at) // 86400000`;

/** Where a row's figures came from, as the reports tell them apart. */
const SOURCE = `CASE WHEN usage_source IS NULL THEN 'none'
  WHEN usage_source = 'estimate' THEN 'estimate' ELSE 'recorded' END`;

/** usage_daily's value columns, in order. */
export const DAILY_COLUMNS = `day, model, kind, error_code, source, generations, prompt_tokens,
  completion_tokens, reasoning_tokens, cached_tokens, cost_usd`;

/**
 * usage_daily's rows (user_id after day when `withUser`) of the generations matching `where`.
 * Sums are cast to BIGINT: DuckDB's sum of INTEGER is a HUGEINT, ~30 times slower to add up.
 */
export function dailyRowsOf(where: string, withUser: boolean): string {
  const user = withUser ? 'user_id, ' : '';
  const kind = `COALESCE(purpose, 'answer')`;
  return `SELECT ${DAY} AS day, ${user}model, ${kind} AS kind, error_code, ${SOURCE} AS source,
            CAST(count(*) AS BIGINT) AS generations,
            CAST(COALESCE(sum(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
            CAST(COALESCE(sum(completion_tokens), 0) AS BIGINT) AS completion_tokens,
            CAST(COALESCE(sum(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens,
            CAST(COALESCE(sum(cached_tokens), 0) AS BIGINT) AS cached_tokens,
            COALESCE(sum(cost_usd), 0) AS cost_usd
          FROM generations WHERE ${where}
          GROUP BY ${DAY}, ${user}model, ${kind}, error_code, ${SOURCE}`;
}

/**
 * Latency histograms: log-scale buckets of ratio γ = 1.01 / 0.99. Bucket b holds the values
 * in (γ^(b-1), γ^b] and stands for 2γ^b / (γ + 1), which is within 1 % of every value in it
 * ((γ − 1) / (γ + 1) = 0.01). Values ≤ 0 go to a bucket whose value is 0 (γ^-1000000 = 0).
 * A percentile interpolated between two such values is within 1 % of the exact one.
 */
export const LATENCY_GAMMA = `(1.01 / 0.99)`;
const bucketOf = (x: string) =>
  `CASE WHEN ${x} > 0 THEN CAST(ceil(ln(${x}) / ln(${LATENCY_GAMMA})) AS INTEGER)
        ELSE -1000000 END`;
/** A bucket's value (see LATENCY_GAMMA). */
export const BUCKET_VALUE = (bucket: string) =>
  `2 * pow(${LATENCY_GAMMA}, ${bucket}) / (${LATENCY_GAMMA} + 1)`;

/**
 * usage_latency_daily's rows (without `day` unless `byDay`) of the generations matching
 * `where` that have a time to first token (the latency report's rows): one histogram of it
 * ('ttft'), one of tokens per second where known ('tps'). One scan of the rows for both (each
 * row paired with both metrics): two scans, one per metric, took twice as long.
 */
export function latencyRowsOf(where: string, byDay: boolean): string {
  const day = byDay ? `day, ` : '';
  return `SELECT ${day}model, provider, metric, bucket, CAST(count(*) AS BIGINT) AS generations
          FROM (SELECT ${byDay ? `${DAY} AS day, ` : ''}model,
                       COALESCE(provider, '') AS provider, m.metric,
                       CASE WHEN m.metric = 'ttft' THEN ${bucketOf('time_to_first_token_ms')}
                            WHEN tokens_per_second IS NOT NULL
                              THEN ${bucketOf('tokens_per_second')} END AS bucket
                FROM generations CROSS JOIN (VALUES ('ttft'), ('tps')) m(metric)
                WHERE ${where} AND time_to_first_token_ms IS NOT NULL) r
          WHERE bucket IS NOT NULL
          GROUP BY ${day}model, provider, metric, bucket`;
}

/** Per conversation (day and user too when `byDay`) of the generations matching `where`. */
export function conversationRowsOf(where: string, byDay: boolean): string {
  const day = byDay ? `${DAY} AS day, user_id, ` : '';
  const groupDay = byDay ? `${DAY}, user_id, ` : '';
  return `SELECT ${day}conversation_id, CAST(count(*) AS BIGINT) AS generations,
            CAST(COALESCE(sum(prompt_tokens), 0) + COALESCE(sum(completion_tokens), 0) AS BIGINT)
              AS tokens,
            COALESCE(sum(cost_usd), 0) AS cost_usd
          FROM generations WHERE ${where} AND conversation_id IS NOT NULL
          GROUP BY ${groupDay}conversation_id`;
}

/**
 * Marks days dirty: their generations changed after they may have been summed. Call it in
 * the transaction of the change.
 */
export async function markDays(db: Queryable, days: readonly number[]): Promise<void> {
  if (days.length === 0) return;
  const values = valuesList(
    ['BIGINT'],
    [...new Set(days)].map((d) => [d]),
  );
  await db.run(`INSERT INTO usage_dirty_days (day) VALUES ${values.sql}`, values.params);
}

/**
 * Marks the day of a row just changed when it is earlier than today (the wall clock's: the
 * one rows are stamped with), so may be in the rollup already (days.ts, GRACE_MS).
 */
export async function markIfClosed(db: Queryable, createdAt: string): Promise<void> {
  const day = dayOf(createdAt);
  if (day < dayNumber(Date.now())) await markDays(db, [day]);
}

/** Marks the days of a conversation's generations (before they are deleted). */
export async function markConversation(
  db: Queryable,
  userId: string,
  conversationId: string,
): Promise<void> {
  await db.run(
    `INSERT INTO usage_dirty_days (day)
     SELECT DISTINCT ${DAY} FROM generations
     WHERE conversation_id = $1 AND user_id = $2 AND imported IS NOT TRUE`,
    [conversationId, userId],
  );
}

/**
 * A user's usage leaves the rollup with them (before their generations are deleted): their
 * rows go at once, and their days are marked so the whole server's sums are made again.
 */
export async function forgetUser(db: Queryable, userId: string): Promise<void> {
  await db.run(
    `INSERT INTO usage_dirty_days (day)
     SELECT DISTINCT ${DAY} FROM generations WHERE user_id = $1 AND imported IS NOT TRUE`,
    [userId],
  );
  await db.run(
    `DELETE FROM usage_conversation_keys WHERE conversation_key IN
       (SELECT conversation_key FROM usage_conversation_daily WHERE user_id = $1)`,
    [userId],
  );
  await db.run('DELETE FROM usage_conversation_daily WHERE user_id = $1', [userId]);
  await db.run('DELETE FROM usage_daily WHERE user_id = $1', [userId]);
}

export function createRollupRepo(db: Queryable) {
  return {
    async state(): Promise<{ closedBefore: number; dirty: number }> {
      const row = await db.one<{ closed_before: number; dirty: number }>(
        `SELECT closed_before, (SELECT count(*) FROM usage_dirty_days) AS dirty
         FROM usage_rollup_state WHERE id = 1`,
      );
      return { closedBefore: Number(row!.closed_before), dirty: Number(row!.dirty) };
    },

    /** The first day at or after `from` and before `to` with a generation to sum, or null. */
    async firstDay(from: number, to: number): Promise<number | null> {
      const row = await db.one<{ day: number | null }>(
        `SELECT epoch_ms(min(created_at)) // 86400000 AS day FROM generations
         WHERE created_at >= to_timestamp(CAST($1 AS BIGINT) * 86400)
           AND created_at < to_timestamp(CAST($2 AS BIGINT) * 86400)
           AND imported IS NOT TRUE`,
        [from, to],
      );
      return row?.day === null || row?.day === undefined ? null : Number(row.day);
    },

    /**
     * Sums the days [from, to) and every dirty day before `to` again, clears the dirty marks
     * and records `to` as the first open day. Run it in a transaction (service.ts): the
     * writers mark days through the same queue, so none is marked meanwhile.
     */
    async sum(from: number, to: number): Promise<void> {
      const rows = `imported IS NOT TRUE
        AND created_at < to_timestamp(CAST($2 AS BIGINT) * 86400)
        AND (created_at >= to_timestamp(CAST($1 AS BIGINT) * 86400)
             OR ${DAY} IN (SELECT day FROM usage_dirty_days))`;
      const days = `day < $2 AND (day >= $1 OR day IN (SELECT day FROM usage_dirty_days))`;
      const params = [from, to];
      for (const table of [
        'usage_daily',
        'usage_daily_server',
        'usage_latency_daily',
        'usage_conversation_daily',
      ]) {
        await db.run(`DELETE FROM ${table} WHERE ${days}`, params);
      }
      await db.run(
        `INSERT INTO usage_daily (day, user_id, model, kind, error_code, source, generations,
           prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost_usd)
         ${dailyRowsOf(rows, true)}`,
        params,
      );
      await db.run(
        `INSERT INTO usage_daily_server (${DAILY_COLUMNS})
         SELECT day, model, kind, error_code, source, CAST(sum(generations) AS BIGINT),
                CAST(sum(prompt_tokens) AS BIGINT), CAST(sum(completion_tokens) AS BIGINT),
                CAST(sum(reasoning_tokens) AS BIGINT), CAST(sum(cached_tokens) AS BIGINT),
                sum(cost_usd)
         FROM usage_daily WHERE ${days}
         GROUP BY day, model, kind, error_code, source`,
        params,
      );
      await db.run(
        `INSERT INTO usage_latency_daily (day, model, provider, metric, bucket, generations)
         ${latencyRowsOf(rows, true)}`,
        params,
      );
      await db.run(
        `INSERT INTO usage_conversation_keys (conversation_id, conversation_key)
         SELECT conversation_id, nextval('usage_conversation_number')
         FROM (SELECT DISTINCT conversation_id FROM generations
               WHERE ${rows} AND conversation_id IS NOT NULL) c
         WHERE conversation_id NOT IN (SELECT conversation_id FROM usage_conversation_keys)`,
        params,
      );
      await db.run(
        `INSERT INTO usage_conversation_daily (day, user_id, conversation_key, generations,
           tokens, cost_usd)
         SELECT c.day, c.user_id, k.conversation_key, c.generations, c.tokens, c.cost_usd
         FROM (${conversationRowsOf(rows, true)}) c
         JOIN usage_conversation_keys k ON k.conversation_id = c.conversation_id`,
        params,
      );
      await db.run('DELETE FROM usage_dirty_days');
      // Never backwards (a second refresh that read an older state sums a superset again).
      await db.run(
        'UPDATE usage_rollup_state SET closed_before = greatest(closed_before, $1) WHERE id = 1',
        [to],
      );
    },
  };
}

export type RollupRepo = ReturnType<typeof createRollupRepo>;
