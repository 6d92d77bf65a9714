import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage, readEvents } from '../test-support/sse-client.js';

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
  // The catalog (and each model's supported_parameters) as the picker loads it.
  const models = await ctx.app.inject({ url: '/api/models', headers: { cookie: alice.cookie } });
  expect(models.statusCode).toBe(200);
});
afterEach(() => ctx.close());

async function create(payload: Record<string, unknown>, user = alice) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: user.cookie },
    payload,
  });
  return response;
}

function patch(id: string, payload: unknown, user = alice) {
  return ctx.app.inject({
    method: 'PATCH',
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
    payload: payload as object,
  });
}

function read(id: string, user = alice) {
  return ctx.app.inject({ url: `/api/conversations/${id}`, headers: { cookie: user.cookie } });
}

/** The body of the last chat request the fake OpenRouter received. */
function lastUpstreamBody(): Record<string, unknown> {
  const request = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  return request?.body as Record<string, unknown>;
}

const SAMPLING_KEYS = ['temperature', 'top_p', 'max_tokens', 'reasoning'];
const samplingOf = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).filter(([key]) => SAMPLING_KEYS.includes(key)));

async function send(id: string, content: string, extra: Record<string, unknown> = {}) {
  const events = await collect(postMessage(ctx.baseUrl, alice.cookie, id, { content, ...extra }));
  expect(events.at(-1)?.event, JSON.stringify(events.at(-1))).toBe('done');
  return events;
}

const all = { temperature: 0.4, topP: 0.8, maxTokens: 300, reasoningEffort: 'high' };

