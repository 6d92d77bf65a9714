import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { AuthUser } from '../auth/service.js';
import type { BudgetsService } from '../budgets/service.js';
import { monthOf } from '../budgets/month.js';
import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import { attachment } from '../transfer/filename.js';
import {
  createUsageRepo,
  reportQueries,
  type ReportQuery,
  type RollupView,
  type TotalsColumns,
  type UsageRange,
  type UsageScope,
} from './repo.js';
import type { UsageRollup } from './rollup/service.js';
import type {
  ConversationsUsage,
  DailyUsage,
  ErrorsUsage,
  ExportQuery,
  LatencyUsage,
  PricesUsage,
  UsageQuery,
  UsageSummary,
  UsersUsage,
} from './schemas.js';

const DAY_MS = 86_400_000;
/** The longest range a report covers, in days. */
const MAX_DAYS = 1100;
/** The range when none is given: the last 30 days, today included. */
const DEFAULT_DAYS = 30;

type Viewer = Pick<AuthUser, 'id' | 'role'>;

/** The reports that take a scope and a range only. */
type SimpleReport = 'daily' | 'kinds' | 'latency' | 'errors' | 'prices' | 'generations';

/** A resolved request: whose usage, over which UTC days ([from, to] → [from, to + 1 day)). */
interface Resolved {
  scope: UsageScope;
  username: string | null;
  days: { from: string; to: string };
  range: UsageRange;
  /** What the usage rollup holds (repo.ts, RollupView). */
  view: RollupView;
}

/** A file to send, deleted once sent (or once the response is gone). */
export interface UsageDownload {
  /** The Content-Disposition header. */
  contentDisposition: string;
  contentType: string;
  body: Readable;
}

/**
 * The usage page: reports over the generations table (repo.ts), scoped to the signed-in user,
 * or, for an admin, to another user or the whole server.
 */
