import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatRepo, type FinishedGeneration } from '../../chat/repo.js';
import { startTestApp, type TestContext } from '../../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../../test-support/factories.js';
import { createUsageRepo } from '../repo.js';
import { DAY_MS, GRACE_MS, dayNumber, earlierDays } from './days.js';
import { markDays } from './repo.js';
import { createUsageRollup } from './service.js';

// The usage rollup (migration 014): every report is the same whether its closed days come
// from the rollup or from the raw rows, and stays so when rows of a closed day change (the
// background fill, a conversation or a user deleted, an answer across midnight); one user's
// reports hold their rows only. Rows span 40 days and today, with errors, estimates, imported
// rows, temporary chats and a price that changed at noon on a closed day.

const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku', 'fake/echo'];
const PROVIDERS = ['OpenAI', 'Anthropic', 'Fake'];
const KINDS = ['answer', 'answer', 'regenerate', 'continue', 'compare', 'title', 'temporary'];
const ERRORS = ['upstream.rate_limited', 'upstream.timeout'];

interface Row {
  id: string;
  userId: string;
  conversationId: string | null;
  model: string;
  prompt: number | null;
  completion: number | null;
  cached: number | null;
  cost: number | null;
  errorCode: string | null;
  createdAt: number;
  imported: boolean;
  source: 'stream' | 'estimate' | null;
}

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const now = Date.now();
const today = dayNumber(now) * DAY_MS;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const sum = (values: Array<number | null>) => values.reduce<number>((s, v) => s + (v ?? 0), 0);
/** The price of the mini model doubled at noon, 10 days ago. */
const changedAt = today - 10 * DAY_MS + DAY_MS / 2;

let ctx: TestContext;
let admin: SignedInUser;
let alice: SignedInUser;
let bob: SignedInUser;
let rows: Row[];
const conversations = new Map<string, string[]>();

