import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConversationCache } from '../conversations/cache.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import {
  collect,
  openSseRequest,
  postMessage,
  readEvents,
  streamedText,
  type ReceivedEvent,
} from '../test-support/sse-client.js';
import { createChatService } from './service.js';

let ctx: TestContext;
afterEach(() => ctx.close());

/** Log lines kept in memory, as the JSON text pino writes. */
function memoryLog() {
  const lines: string[] = [];
  return { stream: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
}

type History = Array<{ role: 'user' | 'assistant'; content: string }>;

/** POST /api/chat/temporary over a real socket: the status, and the events or the JSON body. */
async function temporary(user: SignedInUser, body: unknown) {
  const response = await fetch(`${ctx.baseUrl}/api/chat/temporary`, {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (response.status !== 200 || !response.body) {
    return { status: response.status, events: [] as ReceivedEvent[], json: await response.json() };
  }
  return { status: 200, events: await collect(readEvents(response.body)), json: null };
}

async function counts() {
  const row = await ctx.db.one<{ conversations: number; messages: number; generations: number }>(
    `SELECT (SELECT COUNT(*) FROM conversations)::INTEGER AS conversations,
            (SELECT COUNT(*) FROM messages)::INTEGER AS messages,
            (SELECT COUNT(*) FROM generations)::INTEGER AS generations`,
  );
  return row!;
}

interface GenerationRow {
  id: string;
  message_id: string | null;
  conversation_id: string | null;
  user_id: string;
  model: string;
  provider: string | null;
  purpose: string;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  time_to_first_token_ms: number | null;
  duration_ms: number | null;
  finish_reason: string | null;
  error_code: string | null;
}

const generationRow = (id: string) =>
  ctx.db.one<GenerationRow>(
    `SELECT id, message_id, conversation_id, user_id, model, provider, purpose, prompt_tokens,
            completion_tokens, cost_usd, time_to_first_token_ms, duration_ms, finish_reason,
            error_code
     FROM generations WHERE id = $1`,
    [id],
  );

const chatRequests = () => ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');

async function get(user: SignedInUser, url: string) {
  const response = await ctx.app.inject({ url, headers: { cookie: user.cookie } });
  expect(response.statusCode, response.body).toBe(200);
  return response;
}

describe('POST /api/chat/temporary', () => {
  it('streams the answer and stores none of it: only its generation row, which counts in the budget', async () => {
    const log = memoryLog();
    ctx = await startTestApp({ logger: { level: 'trace', stream: log.stream } });
    const alice = await setupAdmin(ctx.app, 'alice');
    const marker = `temporary-${crypto.randomUUID()}`;
    const before = await counts();
    const spentBefore = (await get(alice, '/api/budgets/me')).json().spentUsd as number;

    const history: History = [
      { role: 'user', content: `first ${marker}` },
      { role: 'assistant', content: `an earlier answer ${marker}` },
      { role: 'assistant', content: '' },
      { role: 'user', content: `Hello again ${marker}` },
    ];
    const { status, events } = await temporary(alice, { model: 'fake/echo', messages: history });
    expect(status).toBe(200);

    expect(events.map((e) => e.event)).toEqual([
      'assistant_message',
      ...events.filter((e) => e.event === 'delta').map(() => 'delta'),
      'usage',
      'done',
    ]);
    const started = events[0]!.data;
    expect(started).toMatchObject({ model: 'fake/echo' });
    expect(streamedText(events)).toContain(`You said: Hello again ${marker}`);
    const usage = events.find((e) => e.event === 'usage')!.data;
    expect(usage.cost).toBeGreaterThan(0);
    expect(events.at(-1)!.data).toMatchObject({
      messageId: started.messageId,
      status: 'complete',
      model: 'fake/echo',
    });

    // Upstream got the history the client holds, in order, the empty answer left out.
    expect(chatRequests().at(-1)?.body).toMatchObject({
      model: 'fake/echo',
      messages: [history[0], history[1], history[3]],
    });

    // Nothing stored: no conversation, no message; one generation row, of figures only.
    expect(await counts()).toEqual({ ...before, generations: before.generations + 1 });
    const row = await generationRow(started.generationId);
    expect(row).toMatchObject({
      user_id: alice.id,
      message_id: null,
      conversation_id: null,
      model: 'fake/echo',
      purpose: 'temporary',
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      cost_usd: usage.cost,
      finish_reason: 'stop',
      error_code: null,
    });
    expect(row?.provider).toEqual(expect.any(String));
    expect(row?.duration_ms).toEqual(expect.any(Number));
    expect(row?.time_to_first_token_ms).toEqual(expect.any(Number));

    // In no log line, not even at trace level.
    expect(log.text()).toContain('generation ended');
    expect(log.text()).not.toContain(marker);
    expect(log.text()).not.toContain('You said');

    // The cost counts in the budget.
    const spent = (await get(alice, '/api/budgets/me')).json().spentUsd as number;
    expect(spent).toBeCloseTo(spentBefore + usage.cost, 12);
    const adminList = (await get(alice, '/api/admin/budgets')).json();
    expect(adminList.users.find((u: { userId: string }) => u.userId === alice.id).spentUsd).toBe(
      spent,
    );

    // In no list, search or export.
    const list = (await get(alice, '/api/conversations')).json();
    expect(list.conversations).toEqual([]);
    const search = (await get(alice, `/api/search?q=${marker}`)).json();
    expect(search.results).toEqual([]);
    const archive = (await get(alice, '/api/export')).body;
    expect(archive).not.toContain(marker);

    // Nothing to reattach to, even while running: its own stream is its only reader.
    const reattach = await ctx.app.inject({
      url: `/api/generations/${started.generationId}/stream`,
      headers: { cookie: alice.cookie },
    });
    expect(reattach.statusCode).toBe(404);
  });

  it('streams the pages its answer cites, storing and logging none of them', async () => {
    const log = memoryLog();
    ctx = await startTestApp({ logger: { level: 'trace', stream: log.stream } });
    const alice = await setupAdmin(ctx.app, 'alice');
    // Short: the fake's page titles quote the question's first words.
    const marker = `cited-${crypto.randomUUID().slice(0, 8)}`;
    const before = await counts();

    const { status, events } = await temporary(alice, {
      model: 'fake/echo',
      messages: [{ role: 'user', content: `${marker} look it up [fake sources=2 chunks=8]` }],
    });
    expect(status).toBe(200);
    const sources = events.find((e) => e.event === 'sources')?.data.sources;
    expect(sources).toHaveLength(2);
    expect(sources[0]).toEqual({
      url: expect.stringMatching(/^https:\/\/search\.fake-openrouter\.test\//),
      title: expect.stringContaining(marker),
    });
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });

    // Its generation row only: the pages (their titles quote the question) are kept nowhere.
    expect(await counts()).toEqual({ ...before, generations: before.generations + 1 });
    expect(log.text()).toContain('generation ended');
    expect(log.text()).not.toContain(marker);
    expect(log.text()).not.toContain('search.fake-openrouter.test');
  });

  it('sends the fallback models and provider routing, with the user’s own key', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const ownKey = `sk-or-v1-alices-own-${crypto.randomUUID().replaceAll('-', '')}`;
    ctx.fake.setKey(ownKey, { limit: 10 });
    const saved = await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: alice.cookie },
      payload: { key: ownKey },
    });
    expect(saved.statusCode, saved.body).toBe(200);

    const { status, events } = await temporary(alice, {
      model: 'fake/error',
      fallbackModels: ['fake/echo'],
      providerRouting: { sort: 'price', dataCollection: 'deny' },
      messages: [{ role: 'user', content: 'route me' }],
    });
    expect(status).toBe(200);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { model: 'fake/echo' } });
    const sent = chatRequests().at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${ownKey}`);
    expect(sent.body).toMatchObject({
      model: 'fake/error',
      models: ['fake/echo'],
      provider: { sort: 'price', data_collection: 'deny' },
    });
    // The row names the model that answered.
    const row = await generationRow(events[0]!.data.generationId);
    expect(row).toMatchObject({ model: 'fake/echo', purpose: 'temporary' });
  });

  it('sends its system prompt first (logged nowhere) and the parameters the model supports', async () => {
    const log = memoryLog();
    ctx = await startTestApp({ logger: { level: 'trace', stream: log.stream } });
    const alice = await setupAdmin(ctx.app, 'alice');
    // The catalog (each model's supported_parameters), as the picker loads it.
    await get(alice, '/api/models');
    const marker = `prompt-${crypto.randomUUID()}`;
    const before = await counts();

    const { status, events } = await temporary(alice, {
      // Its catalog entry lists temperature, top_p and max_tokens, not reasoning.
      model: 'anthropic/claude-3.5-haiku',
      systemPrompt: `You are a terse pirate ${marker}.`,
      params: { temperature: 0.4, topP: 0.8, maxTokens: 300, reasoningEffort: 'high' },
      messages: [{ role: 'user', content: 'Ahoy?' }],
    });
    expect(status).toBe(200);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    const body = chatRequests().at(-1)?.body as Record<string, unknown>;
    expect(body.messages).toEqual([
      { role: 'system', content: `You are a terse pirate ${marker}.` },
      { role: 'user', content: 'Ahoy?' },
    ]);
    expect(body).toMatchObject({ temperature: 0.4, top_p: 0.8, max_tokens: 300 });
    expect(body).not.toHaveProperty('reasoning');

    // A blank prompt sends no system message; a bad parameter is refused before any call.
    await temporary(alice, {
      model: 'anthropic/claude-3.5-haiku',
      systemPrompt: '  ',
      messages: [{ role: 'user', content: 'Again?' }],
    });
    expect((chatRequests().at(-1)?.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: 'Again?' },
    ]);
    const calls = chatRequests().length;
    const refused = await temporary(alice, {
      model: 'anthropic/claude-3.5-haiku',
      params: { temperature: 3 },
      messages: [{ role: 'user', content: 'Too hot?' }],
    });
    expect(refused.status).toBe(400);
    expect(chatRequests()).toHaveLength(calls);

    // Stored nowhere but the two answers' generation rows, and in no log line.
    expect(await counts()).toEqual({ ...before, generations: before.generations + 2 });
    expect(log.text()).not.toContain(marker);
  });

  it('passes the same gate as a send: model allow-list, budget, rate limit', async () => {
    ctx = await startTestApp({ env: { CHAT_RATE_LIMIT_PER_MINUTE: '3' } });
    const admin = await setupAdmin(ctx.app, 'admin');
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const question = { messages: [{ role: 'user', content: 'hello' }] };
    const settings = await ctx.app.inject({
      method: 'PATCH',
      url: '/api/admin/settings',
      headers: { cookie: admin.cookie },
      payload: { allowedModels: ['fake/echo'] },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const upstreamBefore = chatRequests().length;

    const refused = await temporary(bob, { model: 'fake/slow', ...question });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('model.not_allowed');
    const fallback = await temporary(bob, {
      model: 'fake/echo',
      fallbackModels: ['fake/slow'],
      ...question,
    });
    expect(fallback.json.error.code).toBe('model.not_allowed');

    // A limit below one answer's cost: the first answer is let through, and its cost ends it.
    const limit = await ctx.app.inject({
      method: 'PUT',
      url: `/api/admin/budgets/users/${bob.id}`,
      headers: { cookie: admin.cookie },
      payload: { monthlyLimitUsd: 0.000001 },
    });
    expect(limit.statusCode, limit.body).toBe(200);
    const first = await temporary(bob, { model: 'fake/echo', ...question });
    expect(first.events.at(-1)?.event).toBe('done');
    const over = await temporary(bob, { model: 'fake/echo', ...question });
    expect(over.status).toBe(402);
    expect(over.json.error.code).toBe('budget.exceeded');
    expect(chatRequests().length).toBe(upstreamBefore + 1);

    // The rate limit counts conversation sends and temporary ones together.
    const conversation = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const sent = await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, { content: 'hello' }),
    );
    expect(sent.at(-1)?.event).toBe('done');
    expect((await temporary(admin, { model: 'fake/echo', ...question })).status).toBe(200);
    expect((await temporary(admin, { model: 'fake/echo', ...question })).status).toBe(200);
    const limited = await temporary(admin, { model: 'fake/echo', ...question });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('chat.rate_limited');
  });

  it('refuses bad input with a 4xx, writing nothing and calling nothing upstream', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const before = await counts();
    const upstreamBefore = ctx.fake.requests.length;
    const user = (content: string) => ({ role: 'user', content });
    const many = Array.from({ length: 201 }, (_, i) => user(`message ${i}`));
    const cases: Array<[unknown, number, string, string?]> = [
      [{ messages: [user('hi')] }, 400, 'request.invalid', 'model'],
      [{ model: 'fake/echo' }, 400, 'request.invalid', 'messages'],
      [{ model: 'fake/echo', messages: [] }, 400, 'request.invalid', 'messages'],
      [{ model: 'fake/echo', messages: many }, 400, 'request.invalid', 'messages'],
      [{ model: 'fake/echo', messages: [user('x'.repeat(200_001))] }, 400, 'request.invalid'],
      [
        { model: 'fake/echo', messages: [{ role: 'system', content: 'obey' }] },
        400,
        'request.invalid',
      ],
      [{ model: 'fake/echo', messages: [{ role: 'user' }] }, 400, 'request.invalid'],
      [{ model: 'fake/echo', messages: [user('a\u0000b')] }, 400, 'request.invalid'],
      [{ model: 'fake/echo', messages: [user('hi')], conversationId: 'x' }, 400, 'request.invalid'],
      [{ model: 'has spaces', messages: [user('hi')] }, 400, 'request.invalid', 'model'],
      [
        { model: 'fake/echo', messages: [user('hi')], fallbackModels: ['a', 'b', 'c', 'd'] },
        400,
        'request.invalid',
        'fallbackModels',
      ],
      [
        { model: 'fake/echo', messages: [user('hi')], providerRouting: { sort: 'cheapest' } },
        400,
        'request.invalid',
        'providerRouting',
      ],
      [
        { model: 'fake/echo', messages: [user('hi'), { role: 'assistant', content: 'answer' }] },
        400,
        'temporary.no_question',
      ],
      [{ model: 'fake/echo', messages: [user('')] }, 400, 'temporary.no_question'],
      ['{"model": "fake/echo", "messages": [', 400, 'request.invalid'],
      [
        // 20 messages of 150,000 characters: over the 2 MiB body limit.
        {
          model: 'fake/echo',
          messages: Array.from({ length: 20 }, () => user('y'.repeat(150_000))),
        },
        413,
        'request.too_large',
      ],
    ];
    for (const [body, status, code, field] of cases) {
      const what = typeof body === 'string' ? body : JSON.stringify(body).slice(0, 120);
      const answer = await temporary(alice, body);
      expect(answer.status, what).toBe(status);
      expect(answer.json.error.code, what).toBe(code);
      expect(answer.json.error.message, what).toEqual(expect.any(String));
      if (field) expect(answer.json.error.message, what).toContain(field);
    }
    expect(await counts()).toEqual(before);
    expect(ctx.fake.requests.length).toBe(upstreamBefore);

    const anonymous = await fetch(`${ctx.baseUrl}/api/chat/temporary`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake/echo', messages: [user('hi')] }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('stops on its owner’s stop only; the row keeps what was used', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const stream = await openSseRequest(`${ctx.baseUrl}/api/chat/temporary`, {
      method: 'POST',
      cookie: alice.cookie,
      body: {
        model: 'fake/slow',
        messages: [{ role: 'user', content: 'a long one [fake chunks=200 delay=30]' }],
      },
    });
    expect(stream.status).toBe(200);
    const events: ReceivedEvent[] = [];
    const reader = stream.events[Symbol.asyncIterator]();
    while (events.filter((e) => e.event === 'delta').length < 2) {
      const next = await reader.next();
      if (next.done) throw new Error('the answer ended early');
      events.push(next.value);
    }
    const { generationId } = events[0]!.data;

    const stopAs = (user: SignedInUser) =>
      ctx.app.inject({
        method: 'POST',
        url: `/api/generations/${generationId}/stop`,
        headers: { cookie: user.cookie },
      });
    const refused = await stopAs(bob);
    expect(refused.statusCode).toBe(404);
    expect(refused.json().error.code).toBe('generation.not_found');
    const reattach = await ctx.app.inject({
      url: `/api/generations/${generationId}/stream`,
      headers: { cookie: bob.cookie },
    });
    expect(reattach.statusCode).toBe(404);

    const stopped = await stopAs(alice);
    expect(stopped.statusCode, stopped.body).toBe(200);
    for (;;) {
      const next = await reader.next();
      if (next.done) break;
      events.push(next.value);
    }
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    expect((await ctx.fake.waitForStreamClosed(0, 2000)).chunksSent).toBeLessThan(100);
    const row = await generationRow(generationId);
    expect(row).toMatchObject({ purpose: 'temporary', message_id: null, error_code: null });
    expect(row?.duration_ms).toEqual(expect.any(Number));
    expect(await ctx.db.all('SELECT id FROM messages')).toEqual([]);
  });

  it('is stopped when its client goes away: nobody else can read it', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const stream = await openSseRequest(`${ctx.baseUrl}/api/chat/temporary`, {
      method: 'POST',
      cookie: alice.cookie,
      body: {
        model: 'fake/slow',
        messages: [{ role: 'user', content: 'the tab will close [fake chunks=300 delay=30]' }],
      },
    });
    const reader = stream.events[Symbol.asyncIterator]();
    const first = await reader.next();
    const { generationId } = first.value.data;
    await reader.next();
    stream.close();

    // The upstream call is closed long before its 9 s, and the row holds its figures.
    const closed = await ctx.fake.waitForStreamClosed(0, 3000);
    expect(closed.chunksSent).toBeLessThan(150);
    await expect
      .poll(async () => (await generationRow(generationId))?.duration_ms ?? null)
      .toEqual(expect.any(Number));
  });

  it('tells the client an upstream error readably', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const { status, events } = await temporary(alice, {
      model: 'fake/error',
      messages: [{ role: 'user', content: 'fail please [fake status=402]' }],
    });
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(['assistant_message', 'error']);
    const error = events[1]!.data;
    expect(error.code).toBe('upstream.insufficient_credits');
    expect(error.message).toMatch(/credits/i);
    expect(await generationRow(events[0]!.data.generationId)).toMatchObject({
      purpose: 'temporary',
      error_code: 'upstream.insufficient_credits',
    });
    expect(await ctx.db.all('SELECT id FROM messages')).toEqual([]);
  });

  it('never touches the conversation cache', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const touched: string[] = [];
    const cache = new Proxy(new ConversationCache(), {
      get(target, property, receiver) {
        touched.push(String(property));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const chat = createChatService({
      db: ctx.db,
      openrouter: createOpenRouterClient({ baseUrl: ctx.fake.url, apiKey: 'sk-or-test-key' }),
      log: pino({ level: 'silent' }),
      cache,
    });
    const generation = await chat.sendTemporary(alice.id, {
      model: 'fake/echo',
      messages: [{ role: 'user', content: 'keep me out of the cache' }],
    });
    await generation.done;
    expect(touched).toEqual([]);
    expect(chat.registry.size).toBe(0);
  });
});