describe('system prompt and parameters of a conversation', () => {
  it('are stored, returned, and sent upstream: the prompt first, as a system message', async () => {
    const created = await create({
      model: 'fake/reasoning',
      systemPrompt: 'You are a terse pirate.',
      params: all,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect(created.json()).toMatchObject({ systemPrompt: 'You are a terse pirate.', params: all });
    expect((await read(id)).json().conversation).toMatchObject({
      systemPrompt: 'You are a terse pirate.',
      params: all,
    });

    await send(id, 'first question');
    const first = lastUpstreamBody();
    expect(first.messages).toEqual([
      { role: 'system', content: 'You are a terse pirate.' },
      { role: 'user', content: 'first question' },
    ]);
    // fake/reasoning lists all four in its supported_parameters.
    expect(samplingOf(first)).toEqual({
      temperature: 0.4,
      top_p: 0.8,
      max_tokens: 300,
      reasoning: { effort: 'high' },
    });

    // The second turn: the prompt still first, once; the history after it.
    await send(id, 'second question');
    const second = lastUpstreamBody().messages as Array<{ role: string; content: string }>;
    expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(second[0]).toEqual({ role: 'system', content: 'You are a terse pirate.' });
    // Nothing of it is saved as a message of the conversation.
    const messages = (await read(id)).json().messages as Array<{ role: string }>;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('sends only the parameters the model’s catalog entry lists', async () => {
    // anthropic/claude-3.5-haiku (fake) lists max_tokens, temperature, top_p but not reasoning.
    const id = (await create({ model: 'anthropic/claude-3.5-haiku', params: all })).json().id;
    await send(id, 'hello');
    expect(samplingOf(lastUpstreamBody())).toEqual({
      temperature: 0.4,
      top_p: 0.8,
      max_tokens: 300,
    });

    // A send with another model is judged by that model's entry.
    const reasoning = (await create({ model: 'openai/gpt-4o-mini', params: all })).json().id;
    await send(reasoning, 'with another model', { model: 'deepseek/deepseek-r1' });
    expect(lastUpstreamBody().model).toBe('deepseek/deepseek-r1');
    expect(samplingOf(lastUpstreamBody())).toEqual({
      temperature: 0.4,
      top_p: 0.8,
      max_tokens: 300,
      reasoning: { effort: 'high' },
    });
    // (A send's model becomes the conversation's.)
    await send(reasoning, 'and back', { model: 'openai/gpt-4o-mini' });
    expect(lastUpstreamBody().model).toBe('openai/gpt-4o-mini');
    expect(samplingOf(lastUpstreamBody())).not.toHaveProperty('reasoning');
  });

  it('sends every override to a model the catalog does not list (nothing says it cannot)', async () => {
    const id = (await create({ model: 'local/llama-3-8b', params: { temperature: 1.2 } })).json()
      .id;
    await send(id, 'hello');
    expect(samplingOf(lastUpstreamBody())).toEqual({ temperature: 1.2 });
  });

  it('sends no system message and no parameters when none are set', async () => {
    const id = (await create({ model: 'fake/reasoning' })).json().id;
    expect((await read(id)).json().conversation).toMatchObject({ systemPrompt: null, params: {} });
    await send(id, 'plain');
    expect(lastUpstreamBody().messages).toEqual([{ role: 'user', content: 'plain' }]);
    expect(samplingOf(lastUpstreamBody())).toEqual({});

    // A blank prompt is no prompt; an empty one is stored as none.
    expect((await patch(id, { systemPrompt: '   ' })).statusCode).toBe(200);
    await send(id, 'blank');
    expect((lastUpstreamBody().messages as Array<{ role: string }>)[0]?.role).toBe('user');
    expect((await patch(id, { systemPrompt: '' })).json().systemPrompt).toBeNull();
  });

  it('takes a change at once, even for a conversation the chat holds in memory', async () => {
    const id = (
      await create({ model: 'fake/reasoning', systemPrompt: 'Old prompt.', params: all })
    ).json().id;
    await send(id, 'one');
    expect((lastUpstreamBody().messages as unknown[])[0]).toEqual({
      role: 'system',
      content: 'Old prompt.',
    });

    const changed = await patch(id, {
      systemPrompt: 'New prompt.',
      params: { temperature: 0, reasoningEffort: 'none' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      systemPrompt: 'New prompt.',
      params: { temperature: 0, reasoningEffort: 'none' },
    });
    // params replaces every override: topP and maxTokens are gone.
    expect(changed.json().params).toEqual({ temperature: 0, reasoningEffort: 'none' });
    await send(id, 'two');
    expect((lastUpstreamBody().messages as unknown[])[0]).toEqual({
      role: 'system',
      content: 'New prompt.',
    });
    expect(samplingOf(lastUpstreamBody())).toEqual({
      temperature: 0,
      reasoning: { effort: 'none' },
    });

    expect((await patch(id, { systemPrompt: null, params: {} })).statusCode).toBe(200);
    await send(id, 'three');
    expect((lastUpstreamBody().messages as Array<{ role: string }>)[0]?.role).toBe('user');
    expect(samplingOf(lastUpstreamBody())).toEqual({});
  });

  it('are sent alike by regenerate and continue (one request builder for every answer)', async () => {
    const id = (
      await create({
        model: 'anthropic/claude-3.5-haiku',
        systemPrompt: 'Be a pirate.',
        params: all,
      })
    ).json().id;
    // Cut at the token limit, so that it can be continued.
    await send(id, 'tell me a story [fake chunks=8 limit=5]');
    const sent = lastUpstreamBody();
    const [question, answer] = (await read(id)).json().messages as Array<{ id: string }>;
    const expected = {
      messages: [{ role: 'system', content: 'Be a pirate.' }],
      sampling: { temperature: 0.4, top_p: 0.8, max_tokens: 300 },
    };
    expect((sent.messages as unknown[])[0]).toEqual(expected.messages[0]);
    expect(samplingOf(sent)).toEqual(expected.sampling);

    const answerAgain = async (path: string, body?: unknown) => {
      const response = await fetch(`${ctx.baseUrl}/api/conversations/${id}/messages/${path}`, {
        method: 'POST',
        headers: {
          cookie: alice.cookie,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status).toBe(200);
      const events = await collect(readEvents(response.body!));
      expect(events.at(-1)?.event, JSON.stringify(events.at(-1))).toBe('done');
    };

    await answerAgain(`${question!.id}/regenerate`, {});
    const regenerated = lastUpstreamBody();
    expect(regenerated.messages).toEqual([
      { role: 'system', content: 'Be a pirate.' },
      { role: 'user', content: 'tell me a story [fake chunks=8 limit=5]' },
    ]);
    expect(samplingOf(regenerated)).toEqual(expected.sampling);

    // Regenerated with a model that takes reasoning: judged by that model's entry.
    await answerAgain(`${question!.id}/regenerate`, { model: 'deepseek/deepseek-r1' });
    expect(samplingOf(lastUpstreamBody())).toEqual({
      ...expected.sampling,
      reasoning: { effort: 'high' },
    });

    await answerAgain(`${answer!.id}/continue`);
    const continued = lastUpstreamBody();
    const messages = continued.messages as Array<{ role: string }>;
    expect(messages[0]).toEqual({ role: 'system', content: 'Be a pirate.' });
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
    expect(samplingOf(continued)).toEqual(expected.sampling);
  });

  it('a settings change counts as activity', async () => {
    const created = (await create({ model: 'fake/echo' })).json();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const changed = (await patch(created.id, { params: { temperature: 1 } })).json();
    expect(Date.parse(changed.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
  });

  it('refuses out-of-range values with a 400 naming the field, changing nothing', async () => {
    const good = { temperature: 1, topP: 0.5, maxTokens: 100, reasoningEffort: 'low' };
    const id = (await create({ model: 'fake/echo', systemPrompt: 'Keep me.', params: good })).json()
      .id;
    const bad: Array<[unknown, string]> = [
      [{ temperature: 2.01 }, 'params.temperature'],
      [{ temperature: -0.5 }, 'params.temperature'],
      [{ temperature: '0.5' }, 'params.temperature'],
      [{ topP: 1.1 }, 'params.topP'],
      [{ topP: -0.1 }, 'params.topP'],
      [{ maxTokens: 0 }, 'params.maxTokens'],
      [{ maxTokens: 10.5 }, 'params.maxTokens'],
      [{ maxTokens: 1_000_001 }, 'params.maxTokens'],
      [{ reasoningEffort: 'maximum' }, 'params.reasoningEffort'],
      [{ top_p: 0.5 }, 'params'],
      [null, 'params'],
    ];
    for (const [params, field] of bad) {
      for (const response of [
        await patch(id, { params }),
        await create({ model: 'fake/echo', params }),
      ]) {
        expect(response.statusCode, JSON.stringify(params)).toBe(400);
        expect(response.json().error.code).toBe('request.invalid');
        expect(response.json().error.message, JSON.stringify(params)).toContain(field);
      }
    }
    const tooLong = await patch(id, { systemPrompt: 'x'.repeat(100_001) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.message).toContain('systemPrompt');
    const nul = await patch(id, { systemPrompt: 'a\u0000b' });
    expect(nul.statusCode).toBe(400);
    expect((await read(id)).json().conversation).toMatchObject({
      systemPrompt: 'Keep me.',
      params: good,
    });
  });

  it("cannot be read or changed on another user's conversation", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const id = (await create({ model: 'fake/echo', systemPrompt: 'Alice only.' })).json().id;
    const response = await patch(id, { systemPrompt: 'Bob was here.' }, bob);
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('conversation.not_found');
    expect((await read(id, bob)).statusCode).toBe(404);
    expect((await read(id)).json().conversation.systemPrompt).toBe('Alice only.');
  });

  it('the title call sends neither the system prompt nor the parameters', async () => {
    await ctx.close();
    ctx = await startTestApp({ env: { TITLE_MODEL: 'fake/echo' } });
    alice = await setupAdmin(ctx.app, 'alice');
    await ctx.app.inject({ url: '/api/models', headers: { cookie: alice.cookie } });
    const id = (
      await create({ model: 'fake/reasoning', systemPrompt: 'Only for answers.', params: all })
    ).json().id;
    await send(id, 'Plan a trip to Lisbon');
    for (let i = 0; i < 100 && (await read(id)).json().conversation.titlePending; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const chats = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');
    expect(chats).toHaveLength(2);
    const title = chats[1]!.body as Record<string, unknown>;
    expect(title.model).toBe('fake/echo');
    expect(JSON.stringify(title.messages)).not.toContain('Only for answers.');
    expect(samplingOf(title)).toEqual({});
  });
});
