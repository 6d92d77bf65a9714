import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import type { AuditRecorder } from '../keys/service.js';
import { monthOf } from './month.js';
import { createBudgetsRepo, type UserLimitRow } from './repo.js';
import type { AdminBudgets, MyBudget } from './schemas.js';

export interface BudgetsDeps {
  db: Database;
  audit?: AuditRecorder;
  now?: () => Date;
}

/** Who changes a limit, for the audit log. */
export interface BudgetActor {
  userId: string;
  ip: string | null;
}

/** Users whose spend and limit are kept in memory at most (a send reads both). */
const MAX_CACHED_USERS = 10_000;

/**
 * Monthly spending limits in USD (a default, and per user) and the spend they are checked
 * against: the recorded cost of the user's generations started this calendar month (UTC).
 *
 * The check runs before every send, so it reads memory: each user's spend this month is read
 * from the database once, then kept and increased by `recordCost` as each answer is saved. A
 * read that raced a recorded cost is not kept (the next check reads again), so the total
 * never counts an answer twice nor misses one. Limits are cached too and dropped on change
 * (this process is the only writer).
 */
export function createBudgetsService(deps: BudgetsDeps) {
  const repo = createBudgetsRepo(deps.db);
  const now = deps.now ?? (() => new Date());
  const { audit } = deps;
  const spent = new Map<string, { month: string; total: number }>();
  /** Bumped per user by each recorded cost: a read of the spend that overlapped one is not kept. */
  const costsRecorded = new Map<string, number>();
  let defaultLimit: Promise<number | null> | null = null;
  const userLimits = new Map<string, Promise<UserLimitRow>>();

  function bounded<V>(map: Map<string, V>, key: string): void {
    if (map.size >= MAX_CACHED_USERS && !map.has(key)) map.clear();
  }

  async function spendThisMonth(userId: string, at: Date): Promise<number> {
    const month = monthOf(at);
    const cached = spent.get(userId);
    if (cached?.month === month.key) return cached.total;
    const before = costsRecorded.get(userId) ?? 0;
    const total = await repo.spend(userId, month.start, month.end);
    if ((costsRecorded.get(userId) ?? 0) === before) {
      bounded(spent, userId);
      spent.set(userId, { month: month.key, total });
    }
    return total;
  }

  function readDefault(): Promise<number | null> {
    defaultLimit ??= repo.defaultLimit().catch((error: unknown) => {
      defaultLimit = null;
      throw error;
    });
    return defaultLimit;
  }

  function readUserLimit(userId: string): Promise<UserLimitRow> {
    let limit = userLimits.get(userId);
    if (!limit) {
      limit = repo.userLimit(userId).catch((error: unknown) => {
        userLimits.delete(userId);
        throw error;
      });
      bounded(userLimits, userId);
      userLimits.set(userId, limit);
    }
    return limit;
  }

  /** The limit that applies to the user and where it comes from. */
  async function limitOf(
    userId: string,
  ): Promise<{ limitUsd: number | null; source: 'user' | 'default' }> {
    const own = await readUserLimit(userId);
    if (own.overridden) return { limitUsd: own.limitUsd, source: 'user' };
    return { limitUsd: await readDefault(), source: 'default' };
  }

  async function mine(userId: string): Promise<MyBudget> {
    const at = now();
    const month = monthOf(at);
    const [spentUsd, limit] = await Promise.all([spendThisMonth(userId, at), limitOf(userId)]);
    return {
      month: month.key,
      spentUsd,
      limitUsd: limit.limitUsd,
      source: limit.source,
      resetsAt: month.end,
    };
  }

  async function requireUser(userId: string): Promise<void> {
    if (!(await repo.userExists(userId))) throw new AppError('user.not_found');
  }

  return {
    mine,

    /**
     * Refuses a send (budget.exceeded) when the user's spend this month has reached their
     * limit, or when `reserveUsd` (what the send is known to cost at least, e.g. a comparison's
     * prompts) would take it past the limit. Returns the month the send counts in, for recordCost.
     */
    async admit(userId: string, reserveUsd = 0): Promise<string> {
      const budget = await mine(userId);
      if (budget.limitUsd !== null && budget.spentUsd >= budget.limitUsd) {
        throw new AppError(
          'budget.exceeded',
          `You have spent ${usd(budget.spentUsd)} of your ${usd(budget.limitUsd)} monthly limit. ` +
            `It resets on ${budget.resetsAt.slice(0, 10)} (UTC); an administrator can raise it.`,
        );
      }
      if (budget.limitUsd !== null && budget.spentUsd + reserveUsd > budget.limitUsd) {
        throw new AppError(
          'budget.exceeded',
          `This needs about ${usd(reserveUsd)} and ${usd(budget.limitUsd - budget.spentUsd)} ` +
            `of your ${usd(budget.limitUsd)} monthly limit is left. It resets on ` +
            `${budget.resetsAt.slice(0, 10)} (UTC); an administrator can raise it.`,
        );
      }
      return budget.month;
    },

    /** Adds an answer's cost, once it is saved, to the spend of the month it started in. */
    recordCost(userId: string, month: string, costUsd: number | null): void {
      if (costUsd === null || !Number.isFinite(costUsd) || costUsd === 0) return;
      costsRecorded.set(userId, (costsRecorded.get(userId) ?? 0) + 1);
      const cached = spent.get(userId);
      if (cached?.month === month) cached.total += costUsd;
    },

    async adminList(): Promise<AdminBudgets> {
      const month = monthOf(now());
      const [defaultLimitUsd, users, spend] = await Promise.all([
        readDefault(),
        repo.users(),
        repo.spendByUser(month.start, month.end),
      ]);
      return {
        month: month.key,
        resetsAt: month.end,
        defaultLimitUsd,
        users: users.map((u) => ({
          userId: u.userId,
          username: u.username,
          role: u.role === 'admin' ? 'admin' : 'user',
          ownLimit: u.overridden,
          limitUsd: u.overridden ? u.limitUsd : defaultLimitUsd,
          spentUsd: spend.get(u.userId) ?? 0,
        })),
      };
    },

    async setDefault(actor: BudgetActor, limitUsd: number | null): Promise<void> {
      const previous = await readDefault();
      await repo.setDefaultLimit(limitUsd, actor.userId, now().toISOString());
      defaultLimit = null;
      await audit?.record({
        actorId: actor.userId,
        action: 'budget.default_changed',
        detail: { from: previous, to: limitUsd },
        ip: actor.ip,
      });
    },

    async setUser(actor: BudgetActor, userId: string, limitUsd: number | null): Promise<void> {
      await requireUser(userId);
      const previous = await limitOf(userId);
      await repo.setUserLimit(userId, limitUsd, actor.userId, now().toISOString());
      userLimits.delete(userId);
      await audit?.record({
        actorId: actor.userId,
        action: 'budget.user_changed',
        targetUserId: userId,
        detail: { from: previous.limitUsd, fromSource: previous.source, to: limitUsd },
        ip: actor.ip,
      });
    },

    async clearUser(actor: BudgetActor, userId: string): Promise<void> {
      await requireUser(userId);
      const previous = await limitOf(userId);
      const cleared = await repo.clearUserLimit(userId);
      userLimits.delete(userId);
      if (!cleared) return;
      await audit?.record({
        actorId: actor.userId,
        action: 'budget.user_reset',
        targetUserId: userId,
        detail: { from: previous.limitUsd, to: 'default' },
        ip: actor.ip,
      });
    },
  };
}

export type BudgetsService = ReturnType<typeof createBudgetsService>;

/** $12.50, $0.0042: cents, or more digits for amounts below a cent. */
export function usd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return `$${amount.toPrecision(2)}`;
  return `$${amount.toFixed(2)}`;
}
