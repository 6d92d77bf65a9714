import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { markDays } from './rollup/repo.js';

// The usage reports against totals computed here, independently, from the rows this test
// inserts; each user sees only their own usage, an admin anyone's and the whole server's; the
// CSV and Parquet downloads parse back to the same rows.

const DAY = 86_400_000;
const MODELS = ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku', 'fake/echo'];
const PROVIDERS = ['OpenAI', 'Anthropic', 'Fake Turbo'];
const KINDS = ['answer', 'answer', 'answer', 'regenerate', 'continue', 'compare', 'title'];
const ERRORS = ['upstream.rate_limited', 'upstream.stream_error', 'upstream.timeout'];

interface Row {
  id: string;
  userId: string;
  conversationId: string;
  model: string;
  provider: string | null;
  prompt: number | null;
  completion: number | null;
  reasoning: number | null;
  cached: number | null;
  cost: number | null;
  ttft: number | null;
  duration: number;
  tps: number | null;
  errorCode: string | null;
  createdAt: Date;
  kind: string;
  imported: boolean;
  source: 'stream' | 'openrouter' | 'estimate' | null;
}

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10);
const sum = (values: Array<number | null>) => values.reduce<number>((s, v) => s + (v ?? 0), 0);

/** percentile_cont: linear interpolation between the two closest ranks. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = p * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

function makeRows(users: string[], conversations: Map<string, string[]>, today: number): Row[] {
  const next = random(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const rows: Row[] = [];
  for (let i = 0; i < 400; i++) {
    const userId = pick(users);
    const failed = next() < 0.1;
    const m = Math.floor(next() * MODELS.length);
    const prompt = failed ? null : 10 + Math.floor(next() * 2000);
    const completion = failed ? null : 1 + Math.floor(next() * 800);
    const ttft = failed ? null : 50 + Math.floor(next() * 3000);
    const duration = (ttft ?? 0) + 1 + Math.floor(next() * 20_000);
    // The last 12 days (2 of them before the range asked for below), today included.
    const createdAt = new Date(today - Math.floor(next() * 12) * DAY + Math.floor(next() * DAY));
    rows.push({
      id: crypto.randomUUID(),
      userId,
      conversationId: pick(conversations.get(userId)!),
      model: MODELS[m]!,
      provider: failed ? null : PROVIDERS[m]!,
      prompt,
      completion,
      reasoning: completion === null ? null : Math.floor(completion * next() * 0.3),
      cached: prompt === null ? null : Math.floor(prompt * next() * 0.5),
      cost: failed ? null : Math.round(next() * 1e6) / 1e8,
      ttft,
      duration,
      tps: completion !== null && ttft !== null ? (completion * 1000) / (duration - ttft) : null,
      errorCode: failed ? pick(ERRORS) : null,
      createdAt: createdAt.getTime() > Date.now() ? new Date(Date.now() - 1000) : createdAt,
      kind: pick(KINDS),
      imported: next() < 0.05,
      source: failed ? null : next() < 0.1 ? 'estimate' : 'stream',
    });
  }
  return rows;
}

async function insert(ctx: TestContext, rows: Row[]): Promise<void> {
  for (const r of rows) {
    await ctx.db.run(
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider,
         upstream_id, prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost_usd,
         time_to_first_token_ms, duration_ms, finish_reason, error_code, created_at, purpose,
         imported, usage_source, tokens_per_second)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
         CAST($17 AS TIMESTAMPTZ), $18, $19, $20, $21)`,
      [
        r.id,
        crypto.randomUUID(),
        r.userId,
        r.conversationId,
        r.model,
        r.provider,
        `gen-${r.id}`,
        r.prompt,
        r.completion,
        r.reasoning,
        r.cached,
        r.cost,
        r.ttft,
        r.duration,
        r.errorCode === null ? 'stop' : 'error',
        r.errorCode,
        r.createdAt.toISOString(),
        r.kind,
        r.imported,
        r.source,
        r.tps,
      ],
    );
  }
}

let ctx: TestContext;
let admin: SignedInUser;
let alice: SignedInUser;
let bob: SignedInUser;
let rows: Row[];
const today = Date.parse(`${dayOf(new Date())}T00:00:00.000Z`);
const from = dayOf(new Date(today - 9 * DAY));
const to = dayOf(new Date(today));
const range = `from=${from}&to=${to}`;
/** Rows a report over [from, to] of `userId` (null: all) covers. */
const covered = (userId: string | null) =>
  rows.filter(
    (r) =>
      !r.imported &&
      (userId === null || r.userId === userId) &&
      dayOf(r.createdAt) >= from &&
      dayOf(r.createdAt) <= to,
  );

