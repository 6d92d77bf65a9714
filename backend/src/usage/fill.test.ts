import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelsRepo } from '../models/repo.js';
import type { UpstreamModel } from '../openrouter/types.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, openSseRequest, postMessage, readEvents } from '../test-support/sse-client.js';
import { createUsageFiller } from './fill.js';

// Each generation row is complete: figures the stream lacked are filled in the background
// from OpenRouter's GET /generation (the fake's, with the real shape), or estimated from the
// catalog price of the day and marked so. The budget counts what was filled.

const SERVER_KEY = 'sk-or-test-key';

interface GenerationRow {
  id: string;
  upstream_id: string | null;
  model: string;
  provider: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  reasoning_tokens: number | null;
  cached_tokens: number | null;
  cost_usd: number | null;
  usage_source: string | null;
  tokens_per_second: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number | null;
  purpose: string | null;
}

let ctx: TestContext;
let admin: SignedInUser;

beforeAll(async () => {
  ctx = await startTestApp({ env: { TITLE_MODEL: 'fake/echo' } });
  admin = await setupAdmin(ctx.app);
  // The catalog (and so its prices) is fetched once.
  expect(
    (await ctx.app.inject({ url: '/api/models', headers: { cookie: admin.cookie } })).statusCode,
  ).toBe(200);
});
afterAll(() => ctx.close());

async function row(generationId: string): Promise<GenerationRow> {
  const found = await ctx.db.one<GenerationRow>(
    `SELECT id, upstream_id, model, provider, prompt_tokens, completion_tokens, reasoning_tokens,
            cached_tokens, cost_usd, usage_source, tokens_per_second, time_to_first_token_ms,
            duration_ms, purpose
     FROM generations WHERE id = $1`,
    [generationId],
  );
  return found!;
}