async function insert(list: Row[]): Promise<void> {
  const next = random(11);
  for (const r of list) {
    const ttft = r.errorCode === null ? 50 + Math.floor(next() * 3000) : null;
    const duration = (ttft ?? 0) + 100 + Math.floor(next() * 20_000);
    await ctx.db.run(
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider,
         prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost_usd,
         time_to_first_token_ms, duration_ms, error_code, created_at, purpose, imported,
         usage_source, tokens_per_second)
       VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
         CAST($14 AS TIMESTAMPTZ), $15, $16, $17, $18)`,
      [
        r.id,
        r.userId,
        r.conversationId,
        r.model,
        r.errorCode === null ? PROVIDERS[MODELS.indexOf(r.model)]! : null,
        r.prompt,
        r.completion,
        r.completion === null ? null : Math.floor(r.completion * 0.2),
        r.cached,
        r.cost,
        ttft,
        duration,
        r.errorCode,
        new Date(r.createdAt).toISOString(),
        r.conversationId === null ? 'temporary' : KINDS[Math.floor(next() * 6)]!,
        r.imported,
        r.source,
        r.completion !== null && ttft !== null ? (r.completion * 1000) / (duration - ttft) : null,
      ],
    );
  }
  // Written behind the app's back: marked, as every writer of generations does.
  await markDays(
    ctx.db,
    list.map((r) => dayNumber(r.createdAt)),
  );
}

function makeRows(): Row[] {
  const next = random(3);
  const users = [admin.id, alice.id, bob.id];
  const out: Row[] = [];
  for (let i = 0; i < 700; i++) {
    const userId = users[Math.floor(next() * users.length)]!;
    const failed = next() < 0.1;
    const prompt = failed ? null : 10 + Math.floor(next() * 2000);
    const completion = failed ? null : 1 + Math.floor(next() * 800);
    const ids = conversations.get(userId)!;
    // 40 days back to now; a few on the noon of the price change's day, both sides of it.
    const at =
      i % 50 === 0
        ? changedAt + (next() < 0.5 ? -1 : 1) * Math.floor(next() * 3_600_000)
        : Math.min(now - 1000, today - 40 * DAY_MS + Math.floor(next() * 41 * DAY_MS));
    out.push({
      id: crypto.randomUUID(),
      userId,
      conversationId: next() < 0.05 ? null : ids[Math.floor(next() * ids.length)]!,
      model: MODELS[Math.floor(next() * MODELS.length)]!,
      prompt,
      completion,
      cached: prompt === null ? null : Math.floor(prompt * next() * 0.5),
      cost: failed ? null : Math.round(next() * 1e6) / 1e8,
      errorCode: failed ? ERRORS[Math.floor(next() * ERRORS.length)]! : null,
      createdAt: at,
      imported: next() < 0.05,
      source: failed ? null : next() < 0.1 ? 'estimate' : 'stream',
    });
  }
  return out;
}

async function get(user: SignedInUser, url: string) {
  const response = await ctx.app.inject({ method: 'GET', url, headers: { cookie: user.cookie } });
  expect(response.statusCode, url).toBe(200);
  return response.json();
}

const ranges = [
  `from=${iso(today - 40 * DAY_MS)}&to=${iso(today)}`,
  `from=${iso(today - 20 * DAY_MS)}&to=${iso(today - 3 * DAY_MS)}`,
];
const REPORTS = ['summary', 'daily', 'latency', 'conversations', 'errors', 'prices'];

/** Every report, for alice, bob, the whole server and alice seen by the admin. */
async function everyReport(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const range of ranges) {
    for (const report of REPORTS) {
      const q = `${range}${report === 'conversations' ? '&limit=100' : ''}`;
      out[`alice ${report} ${range}`] = await get(alice, `/api/usage/${report}?${q}`);
      out[`bob ${report} ${range}`] = await get(bob, `/api/usage/${report}?${q}`);
      out[`all ${report} ${range}`] = await get(admin, `/api/usage/${report}?${q}&user=all`);
      out[`admin/alice ${report} ${range}`] = await get(
        admin,
        `/api/usage/${report}?${q}&user=${alice.id}`,
      );
    }
    out[`users ${range}`] = await get(admin, `/api/admin/usage/users?${range}`);
  }
  return out;
}

/** Equal, integers exactly, other numbers to 1e-9 (sums of costs in another order). */
function same(got: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof got === 'number') {
    if (Number.isInteger(expected)) expect(got, path).toBe(expected);
    else
      expect(Math.abs(got - expected), path).toBeLessThanOrEqual(
        1e-9 * Math.max(1, Math.abs(expected)),
      );
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(got !== null && typeof got === 'object', path).toBe(true);
    const keys = Object.keys(expected);
    expect(Object.keys(got as object).sort(), path).toEqual(keys.sort());
    for (const key of keys)
      same(
        (got as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${path}.${key}`,
      );
    return;
  }
  expect(got, path).toEqual(expected);
}

async function state() {
  return ctx.db.one<{ closed_before: number; dirty: number; daily: number }>(
    `SELECT closed_before, (SELECT count(*) FROM usage_dirty_days) AS dirty,
            (SELECT count(*) FROM usage_daily) AS daily
     FROM usage_rollup_state`,
  );
}

const rollup = () => createUsageRollup({ db: ctx.db });

beforeAll(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  alice = await buildUser(ctx.app, ctx.db, 'alice');
  bob = await buildUser(ctx.app, ctx.db, 'bob');
  for (const user of [admin, alice, bob]) {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(await createConversation(ctx.app, user, { title: `${user.username} ${i}` }));
    conversations.set(user.id, ids);
  }
  rows = makeRows();
  await insert(rows);
  const prices: Array<[string, string, string | null, number, number]> = [
    [MODELS[0]!, '2020-01-01T00:00:00Z', new Date(changedAt).toISOString(), 0.000001, 0.000004],
    [MODELS[0]!, new Date(changedAt).toISOString(), null, 0.000002, 0.000008],
    [MODELS[1]!, '2020-01-01T00:00:00Z', null, 0.0000008, 0.000004],
  ];
  for (const [model, validFrom, validTo, prompt, completion] of prices) {
    await ctx.db.run(
      `INSERT INTO model_prices (model_id, valid_from, valid_to, prompt_price, completion_price,
         request_price, cache_read_price, reasoning_price)
       VALUES ($1, CAST($2 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ), $4, $5, 0, NULL, NULL)`,
      [model, validFrom, validTo, prompt, completion],
    );
  }
});
afterAll(() => ctx.close());