async function get(user: SignedInUser, url: string) {
  const response = await ctx.app.inject({ method: 'GET', url, headers: { cookie: user.cookie } });
  return { status: response.statusCode, json: () => response.json(), response };
}

beforeAll(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  alice = await buildUser(ctx.app, ctx.db, 'alice');
  bob = await buildUser(ctx.app, ctx.db, 'bob');
  const conversations = new Map<string, string[]>();
  for (const user of [admin, alice, bob]) {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie: user.cookie },
        payload: { title: `${user.username} ${i}`, model: 'fake/echo' },
      });
      ids.push(response.json().id as string);
    }
    conversations.set(user.id, ids);
  }
  rows = makeRows([admin.id, alice.id, bob.id], conversations, today);
  await insert(ctx, rows);
  // Written behind the app's back, into days its usage rollup may have closed: marked, as
  // every writer of generations does (usage/rollup/repo.ts).
  await markDays(ctx.db, [...new Set(rows.map((r) => Math.floor(r.createdAt.getTime() / DAY)))]);
  // Prices: the mini model changed price five days ago; the others have one price throughout.
  const changed = new Date(today - 5 * DAY).toISOString();
  const prices: Array<[string, string, string | null, number, number, number | null]> = [
    [MODELS[0]!, '2020-01-01T00:00:00Z', changed, 0.000001, 0.000004, 0.0000005],
    [MODELS[0]!, changed, null, 0.000002, 0.000008, null],
    [MODELS[1]!, '2020-01-01T00:00:00Z', null, 0.0000008, 0.000004, 0.00000008],
  ];
  for (const [model, validFrom, validTo, prompt, completion, cacheRead] of prices) {
    await ctx.db.run(
      `INSERT INTO model_prices (model_id, valid_from, valid_to, prompt_price, completion_price,
         request_price, cache_read_price, reasoning_price)
       VALUES ($1, CAST($2 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ), $4, $5, 0, $6, NULL)`,
      [model, validFrom, validTo, prompt, completion, cacheRead],
    );
  }
});
afterAll(() => ctx.close());