export function createUsageService(deps: {
  db: Database;
  budgets: Pick<BudgetsService, 'mine'>;
  now?: () => Date;
  /** Refreshed in the background when a report finds it old (rollup/service.ts). */
  rollup?: Pick<UsageRollup, 'nudge'>;
}) {
  const repo = createUsageRepo(deps.db);
  const now = deps.now ?? (() => new Date());

  async function resolve(viewer: Viewer, query: UsageQuery): Promise<Resolved> {
    deps.rollup?.nudge();
    const today = dayOf(now());
    const toDay = query.to ?? today;
    const to = parseDay(toDay, 'to');
    const from =
      query.from === undefined ? to - (DEFAULT_DAYS - 1) * DAY_MS : parseDay(query.from, 'from');
    if (from > to) throw new AppError('request.invalid', '`from` must not be after `to`.');
    if ((to - from) / DAY_MS + 1 > MAX_DAYS) {
      throw new AppError('request.invalid', `A range covers at most ${MAX_DAYS} days.`);
    }
    let userId: string | null = viewer.id;
    if (query.user !== undefined && query.user !== viewer.id) {
      if (viewer.role !== 'admin') throw new AppError('auth.admin_only');
      if (query.user === 'all') userId = null;
      else if (await repo.userExists(query.user)) userId = query.user;
      else throw new AppError('user.not_found');
    }
    const [users, view] = await Promise.all([userId === null ? [] : repo.users(), repo.view()]);
    return {
      scope: { userId },
      username: users.find((u) => u.id === userId)?.username ?? null,
      days: { from: dayOf(new Date(from)), to: dayOf(new Date(to)) },
      range: { from: new Date(from).toISOString(), to: new Date(to + DAY_MS).toISOString() },
      view,
    };
  }

  const scopeOf = (r: Resolved) => ({
    userId: r.scope.userId,
    username: r.username,
    from: r.days.from,
    to: r.days.to,
  });

  /** A scoped report: its query's rows over the resolved range, each in the API's shape. */
  async function scopedReport<Row extends object, Out>(
    viewer: Viewer,
    query: UsageQuery,
    queryOf: (r: Resolved) => ReportQuery,
    shape: (row: Row) => Out,
  ): Promise<{ scope: ReturnType<typeof scopeOf>; rows: Out[] }> {
    const r = await resolve(viewer, query);
    const rows = await repo.rows<Row>(queryOf(r));
    return { scope: scopeOf(r), rows: rows.map(shape) };
  }

  return {
    async summary(viewer: Viewer, query: UsageQuery): Promise<UsageSummary> {
      const r = await resolve(viewer, query);
      const at = now();
      const month = monthOf(at);
      const todayStart = new Date(Date.parse(`${dayOf(at)}T00:00:00.000Z`));
      const [kinds, recent, budget] = await Promise.all([
        repo.totalsByKind(r.scope, r.range, r.view),
        repo.todayAndMonth(
          r.scope,
          r.view,
          month.start,
          todayStart.toISOString(),
          new Date(todayStart.getTime() + DAY_MS).toISOString(),
        ),
        r.scope.userId === null ? null : deps.budgets.mine(r.scope.userId),
      ]);
      const total = (pick: (k: (typeof kinds)[number]) => number) =>
        kinds.reduce((sum, k) => sum + pick(k), 0);
      return {
        scope: scopeOf(r),
        totals: {
          generations: total((k) => k.generations),
          promptTokens: total((k) => k.prompt_tokens),
          completionTokens: total((k) => k.completion_tokens),
          reasoningTokens: total((k) => k.reasoning_tokens),
          cachedTokens: total((k) => k.cached_tokens),
          costUsd: total((k) => k.cost_usd),
          estimatedCostUsd: total((k) => k.estimated_cost_usd),
          errors: total((k) => k.errors),
        },
        today: { day: dayOf(at), costUsd: recent.today_usd, tokens: recent.today_tokens },
        month: { month: month.key, costUsd: recent.month_usd, tokens: recent.month_tokens },
        budget:
          budget === null
            ? null
            : {
                limitUsd: budget.limitUsd,
                spentUsd: budget.spentUsd,
                leftUsd:
                  budget.limitUsd === null ? null : Math.max(0, budget.limitUsd - budget.spentUsd),
                resetsAt: budget.resetsAt,
              },
        kinds: kinds.map((k) => ({
          kind: k.kind,
          generations: k.generations,
          tokens: k.prompt_tokens + k.completion_tokens,
          costUsd: k.cost_usd,
        })),
      };
    },

    daily(viewer: Viewer, query: UsageQuery): Promise<DailyUsage> {
      return scopedReport(
        viewer,
        query,
        (r) => reportQueries.daily(r.scope, r.range, r.view),
        (row: TotalsColumns & { day: string; model: string }) => ({
          day: row.day.slice(0, 10),
          model: row.model,
          generations: row.generations,
          promptTokens: row.prompt_tokens,
          completionTokens: row.completion_tokens,
          reasoningTokens: row.reasoning_tokens,
          cachedTokens: row.cached_tokens,
          costUsd: row.cost_usd,
          estimatedCostUsd: row.estimated_cost_usd,
        }),
      );
    },

    latency(viewer: Viewer, query: UsageQuery): Promise<LatencyUsage> {
      return scopedReport(
        viewer,
        query,
        (r) => reportQueries.latency(r.scope, r.range, r.view),
        (row: {
          model: string;
          provider: string;
          generations: number;
          ttft_p50_ms: number;
          ttft_p90_ms: number;
          ttft_p99_ms: number;
          tps_p50: number | null;
          tps_p90: number | null;
          tps_p99: number | null;
        }) => ({
          model: row.model,
          provider: row.provider,
          generations: row.generations,
          ttftP50Ms: row.ttft_p50_ms,
          ttftP90Ms: row.ttft_p90_ms,
          ttftP99Ms: row.ttft_p99_ms,
          tpsP50: row.tps_p50,
          tpsP90: row.tps_p90,
          tpsP99: row.tps_p99,
        }),
      );
    },

    conversations(
      viewer: Viewer,
      query: UsageQuery & { limit: number },
    ): Promise<ConversationsUsage> {
      return scopedReport(
        viewer,
        query,
        (r) => reportQueries.conversations(r.scope, r.range, r.view, query.limit),
        (row: {
          conversation_id: string;
          title: string | null;
          username: string | null;
          generations: number;
          tokens: number;
          cost_usd: number;
        }) => ({
          conversationId: row.conversation_id,
          title: row.title,
          username: row.username,
          generations: row.generations,
          tokens: row.tokens,
          costUsd: row.cost_usd,
        }),
      );
    },

    errors(viewer: Viewer, query: UsageQuery): Promise<ErrorsUsage> {
      return scopedReport(
        viewer,
        query,
        (r) => reportQueries.errors(r.scope, r.range, r.view),
        (row: { day: string; model: string; error_code: string; generations: number }) => ({
          day: row.day.slice(0, 10),
          model: row.model,
          errorCode: row.error_code,
          generations: row.generations,
        }),
      );
    },

    prices(viewer: Viewer, query: UsageQuery): Promise<PricesUsage> {
      return scopedReport(
        viewer,
        query,
        (r) => reportQueries.prices(r.scope, r.range, r.view),
        (row: {
          day: string;
          model: string;
          generations: number;
          charged_usd: number;
          list_price_usd: number;
          difference_usd: number;
          unpriced: number;
        }) => ({
          day: row.day.slice(0, 10),
          model: row.model,
          generations: row.generations,
          chargedUsd: row.charged_usd,
          listPriceUsd: row.list_price_usd,
          differenceUsd: row.difference_usd,
          unpriced: row.unpriced,
        }),
      );
    },

    /** Every user's usage over the range, and every user (admins only: the route checks). */
    async users(viewer: Viewer, query: Omit<UsageQuery, 'user'>): Promise<UsersUsage> {
      const r = await resolve(viewer, { ...query, user: 'all' });
      const [rows, users] = await Promise.all([
        repo.rows<{
          user_id: string;
          username: string | null;
          generations: number;
          tokens: number;
          cost_usd: number;
          errors: number;
        }>(reportQueries.users(r.range, r.view)),
        repo.users(),
      ]);
      return {
        from: r.days.from,
        to: r.days.to,
        rows: rows.map((row) => ({
          userId: row.user_id,
          username: row.username,
          generations: row.generations,
          tokens: row.tokens,
          costUsd: row.cost_usd,
          errors: row.errors,
        })),
        users,
      };
    },

    /**
     * A report's rows as a CSV or Parquet file: DuckDB's COPY writes it to a temp file, which
     * is streamed and then deleted.
     */
    async download(viewer: Viewer, query: ExportQuery): Promise<UsageDownload> {
      if (query.report === 'users' && viewer.role !== 'admin') {
        throw new AppError('auth.admin_only');
      }
      const r = await resolve(viewer, query.report === 'users' ? { ...query, user: 'all' } : query);
      const { report: name } = query;
      const report =
        name === 'users'
          ? reportQueries.users(r.range, r.view)
          : name === 'conversations'
            ? reportQueries.conversations(r.scope, r.range, r.view, query.limit)
            : reportQueries[name as SimpleReport](r.scope, r.range, r.view);
      const file = path.join(tmpdir(), `ai-usage-${randomUUID()}.${query.format}`);
      try {
        await repo.copyTo(report, file, query.format);
      } catch (error) {
        await rm(file, { force: true });
        throw error;
      }
      const body = createReadStream(file);
      // Deleted once read to the end, or once the response is abandoned (the stream closes).
      body.on('close', () => void rm(file, { force: true }));
      const who = r.scope.userId === null ? 'all' : (r.username ?? 'user');
      return {
        contentDisposition: attachment(
          `usage-${query.report}-${who}-${r.days.from}-${r.days.to}`,
          query.format,
          `usage-${query.report}`,
        ),
        contentType:
          query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.apache.parquet',
        body,
      };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;

/** YYYY-MM-DD of an instant, in UTC. */
function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Midnight UTC of a YYYY-MM-DD day, as ms; request.invalid for a day that does not exist. */
function parseDay(day: string, name: string): number {
  const ms = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(ms) || dayOf(new Date(ms)) !== day) {
    throw new AppError('request.invalid', `\`${name}\` is not a day of the calendar.`);
  }
  return ms;
}