describe('the usage rollup', () => {
  it('answers every report as the raw rows do, and holds the closed days once refreshed', async () => {
    const before = await state();
    // The app's start closed the past days (empty then); the rows inserted since marked them.
    expect(before!.closed_before).toBe(dayNumber(Date.now() - GRACE_MS));
    expect(before!.dirty).toBeGreaterThan(0);
    const raw = await everyReport();

    await rollup().refresh();
    const after = await state();
    expect(after!.dirty).toBe(0);
    expect(after!.daily).toBeGreaterThan(0);
    same(await everyReport(), raw);

    // Against the rows themselves: the whole server's generations and cost per day and model.
    const daily = await get(admin, `/api/usage/daily?${ranges[0]}&user=all`);
    const kept = rows.filter((r) => !r.imported);
    for (const row of daily.rows) {
      const of = kept.filter((r) => iso(r.createdAt) === row.day && r.model === row.model);
      expect(row.generations).toBe(of.length);
      expect(row.costUsd).toBeCloseTo(sum(of.map((r) => r.cost)), 10);
    }
    expect(sum(daily.rows.map((r: { generations: number }) => r.generations))).toBe(kept.length);
    // One user's: hers only.
    const mine = await get(alice, `/api/usage/summary?${ranges[0]}`);
    expect(mine.totals.generations).toBe(kept.filter((r) => r.userId === alice.id).length);
  });

  it('prices the day of a mid-day price change row by row', async () => {
    await rollup().refresh();
    const body = await get(admin, `/api/usage/prices?${ranges[0]}&user=all`);
    const day = iso(changedAt);
    const row = body.rows.find(
      (r: { day: string; model: string }) => r.day === day && r.model === MODELS[0],
    );
    const of = rows.filter(
      (r) =>
        !r.imported && r.source === 'stream' && iso(r.createdAt) === day && r.model === MODELS[0],
    );
    expect(
      of.some((r) => r.createdAt < changedAt) && of.some((r) => r.createdAt >= changedAt),
    ).toBe(true);
    const list = sum(
      of.map((r) => {
        const [prompt, completion] =
          r.createdAt < changedAt ? [0.000001, 0.000004] : [0.000002, 0.000008];
        return r.prompt! * prompt + r.completion! * completion;
      }),
    );
    expect(row.listPriceUsd).toBeCloseTo(list, 12);
    expect(row.chargedUsd).toBeCloseTo(sum(of.map((r) => r.cost)), 12);
  });

  it('reads closed days from the rollup; a change marked dirty shows at once and after the refresh', async () => {
    await rollup().refresh();
    const closed = rows.find(
      (r) =>
        !r.imported && r.cost !== null && r.createdAt < today - 5 * DAY_MS && r.userId === bob.id,
    )!;
    const url = `/api/usage/summary?${ranges[0]}`;
    const cost = async () => (await get(bob, url)).totals.costUsd as number;
    const before = await cost();
    // Unmarked (as no writer of the app does): the rollup still answers that day.
    await ctx.db.run('UPDATE generations SET cost_usd = cost_usd + 1 WHERE id = $1', [closed.id]);
    expect(await cost()).toBeCloseTo(before, 10);
    await markDays(ctx.db, [dayNumber(closed.createdAt)]);
    expect(await cost()).toBeCloseTo(before + 1, 10);
    await rollup().refresh();
    expect(await cost()).toBeCloseTo(before + 1, 10);
    closed.cost! += 1;
  });

  it('the background fill of a closed day’s row marks its day', async () => {
    await rollup().refresh();
    const closed = rows.find(
      (r) => !r.imported && r.source === 'estimate' && r.createdAt < today - 2 * DAY_MS,
    )!;
    const owner = [admin, alice, bob].find((u) => u.id === closed.userId)!;
    const url = `/api/usage/summary?${ranges[0]}`;
    const before = (await get(owner, url)).totals;
    await ctx.db.transaction((tx) =>
      createUsageRepo(tx).applyStats(closed.id, {
        id: 'gen-x',
        model: null,
        providerName: null,
        totalCost: (closed.cost ?? 0) + 2,
        promptTokens: (closed.prompt ?? 0) + 5,
        completionTokens: null,
        reasoningTokens: null,
        cachedTokens: null,
        latencyMs: null,
        generationTimeMs: null,
        finishReason: null,
        cancelled: null,
      }),
    );
    expect((await state())!.dirty).toBeGreaterThan(0);
    const marked = await get(owner, url);
    expect(marked.totals.costUsd).toBeCloseTo(before.costUsd + 2, 10);
    expect(marked.totals.estimatedCostUsd).toBeCloseTo(
      before.estimatedCostUsd - (closed.cost ?? 0),
      10,
    );
    expect(marked.totals.promptTokens).toBe(before.promptTokens + 5);
    await rollup().refresh();
    same(await get(owner, url), marked);
    Object.assign(closed, {
      cost: (closed.cost ?? 0) + 2,
      prompt: (closed.prompt ?? 0) + 5,
      source: 'stream',
    });
  });

  it('a deleted conversation leaves every report at once; a deleted user’s rollup rows go with them', async () => {
    await rollup().refresh();
    const gone = conversations.get(alice.id)![0]!;
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${gone}`,
      headers: { cookie: alice.cookie },
    });
    expect(deleted.statusCode).toBe(204);
    rows = rows.filter((r) => r.conversationId !== gone);
    const count = async (user: SignedInUser | null) => {
      const body = await get(admin, `/api/usage/summary?${ranges[0]}&user=${user?.id ?? 'all'}`);
      return body.totals.generations as number;
    };
    const kept = (userId: string | null) =>
      rows.filter((r) => !r.imported && (userId === null || r.userId === userId)).length;
    expect(await count(alice)).toBe(kept(alice.id));
    expect(await count(null)).toBe(kept(null));
    const top = await get(admin, `/api/usage/conversations?${ranges[0]}&user=all&limit=100`);
    expect(top.rows.map((r: { conversationId: string }) => r.conversationId)).not.toContain(gone);
    const marked = await everyReport();
    await rollup().refresh();
    same(await everyReport(), marked);

    const removed = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/admin/users/${bob.id}`,
      headers: { cookie: admin.cookie },
    });
    expect(removed.statusCode).toBe(204);
    for (const table of ['usage_daily', 'usage_conversation_daily']) {
      const left = await ctx.db.one<{ n: number }>(
        `SELECT count(*) AS n FROM ${table} WHERE user_id = $1`,
        [bob.id],
      );
      expect(left!.n, table).toBe(0);
    }
    rows = rows.filter((r) => r.userId !== bob.id);
    expect(await count(null)).toBe(kept(null));
    const users = await get(admin, `/api/admin/usage/users?${ranges[0]}`);
    expect(users.rows.map((r: { userId: string }) => r.userId)).not.toContain(bob.id);
    const before = await get(admin, `/api/usage/daily?${ranges[0]}&user=all`);
    await rollup().refresh();
    same(await get(admin, `/api/usage/daily?${ranges[0]}&user=all`), before);
    expect(await count(null)).toBe(kept(null));
  });

  it('an answer that began before midnight marks the day before; others mark nothing', async () => {
    await rollup().refresh();
    const finished = (nowMs: number, durationMs: number): FinishedGeneration => ({
      userId: alice.id,
      messageId: null,
      generationId: crypto.randomUUID(),
      conversationId: null,
      content: '',
      reasoning: null,
      sources: null,
      status: 'complete',
      error: null,
      errorCode: null,
      upstreamId: null,
      provider: null,
      answeredModel: null,
      usage: null,
      usageSource: null,
      timeToFirstTokenMs: null,
      durationMs,
      finishReason: 'stop',
      now: new Date(nowMs).toISOString(),
    });
    const dirty = () =>
      ctx.db.all<{ day: number }>('SELECT day FROM usage_dirty_days ORDER BY day');
    await ctx.db.transaction((tx) =>
      createChatRepo(tx).finishAll([finished(today - DAY_MS / 2, 5000)]),
    );
    expect(await dirty()).toEqual([]);
    await ctx.db.transaction((tx) => createChatRepo(tx).finishAll([finished(today + 1000, 5000)]));
    expect(await dirty()).toEqual([{ day: dayNumber(today) - 1 }]);
    expect(earlierDays(today - 3 * DAY_MS, today + 1)).toEqual([
      dayNumber(today) - 3,
      dayNumber(today) - 2,
      dayNumber(today) - 1,
    ]);
  });
});