async function until(generationId: string, done: (r: GenerationRow) => boolean) {
  for (let i = 0; i < 200; i++) {
    const r = await row(generationId);
    if (done(r)) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(
    `generation ${generationId} never got there: ${JSON.stringify(await row(generationId))}`,
  );
}

/** What the fake's GET /generation says of a completion (with the server's key). */
async function upstreamStats(upstreamId: string) {
  const response = await fetch(`${ctx.fake.url}/generation?id=${upstreamId}`, {
    headers: { authorization: `Bearer ${SERVER_KEY}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: Record<string, number | string | boolean | null> })
    .data;
}

async function send(content: string, model = 'fake/echo') {
  const conversation = await createConversation(ctx.app, admin, { model });
  const events = await collect(postMessage(ctx.baseUrl, admin.cookie, conversation, { content }));
  expect(events.at(-1)?.event).toBe('done');
  return events.find((e) => e.event === 'assistant_message')!.data.generationId as string;
}

/**
 * The budget's spend this month (kept in memory, added to as costs are recorded) is the sum
 * of the recorded costs, once the title calls that follow first answers are done too.
 */
async function expectSpendMatchesRows(): Promise<number> {
  let spent = 0;
  let recorded = 0;
  for (let i = 0; i < 100; i++) {
    const response = await ctx.app.inject({
      url: '/api/budgets/me',
      headers: { cookie: admin.cookie },
    });
    spent = response.json().spentUsd as number;
    recorded =
      (
        await ctx.db.one<{ total: number | null }>(
          'SELECT SUM(cost_usd) AS total FROM generations WHERE user_id = $1',
          [admin.id],
        )
      )?.total ?? 0;
    if (Math.abs(spent - recorded) < 1e-12) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(spent).toBeCloseTo(recorded, 12);
  return spent;
}

describe('figures the stream lacked', () => {
  it('no usage chunk: estimated at once, then OpenRouter’s figures, and the budget counts them', async () => {
    await expectSpendMatchesRows();
    const id = await send('tell me a story [fake chunks=12 omitusage=1]');
    const filled = await until(id, (r) => r.usage_source === 'openrouter');
    const stats = await upstreamStats(filled.upstream_id!);
    expect(filled.cost_usd).toBe(stats.total_cost);
    expect(filled.prompt_tokens).toBe(stats.native_tokens_prompt);
    expect(filled.completion_tokens).toBe(12);
    expect(filled.reasoning_tokens).toBe(0);
    expect(filled.cached_tokens).toBe(0);
    expect(filled.provider).toBe('FakeProvider');
    expect(filled.tokens_per_second).toBeCloseTo(
      (12 * 1000) / (filled.duration_ms! - filled.time_to_first_token_ms!),
      6,
    );
    expect(await expectSpendMatchesRows()).toBeGreaterThanOrEqual(stats.total_cost as number);
  });

  it('a usage chunk without cost: the tokens stay, the cost is filled', async () => {
    const id = await send('what does it cost [fake chunks=5 omitcost=1]');
    const filled = await until(id, (r) => r.usage_source === 'openrouter');
    const stats = await upstreamStats(filled.upstream_id!);
    expect(filled.completion_tokens).toBe(5);
    expect(filled.cost_usd).toBe(stats.total_cost);
  });

  it('OpenRouter needs a moment (404 first): asked again until it knows', async () => {
    const id = await send('later please [fake chunks=3 omitusage=1 statsdelay=150]');
    const filled = await until(id, (r) => r.usage_source === 'openrouter');
    expect(filled.cost_usd).toBe((await upstreamStats(filled.upstream_id!)).total_cost);
    const asked = ctx.fake.requests.filter(
      (r) => r.path === '/api/v1/generation' && r.headers.authorization === `Bearer ${SERVER_KEY}`,
    );
    expect(asked.length).toBeGreaterThan(1);
  });

  it('a stopped answer: what was generated before the stop is charged and recorded', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    const connection = await openSseRequest(
      `${ctx.baseUrl}/api/conversations/${conversation}/messages`,
      {
        method: 'POST',
        cookie: admin.cookie,
        body: { content: 'go on [fake chunks=40 delay=25]' },
      },
    );
    let generationId = '';
    let deltas = 0;
    for await (const event of connection.events) {
      if (event.event === 'assistant_message') generationId = event.data.generationId as string;
      if (event.event === 'delta' && ++deltas === 4) {
        await ctx.app.inject({
          method: 'POST',
          url: `/api/generations/${generationId}/stop`,
          headers: { cookie: admin.cookie },
        });
      }
    }
    const filled = await until(generationId, (r) => r.usage_source === 'openrouter');
    const stats = await upstreamStats(filled.upstream_id!);
    expect(stats.cancelled).toBe(true);
    expect(filled.completion_tokens).toBe(stats.native_tokens_completion);
    expect(filled.completion_tokens).toBeGreaterThanOrEqual(4);
    expect(filled.completion_tokens).toBeLessThan(40);
    expect(filled.cost_usd).toBe(stats.total_cost);
  });

  it('OpenRouter never knows it: the tokens estimated from the text, the cost from the catalog price, marked estimate', async () => {
    const question = 'never tell [fake chunks=6 omitusage=1 statsdelay=600000]';
    const id = await send(question, 'openai/gpt-4o-mini');
    const estimated = await until(id, (r) => r.cost_usd !== null);
    expect(estimated.usage_source).toBe('estimate');
    // ceil(characters / 4) of what was sent and of the answer.
    const detail = (
      await ctx.app.inject({
        url: `/api/conversations/${(await ctx.db.one<{ conversation_id: string }>('SELECT conversation_id FROM generations WHERE id = $1', [id]))!.conversation_id}`,
        headers: { cookie: admin.cookie },
      })
    ).json();
    const answer = detail.messages.find((m: { role: string }) => m.role === 'assistant').content;
    expect(estimated.prompt_tokens).toBe(Math.ceil(question.length / 4));
    expect(estimated.completion_tokens).toBe(Math.ceil(answer.length / 4));
    // The fake catalog's prices of openai/gpt-4o-mini.
    const expected =
      estimated.prompt_tokens! * 0.00000015 + estimated.completion_tokens! * 0.0000006;
    expect(estimated.cost_usd).toBeCloseTo(expected, 15);
    await expectSpendMatchesRows();
  });

  it('a title call is a generation of its own kind, with its figures', async () => {
    const id = await send('name this conversation [fake chunks=2]');
    const answer = await row(id);
    let title: GenerationRow | undefined;
    for (let i = 0; i < 100 && !title; i++) {
      title = await ctx.db.one<GenerationRow>(
        `SELECT id, usage_source, cost_usd, purpose, tokens_per_second FROM generations
         WHERE purpose = 'title' AND message_id = (SELECT message_id FROM generations WHERE id = $1)`,
        [id],
      );
      if (!title) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(answer.purpose).toBe('answer');
    expect(title?.usage_source).toBe('stream');
    expect(title?.cost_usd).toBeGreaterThan(0);
    const summary = (
      await ctx.app.inject({ url: '/api/usage/summary', headers: { cookie: admin.cookie } })
    ).json();
    expect(summary.kinds.map((k: { kind: string }) => k.kind)).toEqual(['answer', 'title']);
  });

  it('regenerate and continue are generations of their own kinds', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'cut short [fake chunks=8 limit=3]',
      }),
    );
    const messages = (
      await ctx.app.inject({
        url: `/api/conversations/${conversation}`,
        headers: { cookie: admin.cookie },
      })
    ).json().messages as Array<{ id: string; role: string }>;
    const question = messages.find((m) => m.role === 'user')!;
    const answer = messages.find((m) => m.role === 'assistant')!;
    const answerRoute = async (path: string, body?: unknown) => {
      const response = await fetch(`${ctx.baseUrl}/api/conversations/${conversation}${path}`, {
        method: 'POST',
        headers: {
          cookie: admin.cookie,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(200);
      const events = await collect(readEvents(response.body!));
      expect(events.at(-1)?.event).toBe('done');
      return events.find((e) => e.event === 'assistant_message')!.data.generationId as string;
    };
    const continued = await answerRoute(`/messages/${answer.id}/continue`);
    const regenerated = await answerRoute(`/messages/${question.id}/regenerate`, {});
    expect((await row(continued)).purpose).toBe('continue');
    expect((await row(regenerated)).purpose).toBe('regenerate');
    const summary = (
      await ctx.app.inject({ url: '/api/usage/summary', headers: { cookie: admin.cookie } })
    ).json();
    expect(summary.kinds.map((k: { kind: string }) => k.kind)).toEqual(
      expect.arrayContaining(['answer', 'continue', 'regenerate', 'title']),
    );
  });

  it('at start-up, estimated rows left without a cost by a crash are priced from the catalog', async () => {
    const id = crypto.randomUUID();
    await ctx.db.run(
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, prompt_tokens,
         completion_tokens, reasoning_tokens, cached_tokens, created_at, usage_source)
       VALUES ($1, $2, $3, $4, 'anthropic/claude-3.5-haiku', 1000, 200, 0, 100,
               CAST($5 AS TIMESTAMPTZ), 'estimate')`,
      [id, crypto.randomUUID(), admin.id, crypto.randomUUID(), new Date().toISOString()],
    );
    const filler = createUsageFiller({ db: ctx.db, log: ctx.app.log });
    expect(await filler.recover()).toBe(1);
    const priced = await row(id);
    // (1000 − 100) prompt + 100 cached at the cache-read price + 200 completion.
    expect(priced.cost_usd).toBeCloseTo(900 * 0.0000008 + 100 * 0.00000008 + 200 * 0.000004, 15);
    expect(await filler.recover()).toBe(0);
    await filler.close();
  });
});