describe('reports against totals computed from the inserted rows', () => {
  it('summary: totals over the range, today, this month, the budget left, per kind', async () => {
    await ctx.app.inject({
      method: 'PUT',
      url: `/api/admin/budgets/users/${alice.id}`,
      headers: { cookie: admin.cookie },
      payload: { monthlyLimitUsd: 5 },
    });
    const res = await get(alice, `/api/usage/summary?${range}`);
    expect(res.status).toBe(200);
    const body = res.json();
    const mine = covered(alice.id);
    expect(body.scope).toEqual({ userId: alice.id, username: 'alice', from, to });
    expect(body.totals.generations).toBe(mine.length);
    expect(body.totals.promptTokens).toBe(sum(mine.map((r) => r.prompt)));
    expect(body.totals.completionTokens).toBe(sum(mine.map((r) => r.completion)));
    expect(body.totals.reasoningTokens).toBe(sum(mine.map((r) => r.reasoning)));
    expect(body.totals.cachedTokens).toBe(sum(mine.map((r) => r.cached)));
    expect(body.totals.costUsd).toBeCloseTo(sum(mine.map((r) => r.cost)), 10);
    expect(body.totals.estimatedCostUsd).toBeCloseTo(
      sum(mine.filter((r) => r.source === 'estimate').map((r) => r.cost)),
      10,
    );
    expect(body.totals.errors).toBe(mine.filter((r) => r.errorCode !== null).length);

    const all = rows.filter((r) => r.userId === alice.id && !r.imported);
    const todays = all.filter((r) => dayOf(r.createdAt) === to);
    expect(body.today.day).toBe(to);
    expect(body.today.costUsd).toBeCloseTo(sum(todays.map((r) => r.cost)), 10);
    expect(body.today.tokens).toBe(sum(todays.flatMap((r) => [r.prompt, r.completion])));
    const month = to.slice(0, 7);
    const monthly = all.filter((r) => r.createdAt.toISOString().slice(0, 7) === month);
    expect(body.month).toEqual({
      month,
      costUsd: expect.closeTo(sum(monthly.map((r) => r.cost)), 10),
      tokens: sum(monthly.flatMap((r) => [r.prompt, r.completion])),
    });
    // The budget's spend is the month's (imported rows never count).
    expect(body.budget.limitUsd).toBe(5);
    expect(body.budget.spentUsd).toBeCloseTo(sum(monthly.map((r) => r.cost)), 10);
    expect(body.budget.leftUsd).toBeCloseTo(Math.max(0, 5 - body.budget.spentUsd), 10);

    const kinds = [...new Set(mine.map((r) => r.kind))].sort();
    expect(body.kinds.map((k: { kind: string }) => k.kind)).toEqual(kinds);
    for (const k of body.kinds) {
      const of = mine.filter((r) => r.kind === k.kind);
      expect(k.generations).toBe(of.length);
      expect(k.tokens).toBe(sum(of.flatMap((r) => [r.prompt, r.completion])));
      expect(k.costUsd).toBeCloseTo(sum(of.map((r) => r.cost)), 10);
    }
  });

  it('daily: per day and model', async () => {
    const body = (await get(bob, `/api/usage/daily?${range}`)).json();
    const mine = covered(bob.id);
    const expected = new Map<string, Row[]>();
    for (const r of mine) {
      const key = `${dayOf(r.createdAt)} ${r.model}`;
      expected.set(key, [...(expected.get(key) ?? []), r]);
    }
    expect(body.rows.map((r: { day: string; model: string }) => `${r.day} ${r.model}`)).toEqual(
      [...expected.keys()].sort(),
    );
    for (const row of body.rows) {
      const of = expected.get(`${row.day} ${row.model}`)!;
      expect(row.generations).toBe(of.length);
      expect(row.promptTokens).toBe(sum(of.map((r) => r.prompt)));
      expect(row.completionTokens).toBe(sum(of.map((r) => r.completion)));
      expect(row.reasoningTokens).toBe(sum(of.map((r) => r.reasoning)));
      expect(row.cachedTokens).toBe(sum(of.map((r) => r.cached)));
      expect(row.costUsd).toBeCloseTo(sum(of.map((r) => r.cost)), 10);
      expect(row.estimatedCostUsd).toBeCloseTo(
        sum(of.filter((r) => r.source === 'estimate').map((r) => r.cost)),
        10,
      );
    }
  });

  it('latency: p50, p90 and p99 of time to first token and tokens per second', async () => {
    const body = (await get(alice, `/api/usage/latency?${range}`)).json();
    const mine = covered(alice.id).filter((r) => r.ttft !== null);
    const groups = new Map<string, Row[]>();
    for (const r of mine) {
      const key = `${r.model}|${r.provider ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    expect(body.rows).toHaveLength(groups.size);
    for (const row of body.rows) {
      const of = groups.get(`${row.model}|${row.provider}`)!;
      const ttft = of.map((r) => r.ttft!);
      const tps = of.map((r) => r.tps!);
      expect(row.generations).toBe(of.length);
      // From log-scale histograms: within 1 % of the exact percentile (usage/repo.ts).
      const within = (got: number, exact: number) =>
        expect(Math.abs(got - exact)).toBeLessThanOrEqual(0.01 * Math.abs(exact) + 1e-9);
      within(row.ttftP50Ms, percentile(ttft, 0.5));
      within(row.ttftP90Ms, percentile(ttft, 0.9));
      within(row.ttftP99Ms, percentile(ttft, 0.99));
      within(row.tpsP50, percentile(tps, 0.5));
      within(row.tpsP90, percentile(tps, 0.9));
      within(row.tpsP99, percentile(tps, 0.99));
    }
  });

  it('conversations: the costliest first, with their titles', async () => {
    const body = (await get(alice, `/api/usage/conversations?${range}&limit=3`)).json();
    const byConversation = new Map<string, number>();
    for (const r of covered(alice.id))
      byConversation.set(
        r.conversationId,
        (byConversation.get(r.conversationId) ?? 0) + (r.cost ?? 0),
      );
    const expected = [...byConversation].sort((a, b) => b[1] - a[1]).slice(0, 3);
    expect(body.rows.map((r: { conversationId: string }) => r.conversationId)).toEqual(
      expected.map(([id]) => id),
    );
    for (const [i, row] of body.rows.entries()) {
      expect(row.costUsd).toBeCloseTo(expected[i]![1], 10);
      expect(row.title).toMatch(/^alice \d$/);
      expect(row.username).toBe('alice');
    }
  });

  it('a temporary chat’s calls count under their kind, in no conversation', async () => {
    const id = crypto.randomUUID();
    await ctx.db.run(
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, prompt_tokens,
         completion_tokens, cost_usd, created_at, purpose, usage_source)
       VALUES ($1, NULL, $2, NULL, 'fake/echo', 10, 20, 1.5, CAST($3 AS TIMESTAMPTZ),
               'temporary', 'stream')`,
      [id, bob.id, new Date().toISOString()],
    );
    try {
      const top = await get(bob, `/api/usage/conversations?${range}&limit=100`);
      expect(top.status).toBe(200);
      const ids = top.json().rows.map((r: { conversationId: string }) => r.conversationId);
      expect(ids).toEqual(
        [...new Set(covered(bob.id).map((r) => r.conversationId))].sort(
          (a, b) => ids.indexOf(a) - ids.indexOf(b),
        ),
      );
      const summary = (await get(bob, `/api/usage/summary?${range}`)).json();
      const temporary = summary.kinds.find((k: { kind: string }) => k.kind === 'temporary');
      expect(temporary).toEqual({ kind: 'temporary', generations: 1, tokens: 30, costUsd: 1.5 });
    } finally {
      await ctx.db.run('DELETE FROM generations WHERE id = $1', [id]);
    }
  });

  it('errors: per day, model and code', async () => {
    const body = (await get(admin, `/api/usage/errors?${range}&user=all`)).json();
    const failed = covered(null).filter((r) => r.errorCode !== null);
    const counts = new Map<string, number>();
    for (const r of failed) {
      const key = `${dayOf(r.createdAt)}|${r.model}|${r.errorCode}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const got = new Map<string, number>(
      body.rows.map((r: { day: string; model: string; errorCode: string; generations: number }) => [
        `${r.day}|${r.model}|${r.errorCode}`,
        r.generations,
      ]),
    );
    expect(got).toEqual(counts);
  });

  it('prices: what was charged next to the list price of each day', async () => {
    const body = (await get(admin, `/api/usage/prices?${range}&user=all`)).json();
    const changed = today - 5 * DAY;
    const priceOf = (r: Row) =>
      r.model === MODELS[0]
        ? r.createdAt.getTime() < changed
          ? { prompt: 0.000001, completion: 0.000004, cacheRead: 0.0000005 }
          : { prompt: 0.000002, completion: 0.000008, cacheRead: 0.000002 }
        : r.model === MODELS[1]
          ? { prompt: 0.0000008, completion: 0.000004, cacheRead: 0.00000008 }
          : null;
    const billed = covered(null).filter((r) => r.source !== null);
    for (const row of body.rows) {
      const of = billed.filter((r) => dayOf(r.createdAt) === row.day && r.model === row.model);
      const counted = of.filter((r) => r.source !== 'estimate');
      const list = sum(
        counted.map((r) => {
          const p = priceOf(r);
          if (p === null) return 0;
          return (
            (r.prompt! - r.cached!) * p.prompt +
            r.cached! * p.cacheRead +
            r.completion! * p.completion
          );
        }),
      );
      expect(row.generations).toBe(of.length);
      expect(row.chargedUsd).toBeCloseTo(sum(counted.map((r) => r.cost)), 10);
      expect(row.listPriceUsd).toBeCloseTo(list, 10);
      expect(row.differenceUsd).toBeCloseTo(row.chargedUsd - row.listPriceUsd, 10);
      expect(row.unpriced).toBe(of.filter((r) => priceOf(r) === null).length);
    }
    expect(sum(body.rows.map((r: { generations: number }) => r.generations))).toBe(billed.length);
  });
});

describe('scoping', () => {
  it('a user sees their own usage only, and no one else’s even by asking', async () => {
    const own = (await get(alice, `/api/usage/daily?${range}`)).json();
    expect(sum(own.rows.map((r: { generations: number }) => r.generations))).toBe(
      covered(alice.id).length,
    );
    for (const user of [bob.id, admin.id, 'all']) {
      for (const report of ['summary', 'daily', 'latency', 'conversations', 'errors', 'prices']) {
        const res = await get(alice, `/api/usage/${report}?${range}&user=${user}`);
        expect(res.status, `${report} ${user}`).toBe(403);
        expect(res.json().error.code).toBe('auth.admin_only');
      }
      const file = await get(alice, `/api/usage/export?report=generations&format=csv&user=${user}`);
      expect(file.status).toBe(403);
    }
    expect((await get(alice, `/api/admin/usage/users?${range}`)).status).toBe(403);
    const users = await get(alice, `/api/usage/export?report=users&format=csv`);
    expect(users.status).toBe(403);
    // Her own id is her own usage. (Costs to 1e-12: a background refresh of the usage rollup
    // between the two calls may sum the same costs in another order, changing the last bits.)
    const same = (await get(alice, `/api/usage/daily?${range}&user=${alice.id}`)).json();
    const dollars = (rows: Array<Record<string, unknown>>) =>
      rows.map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([key, value]) => [
            key,
            key.endsWith('Usd') && typeof value === 'number' ? Number(value.toFixed(12)) : value,
          ]),
        ),
      );
    expect(dollars(same.rows)).toEqual(dollars(own.rows));
  });

  it('an admin sees any user’s usage and the whole server’s', async () => {
    const ofBob = (await get(admin, `/api/usage/summary?${range}&user=${bob.id}`)).json();
    expect(ofBob.scope.username).toBe('bob');
    expect(ofBob.totals.generations).toBe(covered(bob.id).length);
    const all = (await get(admin, `/api/usage/summary?${range}&user=all`)).json();
    expect(all.scope.userId).toBeNull();
    expect(all.budget).toBeNull();
    expect(all.totals.generations).toBe(covered(null).length);
    expect(all.totals.costUsd).toBeCloseTo(sum(covered(null).map((r) => r.cost)), 10);
    const missing = await get(admin, `/api/usage/summary?user=${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);

    const users = (await get(admin, `/api/admin/usage/users?${range}`)).json();
    expect(users.users.map((u: { username: string }) => u.username)).toEqual([
      'admin',
      'alice',
      'bob',
    ]);
    for (const row of users.rows) {
      const of = covered(row.userId);
      expect(row.generations).toBe(of.length);
      expect(row.costUsd).toBeCloseTo(sum(of.map((r) => r.cost)), 10);
      expect(row.errors).toBe(of.filter((r) => r.errorCode !== null).length);
    }
  });

  it('refuses a range that is not one', async () => {
    for (const query of [
      'from=2026-02-30',
      `from=${to}&to=${from}`,
      'from=2020-01-01&to=2026-01-01',
      'from=yesterday',
    ]) {
      const res = await get(alice, `/api/usage/daily?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json().error.code).toBe('request.invalid');
    }
  });
});

/** RFC 4180 CSV: quoted fields, doubled quotes, commas and line breaks inside quotes. */
function parseCsv(text: string): Array<Record<string, string>> {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  const [header, ...body] = records;
  return body.map((values) => Object.fromEntries(header!.map((name, i) => [name, values[i]!])));
}

describe('downloads (DuckDB COPY … TO a temp file, streamed, then deleted)', () => {
  it('CSV and Parquet of the daily report hold the rows of its table', async () => {
    const table = (await get(bob, `/api/usage/daily?${range}`)).json().rows;
    const csv = await get(bob, `/api/usage/export?report=daily&format=csv&${range}`);
    expect(csv.status).toBe(200);
    expect(csv.response.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.response.headers['content-disposition']).toBe(
      `attachment; filename="usage-daily-bob-${from}-${to}.csv"`,
    );
    const parsed = parseCsv(csv.response.body);
    expect(parsed).toHaveLength(table.length);
    for (const [i, row] of parsed.entries()) {
      const expected = table[i];
      expect(row.day).toBe(expected.day);
      expect(row.model).toBe(expected.model);
      expect(Number(row.generations)).toBe(expected.generations);
      expect(Number(row.prompt_tokens)).toBe(expected.promptTokens);
      expect(Number(row.completion_tokens)).toBe(expected.completionTokens);
      expect(Number(row.cost_usd)).toBeCloseTo(expected.costUsd, 12);
    }

    const parquet = await ctx.app.inject({
      method: 'GET',
      url: `/api/usage/export?report=daily&format=parquet&${range}`,
      headers: { cookie: bob.cookie },
    });
    expect(parquet.statusCode).toBe(200);
    expect(parquet.headers['content-type']).toBe('application/vnd.apache.parquet');
    const bytes = parquet.rawPayload;
    const objects = await parquetReadObjects({ file: new Uint8Array(bytes).buffer });
    expect(objects).toHaveLength(table.length);
    for (const [i, row] of objects.entries()) {
      const expected = table[i];
      expect(dayOf(new Date(row.day as Date))).toBe(expected.day);
      expect(row.model).toBe(expected.model);
      expect(Number(row.generations)).toBe(expected.generations);
      expect(Number(row.prompt_tokens)).toBe(expected.promptTokens);
      expect(row.cost_usd as number).toBeCloseTo(expected.costUsd, 12);
    }
  });

  it('every generation row of the range, only the user’s, and no temp file left', async () => {
    const { tmpdir } = await import('node:os');
    const { readdir } = await import('node:fs/promises');
    const before = (await readdir(tmpdir())).filter((f) => f.startsWith('ai-usage-'));
    const csv = await get(alice, `/api/usage/export?report=generations&format=csv&${range}`);
    const parsed = parseCsv(csv.response.body);
    const mine = covered(alice.id);
    expect(parsed.map((r) => r.id).sort()).toEqual(mine.map((r) => r.id).sort());
    for (const row of parsed) {
      const r = mine.find((m) => m.id === row.id)!;
      expect(row.user_id).toBe(alice.id);
      expect(row.kind).toBe(r.kind);
      expect(row.estimated).toBe(String(r.source === 'estimate'));
      expect(row.cost_usd === '' ? null : Number(row.cost_usd)).toBe(r.cost);
      expect(row.error_code === '' ? null : row.error_code).toBe(r.errorCode);
    }
    const parquet = await ctx.app.inject({
      method: 'GET',
      url: `/api/usage/export?report=generations&format=parquet&${range}&user=all`,
      headers: { cookie: admin.cookie },
    });
    const bytes = parquet.rawPayload;
    const objects = await parquetReadObjects({ file: new Uint8Array(bytes).buffer });
    expect(objects.map((o) => o.id as string).sort()).toEqual(
      covered(null)
        .map((r) => r.id)
        .sort(),
    );
    // Each file is deleted once its stream closes (a moment after the response ends).
    let left: string[] = [];
    for (let i = 0; i < 100; i++) {
      const after = (await readdir(tmpdir())).filter((f) => f.startsWith('ai-usage-'));
      left = after.filter((f) => !before.includes(f));
      if (left.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(left).toEqual([]);
  });
});
