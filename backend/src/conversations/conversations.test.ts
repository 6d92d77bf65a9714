import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
});
afterEach(() => ctx.close());

const as = (user: SignedInUser) => ({ cookie: user.cookie });

async function create(user: SignedInUser, payload: Record<string, unknown> = {}) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: as(user),
    payload,
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

describe('conversations', () => {
  it('creates, renames, lists newest first and deletes', async () => {
    const first = await create(alice, { title: 'First', model: 'fake/echo' });
    const second = await create(alice);
    expect(second).toMatchObject({ title: 'New chat', model: null });

    const renamed = await ctx.app.inject({
      method: 'PATCH',
      url: `/api/conversations/${first.id}`,
      headers: as(alice),
      payload: { title: 'Renamed', model: 'fake/slow' },
    });
    expect(renamed.json()).toMatchObject({ id: first.id, title: 'Renamed', model: 'fake/slow' });

    const list = await ctx.app.inject({ url: '/api/conversations', headers: as(alice) });
    expect(list.json().conversations.map((c: { id: string }) => c.id)).toEqual([
      first.id,
      second.id,
    ]);

    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${first.id}`,
      headers: as(alice),
    });
    expect(deleted.statusCode).toBe(204);
    const gone = await ctx.app.inject({
      url: `/api/conversations/${first.id}`,
      headers: as(alice),
    });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('conversation.not_found');
  });

  it('keeps fallback models: set on create, changed or cleared on update, listed', async () => {
    const plain = await create(alice, { model: 'fake/echo' });
    expect(plain.fallbackModels).toEqual([]);
    const c = await create(alice, {
      model: 'fake/error',
      fallbackModels: ['openai/gpt-4o-mini', 'fake/echo'],
    });
    expect(c.fallbackModels).toEqual(['openai/gpt-4o-mini', 'fake/echo']);

    const patch = (payload: Record<string, unknown>) =>
      ctx.app.inject({
        method: 'PATCH',
        url: `/api/conversations/${c.id}`,
        headers: as(alice),
        payload,
      });
    const renamed = await patch({ title: 'Only the title' });
    expect(renamed.json().fallbackModels).toEqual(['openai/gpt-4o-mini', 'fake/echo']);
    const changed = await patch({ fallbackModels: ['anthropic/claude-3.5-haiku'] });
    expect(changed.json()).toMatchObject({
      model: 'fake/error',
      fallbackModels: ['anthropic/claude-3.5-haiku'],
    });
    expect((await patch({ fallbackModels: [] })).json().fallbackModels).toEqual([]);
    await patch({ fallbackModels: ['fake/echo'] });

    const detail = await ctx.app.inject({ url: `/api/conversations/${c.id}`, headers: as(alice) });
    expect(detail.json().conversation.fallbackModels).toEqual(['fake/echo']);
    const list = (await ctx.app.inject({ url: '/api/conversations', headers: as(alice) })).json();
    expect(list.conversations.map((x: { fallbackModels: string[] }) => x.fallbackModels)).toEqual([
      ['fake/echo'],
      [],
    ]);

    for (const fallbackModels of [
      ['a/1', 'a/2', 'a/3', 'a/4'],
      ['a/1', 'a/1'],
      ['has space'],
      [''],
      'fake/echo',
      [7],
    ]) {
      const response = await patch({ fallbackModels });
      expect(response.statusCode, JSON.stringify(fallbackModels)).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
    }
  });

  it('deletes the messages and generations with the conversation', async () => {
    const c = await create(alice, { model: 'fake/echo' });
    await collect(postMessage(ctx.baseUrl, alice.cookie, c.id, { content: 'to be deleted' }));
    await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${c.id}`,
      headers: as(alice),
    });
    const left = await ctx.db.one<{ m: number; g: number }>(
      `SELECT (SELECT COUNT(*) FROM messages WHERE conversation_id = $1) AS m,
              (SELECT COUNT(*) FROM generations WHERE conversation_id = $1) AS g`,
      [c.id],
    );
    expect(left).toEqual({ m: 0, g: 0 });
  });

  it('opens a conversation with its messages oldest first, each answer with its own generation', async () => {
    const c = await create(alice, { model: 'fake/echo' });
    const other = await create(alice, { model: 'fake/echo' });
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const bobs = await create(bob, { model: 'fake/echo' });
    const send = async (user: SignedInUser, id: string, content: string) => {
      const events = await collect(postMessage(ctx.baseUrl, user.cookie, id, { content }));
      const sent = events.find((e) => e.event === 'assistant_message')?.data;
      expect(events.at(-1)?.data.status).toBe('complete');
      return sent as { messageId: string; generationId: string };
    };
    const first = await send(alice, c.id, 'first question');
    await send(alice, other.id, 'elsewhere');
    await send(bob, bobs.id, 'not yours');
    const second = await send(alice, c.id, 'second question');

    const detail = (
      await ctx.app.inject({ url: `/api/conversations/${c.id}`, headers: as(alice) })
    ).json();
    const messages: Array<{
      id: string;
      conversationId: string;
      parentId: string | null;
      role: string;
      content: string;
      generation: { id: string; model: string; completionTokens: number | null } | null;
    }> = detail.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages.map((m) => m.conversationId)).toEqual(Array(4).fill(c.id));
    expect(messages[0]).toMatchObject({ content: 'first question', parentId: null });
    expect(messages[1]).toMatchObject({ id: first.messageId, parentId: messages[0]!.id });
    expect(messages[2]).toMatchObject({ content: 'second question', parentId: first.messageId });
    expect(messages[3]).toMatchObject({ id: second.messageId, parentId: messages[2]!.id });
    expect(messages[0]!.generation).toBeNull();
    expect(messages[2]!.generation).toBeNull();
    expect(messages[1]!.generation).toMatchObject({ id: first.generationId, model: 'fake/echo' });
    expect(messages[3]!.generation).toMatchObject({ id: second.generationId, model: 'fake/echo' });
    expect(messages[3]!.generation!.completionTokens).toBeGreaterThan(0);
  });

  it('pages through the list with a cursor, without gaps or repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await create(alice, { title: `c${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/conversations?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await ctx.app.inject({ url, headers: as(alice) })).json();
      expect(page.conversations.length).toBeLessThanOrEqual(3);
      seen.push(...page.conversations.map((c: { id: string }) => c.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('scoping: another user sees nothing of yours', () => {
  it('answers 404 to every route for user A conversation when asked by user B', async () => {
    const c = await create(alice, { model: 'fake/slow' });
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const tries = [
      { method: 'GET' as const, url: `/api/conversations/${c.id}` },
      {
        method: 'PATCH' as const,
        url: `/api/conversations/${c.id}`,
        payload: { title: 'mine now' },
      },
      { method: 'DELETE' as const, url: `/api/conversations/${c.id}` },
      {
        method: 'POST' as const,
        url: `/api/conversations/${c.id}/messages`,
        payload: { content: 'hi' },
      },
    ];
    for (const attempt of tries) {
      const response = await ctx.app.inject({ ...attempt, headers: as(bob) });
      expect(response.statusCode, `${attempt.method} ${attempt.url}`).toBe(404);
      expect(response.json().error.code).toBe('conversation.not_found');
    }
    const bobsList = await ctx.app.inject({ url: '/api/conversations', headers: as(bob) });
    expect(bobsList.json().conversations).toEqual([]);
    const still = await ctx.app.inject({ url: `/api/conversations/${c.id}`, headers: as(alice) });
    expect(still.json().conversation.title).toBe('New chat');
  });

  it("does not let user B stop user A's running answer", async () => {
    const c = await create(alice, { model: 'fake/slow' });
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    for await (const event of postMessage(ctx.baseUrl, alice.cookie, c.id, {
      content: 'x [fake chunks=30 delay=20]',
    })) {
      if (event.event === 'assistant_message') {
        const stop = await ctx.app.inject({
          method: 'POST',
          url: `/api/generations/${event.data.generationId}/stop`,
          headers: as(bob),
        });
        expect(stop.statusCode).toBe(404);
      }
      if (event.event === 'done') expect(event.data.status).toBe('complete');
    }
  });
});

describe('requests without a session', () => {
  it('get 401 on every protected route', async () => {
    const id = crypto.randomUUID();
    const routes = [
      ['GET', '/api/auth/me'],
      ['GET', '/api/models'],
      ['GET', '/api/conversations'],
      ['POST', '/api/conversations'],
      ['GET', `/api/conversations/${id}`],
      ['PATCH', `/api/conversations/${id}`],
      ['DELETE', `/api/conversations/${id}`],
      ['POST', `/api/conversations/${id}/messages`],
      ['POST', `/api/generations/${id}/stop`],
    ] as const;
    for (const [method, url] of routes) {
      for (const cookie of [undefined, 'ai_session=forged-token']) {
        const response = await ctx.app.inject({
          method,
          url,
          headers: cookie ? { cookie } : {},
          payload: {},
        });
        expect(response.statusCode, `${method} ${url}`).toBe(401);
        expect(response.json()).toEqual({
          error: { code: 'auth.unauthenticated', message: 'Sign in first.' },
        });
      }
    }
  });
});

describe('bad input', () => {
  it('gets a 400 JSON error and changes nothing', async () => {
    const c = await create(alice, { model: 'fake/echo' });
    const cases = [
      { method: 'POST' as const, url: '/api/conversations', payload: { title: 42 } },
      { method: 'POST' as const, url: '/api/conversations', payload: { title: 'ok', extra: true } },
      { method: 'POST' as const, url: '/api/conversations', payload: { title: '' } },
      { method: 'POST' as const, url: `/api/conversations/${c.id}/messages`, payload: {} },
      {
        method: 'POST' as const,
        url: `/api/conversations/${c.id}/messages`,
        payload: { content: '' },
      },
      {
        method: 'POST' as const,
        url: `/api/conversations/${c.id}/messages`,
        payload: { content: 7 },
      },
      {
        method: 'POST' as const,
        url: `/api/conversations/${c.id}/messages`,
        payload: { content: 'x', parentId: 'nope' },
      },
      { method: 'PATCH' as const, url: `/api/conversations/${c.id}`, payload: {} },
      { method: 'GET' as const, url: '/api/conversations/not-a-uuid' },
      { method: 'GET' as const, url: '/api/conversations?limit=0' },
      { method: 'GET' as const, url: '/api/conversations?cursor=garbage' },
      { method: 'POST' as const, url: '/api/auth/login', payload: { username: 'alice' } },
    ];
    for (const attempt of cases) {
      const response = await ctx.app.inject({ ...attempt, headers: as(alice) });
      expect(response.statusCode, JSON.stringify(attempt)).toBe(400);
      const body = response.json();
      expect(body.error.code).toBe('request.invalid');
      expect(typeof body.error.message).toBe('string');
    }
    const malformed = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { ...as(alice), 'content-type': 'application/json' },
      payload: '{"title": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('request.invalid');

    const list = (await ctx.app.inject({ url: '/api/conversations', headers: as(alice) })).json();
    expect(list.conversations).toHaveLength(1);
    const detail = (
      await ctx.app.inject({ url: `/api/conversations/${c.id}`, headers: as(alice) })
    ).json();
    expect(detail.messages).toHaveLength(0);
    expect(ctx.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const response = await ctx.app.inject({ url: '/api/nope', headers: as(alice) });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('request.not_found');
  });
});
