import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { AppError } from '../errors.js';
import { monthOf } from './month.js';
import { createBudgetsService, usd } from './service.js';

let dir: string;
let db: Database;
let clock: Date;
const userId = 'user-1';
const admin = { userId: 'admin-1', ip: null };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-budgets-test-'));
  db = await openDatabase(path.join(dir, 'app.db'));
  await migrate(db);
  await db.run(
    `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
     VALUES ($1, 'someone', 'x', 'user', now(), now())`,
    [userId],
  );
  clock = new Date('2026-03-31T23:59:00.000Z');
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function generation(cost: number, at: string): Promise<void> {
  await db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, cost_usd, created_at)
     VALUES ($1, $2, $3, 'c', 'm', $4, CAST($5 AS TIMESTAMPTZ))`,
    [crypto.randomUUID(), crypto.randomUUID(), userId, cost, at],
  );
}

async function refusal(promise: Promise<unknown>): Promise<AppError | null> {
  return promise.then(
    () => null,
    (error: unknown) => error as AppError,
  );
}

describe('the budget check of a send', () => {
  it('refuses at or past the limit, counting costs recorded after the first read', async () => {
    const budgets = createBudgetsService({ db, now: () => clock });
    await budgets.setUser(admin, userId, 1);
    await generation(0.6, '2026-03-10T00:00:00.000Z');

    const month = await budgets.admit(userId);
    expect(month).toBe('2026-03');
    // The answer is saved, then counted: the database and the running total agree.
    await generation(0.4, '2026-03-31T23:59:00.000Z');
    budgets.recordCost(userId, month, 0.4);
    const error = await refusal(budgets.admit(userId));
    expect(error?.code).toBe('budget.exceeded');
    expect(error?.status).toBe(402);
    expect(error?.message).toBe(
      'You have spent $1.00 of your $1.00 monthly limit. It resets on 2026-04-01 (UTC); an administrator can raise it.',
    );
    // A fresh service (a restart) reads the same total from the database.
    const restarted = createBudgetsService({ db, now: () => clock });
    expect((await restarted.mine(userId)).spentUsd).toBeCloseTo(1, 12);
  });

  it('starts again from zero when the UTC month changes', async () => {
    const budgets = createBudgetsService({ db, now: () => clock });
    await budgets.setDefault(admin, 0.5);
    await generation(0.5, '2026-03-31T23:58:00.000Z');
    expect((await refusal(budgets.admit(userId)))?.code).toBe('budget.exceeded');
    clock = new Date('2026-04-01T00:00:00.000Z');
    expect(await budgets.admit(userId)).toBe('2026-04');
    // A cost of March recorded in April does not count against April.
    budgets.recordCost(userId, '2026-03', 5);
    expect((await budgets.mine(userId)).spentUsd).toBe(0);
  });

  it('does not keep a read that raced a recorded cost (no double count)', async () => {
    const budgets = createBudgetsService({ db, now: () => clock });
    await generation(0.25, '2026-03-01T00:00:00.000Z');
    // A cost is recorded while the first read runs: that read may or may not have seen it,
    // so it must not be kept (had it been, the total would stay 0.25).
    const reading = budgets.mine(userId);
    budgets.recordCost(userId, '2026-03', 0.5);
    expect((await reading).spentUsd).toBe(0.25);
    await generation(0.5, '2026-03-02T00:00:00.000Z');
    // Whatever that read saw, the next one is exact.
    expect((await budgets.mine(userId)).spentUsd).toBeCloseTo(0.75, 12);
    budgets.recordCost(userId, '2026-03', 0.25);
    expect((await budgets.mine(userId)).spentUsd).toBeCloseTo(1, 12);
  });

  it('applies limit changes at once; a limit of 0 refuses every send', async () => {
    const budgets = createBudgetsService({ db, now: () => clock });
    await budgets.admit(userId);
    await budgets.setDefault(admin, 0);
    expect((await refusal(budgets.admit(userId)))?.code).toBe('budget.exceeded');
    await budgets.setUser(admin, userId, null);
    expect(await budgets.admit(userId)).toBe('2026-03');
    await budgets.clearUser(admin, userId);
    expect((await refusal(budgets.admit(userId)))?.code).toBe('budget.exceeded');
  });
});

describe('monthOf and usd', () => {
  it('bounds the UTC calendar month', () => {
    expect(monthOf(new Date('2026-12-31T23:59:59.999Z'))).toEqual({
      key: '2026-12',
      start: '2026-12-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
    });
  });

  it('shows cents, or two significant digits below a cent', () => {
    expect(usd(12.5)).toBe('$12.50');
    expect(usd(0)).toBe('$0.00');
    expect(usd(0.0042)).toBe('$0.0042');
  });
});
