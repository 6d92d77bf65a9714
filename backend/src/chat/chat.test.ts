import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage, type ReceivedEvent } from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

const newConversation = (model: string) => createConversation(ctx.app, admin, { model });

async function conversation(id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: admin.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

const deltas = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');

describe('POST /api/conversations/:id/messages', () => {
  it('streams the answer and keeps it with its usage and cost', async () => {
    const id = await newConversation('fake/echo');
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'Hello, DuckDB!' }),
    );

    // The stream opens as the answer runs: the saved question (`user_message`, once
    // committed) may come after the first deltas, but always before the answer's end.
    const names = events.map((e) => e.event);
    expect(names.filter((name) => name !== 'user_message')).toEqual([
      'assistant_message',
      ...events.filter((e) => e.event === 'delta').map(() => 'delta'),
      'usage',
      'done',
    ]);
    expect(names.filter((name) => name === 'user_message')).toHaveLength(1);
    expect(names.indexOf('user_message')).toBeLessThan(names.indexOf('done'));
    const answer = deltas(events);
    expect(answer).toContain('You said: Hello, DuckDB!');
    const usage = events.find((e) => e.event === 'usage')?.data;
    expect(usage.cost).toBeGreaterThan(0);
    expect(usage.completionTokens).toBeGreaterThan(0);

    // What the backend sent upstream: the user's text, the model, the attribution headers.
    const sent = ctx.fake.requests.find((r) => r.path === '/api/v1/chat/completions');
    expect(sent?.body).toMatchObject({ model: 'fake/echo', stream: true });
    expect(JSON.stringify(sent?.body)).toContain('Hello, DuckDB!');
    expect(sent?.headers['authorization']).toBe('Bearer sk-or-test-key');
    expect(sent?.headers['http-referer']).toBe('https://ai.example.test');
    expect(sent?.headers['x-title']).toBe('AI test');

    const { conversation: saved, messages } = await conversation(id);
    expect(saved.title).toBe('Hello, DuckDB!');
    expect(messages).toHaveLength(2);
    const [question, reply] = messages;
    expect(question).toMatchObject({
      role: 'user',
      content: 'Hello, DuckDB!',
      status: 'complete',
      parentId: null,
    });
    expect(reply).toMatchObject({
      role: 'assistant',
      content: answer,
      status: 'complete',
      parentId: question.id,
    });
    expect(reply.generation).toMatchObject({
      model: 'fake/echo',
      cost: usage.cost,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      finishReason: 'stop',
    });
    expect(reply.generation.upstreamId).toMatch(/^gen-/);
    expect(reply.generation.provider).toBeTruthy();
    expect(reply.generation.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    // The `done` event tells the saved times, so a live answer shows them without a reload.
    const done = events.at(-1)?.data;
    expect(done).toMatchObject({
      messageId: reply.id,
      timeToFirstTokenMs: reply.generation.timeToFirstTokenMs,
      durationMs: reply.generation.durationMs,
    });
    expect(done.durationMs).toBeGreaterThanOrEqual(done.timeToFirstTokenMs);
  });

  it('saves each of many answers started at once with its own question, text and usage', async () => {
    // Started together, the turns and the final saves share commits (db/group-commit.ts):
    // every row must still get its own values.
    const ids = await Promise.all([0, 1, 2, 3].map(() => newConversation('fake/echo')));
    const sends = Array.from({ length: 12 }, (_, i) => ({
      id: ids[i % 4]!,
      content: `question ${i}`,
    }));
    const streams = await Promise.all(
      sends.map(({ id, content }) =>
        collect(postMessage(ctx.baseUrl, admin.cookie, id, { content })),
      ),
    );
    for (const events of streams) expect(events.at(-1)?.event).toBe('done');

    for (const id of ids) {
      const { conversation: saved, messages } = await conversation(id);
      expect(messages).toHaveLength(6);
      expect(saved.title).toMatch(/^question \d+$/);
      for (const question of messages.filter((m: { role: string }) => m.role === 'user')) {
        const sent = streams.find(
          (events) => events.find((e) => e.event === 'user_message')?.data.id === question.id,
        )!;
        const answer = messages.find((m: { parentId: string }) => m.parentId === question.id);
        expect(sends.some((s) => s.id === id && s.content === question.content)).toBe(true);
        expect(answer).toMatchObject({
          role: 'assistant',
          status: 'complete',
          content: deltas(sent),
        });
        expect(answer.content).toContain(`You said: ${question.content}`);
        const usage = sent.find((e) => e.event === 'usage')?.data;
        expect(answer.generation).toMatchObject({
          cost: usage.cost,
          completionTokens: usage.completionTokens,
          finishReason: 'stop',
        });
      }
    }
  });

  it('sends the conversation so far as context on the second turn', async () => {
    const id = await newConversation('fake/echo');
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'first question' }));
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'second question' }));
    const bodies = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');
    const messages = (bodies[1]?.body as { messages: Array<{ role: string; content: string }> })
      .messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[0]?.content).toBe('first question');
    expect(messages[1]?.content).toContain('You said: first question');
    expect(messages[2]?.content).toBe('second question');
  });

  describe('with the conversation in memory (conversations/cache.ts)', () => {
    const upstreamBodies = () =>
      ctx.fake.requests
        .filter((r) => r.path === '/api/v1/chat/completions')
        .map(
          (r) =>
            r.body as { model: string; models?: string[]; messages: Array<{ content: string }> },
        );

    it('sends with the model and fallbacks changed through the API since the last send', async () => {
      const id = await newConversation('fake/echo');
      await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'one' }));
      const patched = await ctx.app.inject({
        method: 'PATCH',
        url: `/api/conversations/${id}`,
        headers: { cookie: admin.cookie },
        payload: { model: 'fake/slow', fallbackModels: ['fake/echo'] },
      });
      expect(patched.statusCode).toBe(200);

      await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'two' }));
      expect(upstreamBodies()[1]).toMatchObject({ model: 'fake/slow', models: ['fake/echo'] });
    });

    it('answers 404 to a send into a conversation deleted while in use', async () => {
      const id = await newConversation('fake/echo');
      await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'one' }));
      const deleted = await ctx.app.inject({
        method: 'DELETE',
        url: `/api/conversations/${id}`,
        headers: { cookie: admin.cookie },
      });
      expect(deleted.statusCode).toBe(204);

      const response = await ctx.app.inject({
        method: 'POST',
        url: `/api/conversations/${id}/messages`,
        headers: { cookie: admin.cookie },
        payload: { content: 'two' },
      });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('conversation.not_found');
    });

    it('sends a stopped answer as it was kept, and the next turn after it', async () => {
      const id = await newConversation('fake/slow');
      const events: ReceivedEvent[] = [];
      for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
        content: 'long [fake chunks=200 delay=20]',
      })) {
        events.push(event);
        if (event.event === 'delta' && events.filter((e) => e.event === 'delta').length === 2) {
          const generationId = events.find((e) => e.event === 'assistant_message')?.data
            .generationId as string;
          await fetch(`${ctx.baseUrl}/api/generations/${generationId}/stop`, {
            method: 'POST',
            headers: { cookie: admin.cookie },
          });
        }
      }
      await collect(
        postMessage(ctx.baseUrl, admin.cookie, id, { content: 'next [fake chunks=2]' }),
      );
      await collect(
        postMessage(ctx.baseUrl, admin.cookie, id, { content: 'third [fake chunks=2]' }),
      );

      const { messages } = await conversation(id);
      const kept = (messages as Array<{ role: string; content: string }>)
        .filter((m) => m.content !== '')
        .map((m) => m.content);
      // What the third send carried is exactly what the database holds before it.
      expect(upstreamBodies()[2]?.messages.map((m) => m.content)).toEqual(kept.slice(0, -1));
      expect(kept[1]).toBe(deltas(events));
    });
  });

  it('streams reasoning separately and keeps it', async () => {
    const id = await newConversation('fake/reasoning');
    const events = await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'think' }));
    const reasoning = events
      .filter((e) => e.event === 'reasoning')
      .map((e) => e.data.content)
      .join('');
    expect(reasoning).toContain('think');
    const { messages } = await conversation(id);
    expect(messages[1].reasoning).toBe(reasoning);
    expect(messages[1].generation.reasoningTokens).toBeGreaterThan(0);
  });

  it('keeps the partial answer with status error when the stream fails midway', async () => {
    const id = await newConversation('fake/midstream-error');
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'break please [fake after=3]' }),
    );
    const error = events.at(-1);
    expect(error?.event).toBe('error');
    expect(error?.data.code).toBe('upstream.stream_error');
    expect(error?.data.message.length).toBeGreaterThan(0);
    const partial = deltas(events);
    expect(partial.length).toBeGreaterThan(0);

    const { messages } = await conversation(id);
    expect(messages[0]).toMatchObject({ role: 'user', status: 'complete' });
    expect(messages[1]).toMatchObject({
      status: 'error',
      content: partial,
      error: error?.data.message,
    });
    expect(messages[1].generation.finishReason).toBe('error');
  });

  it('reports an HTTP error from upstream with its own message and keeps the question', async () => {
    const id = await newConversation('fake/error');
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'hi [fake status=402]' }),
    );
    // The error is held until the question's commit is told: the question is kept.
    expect(events.map((e) => e.event)).toEqual(['assistant_message', 'user_message', 'error']);
    expect(events[2]?.data.code).toBe('upstream.insufficient_credits');
    const { messages } = await conversation(id);
    expect(messages[0].content).toBe('hi [fake status=402]');
    expect(messages[1]).toMatchObject({
      status: 'error',
      content: '',
      error: events[2]?.data.message,
    });
  });

  it('stop aborts the upstream request and keeps what was written', async () => {
    const id = await newConversation('fake/slow');
    const events: ReceivedEvent[] = [];
    let generationId = '';
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'a long one [fake chunks=200 delay=20]',
    })) {
      events.push(event);
      if (event.event === 'assistant_message') generationId = event.data.generationId;
      if (event.event === 'delta' && events.filter((e) => e.event === 'delta').length === 3) {
        const stop = await fetch(`${ctx.baseUrl}/api/generations/${generationId}/stop`, {
          method: 'POST',
          headers: { cookie: admin.cookie },
        });
        expect(stop.status).toBe(200);
      }
    }
    const stream = await ctx.fake.waitForStreamClosed(0, 1000);
    expect(stream.endedBy).toBe('client-closed');
    expect(stream.chunksSent).toBeLessThan(100);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });

    const { messages } = await conversation(id);
    expect(messages[1].status).toBe('stopped');
    expect(messages[1].content).toBe(deltas(events));
    expect(messages[1].content.length).toBeGreaterThan(0);
  });

  it('saves the partial answer while it streams, at least every 2 seconds', async () => {
    const id = await newConversation('fake/slow');
    let saved = '';
    let generationId = '';
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'slowly [fake chunks=100 delay=30]',
    })) {
      if (event.event === 'assistant_message') generationId = event.data.generationId;
      if (event.event === 'delta' && saved === '') {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const { messages } = await conversation(id);
        expect(messages[1].status).toBe('streaming');
        saved = messages[1].content;
        await fetch(`${ctx.baseUrl}/api/generations/${generationId}/stop`, {
          method: 'POST',
          headers: { cookie: admin.cookie },
        });
      }
    }
    expect(saved).toContain('You said: slowly');
  });

  it('keeps generating when the browser goes away, and saves the answer complete', async () => {
    const id = await newConversation('fake/slow');
    // Leaving the loop cancels the response body: the connection closes like a closed tab.
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'leave [fake chunks=20 delay=20]',
    })) {
      if (event.event === 'delta') break;
    }
    const stream = await ctx.fake.waitForStreamClosed(0, 5000);
    expect(stream.endedBy).toBe('complete');
    await expect
      .poll(async () => (await conversation(id)).messages[1].status, { timeout: 3000 })
      .toBe('complete');
  });

  it('refuses to stop a generation that is not running', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/generations/${crypto.randomUUID()}/stop`,
      headers: { cookie: admin.cookie },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('generation.not_found');
  });

  it('answers 400 before saving anything when no model is chosen', async () => {
    const create = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { cookie: admin.cookie },
      payload: {},
    });
    const id = create.json().id;
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/messages`,
      headers: { cookie: admin.cookie },
      payload: { content: 'hello' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('model.required');
    expect((await conversation(id)).messages).toHaveLength(0);
  });

  it('rejects a parent message from another conversation', async () => {
    const a = await newConversation('fake/echo');
    const b = await newConversation('fake/echo');
    await collect(postMessage(ctx.baseUrl, admin.cookie, a, { content: 'in a' }));
    const parentId = (await conversation(a)).messages[0].id;
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${b}/messages`,
      headers: { cookie: admin.cookie },
      payload: { content: 'in b', parentId },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('message.parent_invalid');
  });
});

describe('without an OpenRouter key', () => {
  it('says so in /api/health and refuses to send with a clear message', async () => {
    await ctx.close();
    ctx = await startTestApp({ apiKey: null });
    admin = await setupAdmin(ctx.app);
    const health = await ctx.app.inject({ url: '/api/health' });
    expect(health.json()).toEqual({ status: 'ok', database: 'ok', upstreamKeyConfigured: false });
    const id = await newConversation('fake/echo');
    const response = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/messages`,
      headers: { cookie: admin.cookie },
      payload: { content: 'hello' },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toMatchObject({ code: 'upstream.no_key' });
    expect(response.json().error.message).toContain('OPENROUTER_API_KEY');
    expect(ctx.fake.requests).toHaveLength(0);
  });
});