describe('model prices over time', () => {
  const model = (id: string, prompt: string, completion: string): UpstreamModel => ({
    id,
    name: id,
    description: '',
    contextLength: null,
    pricing: { prompt, completion, request: '0', inputCacheRead: '0.0000001' },
    inputModalities: ['text'],
    outputModalities: ['text'],
    supportedParameters: [],
    created: null,
  });
  const history = (id: string) =>
    ctx.db.all<{ valid_from: string; valid_to: string | null; prompt_price: number }>(
      'SELECT valid_from, valid_to, prompt_price FROM model_prices WHERE model_id = $1 ORDER BY valid_from',
      [id],
    );

  it('the catalog refresh records the prices it fetched', async () => {
    const rows = await ctx.db.all<{
      model_id: string;
      prompt_price: number;
      cache_read_price: number | null;
    }>(
      `SELECT model_id, prompt_price, cache_read_price FROM model_prices
       WHERE valid_to IS NULL AND model_id = 'openai/gpt-4o-mini'`,
    );
    expect(rows).toEqual([
      { model_id: 'openai/gpt-4o-mini', prompt_price: 0.00000015, cache_read_price: 0.000000075 },
    ]);
  });

  it('a refresh that finds a price changed closes the old row and opens a new one', async () => {
    const refresh = (models: UpstreamModel[], at: string) =>
      ctx.db.transaction((tx) => createModelsRepo(tx).recordPrices(models, at));
    await refresh(
      [model('test/a', '0.000001', '0.000002'), model('test/b', '0.000003', '0.000004')],
      '2026-01-01T00:00:00.000Z',
    );
    await refresh(
      [model('test/a', '0.000001', '0.000002'), model('test/b', '0.000003', '0.000004')],
      '2026-01-02T00:00:00.000Z',
    );
    expect(await history('test/a')).toEqual([
      { valid_from: '2026-01-01T00:00:00.000Z', valid_to: null, prompt_price: 0.000001 },
    ]);
    // a's price goes up; b leaves the catalog.
    await refresh([model('test/a', '0.000005', '0.000002')], '2026-01-03T00:00:00.000Z');
    expect(await history('test/a')).toEqual([
      {
        valid_from: '2026-01-01T00:00:00.000Z',
        valid_to: '2026-01-03T00:00:00.000Z',
        prompt_price: 0.000001,
      },
      { valid_from: '2026-01-03T00:00:00.000Z', valid_to: null, prompt_price: 0.000005 },
    ]);
    expect(await history('test/b')).toEqual([
      {
        valid_from: '2026-01-01T00:00:00.000Z',
        valid_to: '2026-01-03T00:00:00.000Z',
        prompt_price: 0.000003,
      },
    ]);
  });
});
