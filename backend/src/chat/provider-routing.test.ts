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

async function create(user: SignedInUser, payload: Record<string, unknown>): Promise<string> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: user.cookie },
    payload,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id as string;
}

function patch(user: SignedInUser, id: string, payload: unknown) {
  return ctx.app.inject({
    method: 'PATCH',
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
    payload: payload as object,
  });
}

/** The `provider` object of the last chat request the fake OpenRouter received. */
function lastUpstreamProvider(): unknown {
  const request = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  return (request?.body as { provider?: unknown } | undefined)?.provider;
}

const send = (id: string, content = 'hello') =>
  collect(postMessage(ctx.baseUrl, alice.cookie, id, { content }));

describe('provider routing of a conversation', () => {
  it('is stored, returned and sent upstream as OpenRouter’s provider object', async () => {
    const id = await create(alice, { model: 'fake/echo' });
    const routing = {
      sort: 'price',
      ignore: ['fake-turbo'],
      dataCollection: 'deny',
      zdr: true,
      maxPrice: { prompt: 2, completion: 4 },
    };
    const updated = await patch(alice, id, { providerRouting: routing });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().providerRouting).toEqual(routing);
    const read = await ctx.app.inject({
      url: `/api/conversations/${id}`,
      headers: { cookie: alice.cookie },
    });
    expect(read.json().conversation.providerRouting).toEqual(routing);

    const events = await send(id);
    expect(lastUpstreamProvider()).toEqual({
      sort: 'price',
      ignore: ['fake-turbo'],
      data_collection: 'deny',
      zdr: true,
      max_price: { prompt: 2, completion: 4 },
    });
    // Only the zero-retention endpoint is left: it served, and the answer says so.
    const done = events.at(-1);
    expect(done).toMatchObject({
      event: 'done',
      data: { status: 'complete', model: 'fake/echo', provider: 'Fake Vault' },
    });
    const detail = await ctx.app.inject({
      url: `/api/conversations/${id}`,
      headers: { cookie: alice.cookie },
    });
    const answer = detail.json().messages.at(-1);
    expect(answer.generation).toMatchObject({ model: 'fake/echo', provider: 'Fake Vault' });
  });

  it('sends no provider object by default, and none once cleared', async () => {
    const id = await create(alice, {
      model: 'fake/echo',
      providerRouting: { sort: 'throughput', order: ['fake-turbo'] },
    });
    const first = await send(id, 'one');
    expect(lastUpstreamProvider()).toEqual({ sort: 'throughput', order: ['fake-turbo'] });
    expect(first.at(-1)?.data.provider).toBe('Fake Turbo');

    expect((await patch(alice, id, { providerRouting: null })).json().providerRouting).toBeNull();
    const second = await send(id, 'two');
    expect(lastUpstreamProvider()).toBeUndefined();
    expect(second.at(-1)?.data.provider).toBe('FakeProvider');

    // An object with nothing set is the default routing too.
    const emptied = await patch(alice, id, { providerRouting: { only: [] } });
    expect(emptied.json().providerRouting).toBeNull();
    const plain = await create(alice, { model: 'fake/echo' });
    await send(plain, 'three');
    expect(lastUpstreamProvider()).toBeUndefined();
  });

  it("fails the answer with OpenRouter's words when no provider matches", async () => {
    const id = await create(alice, {
      model: 'fake/echo',
      providerRouting: { only: ['fake-budget'], dataCollection: 'deny' },
    });
    const events = await send(id);
    const error = events.at(-1);
    expect(error?.event).toBe('error');
    expect(error?.data.message).toContain('No endpoints found matching your data policy');
  });

  it('refuses bad provider options with 400, changing nothing', async () => {
    const good = { sort: 'latency' };
    const id = await create(alice, { model: 'fake/echo', providerRouting: good });
    const bad: unknown[] = [
      { sort: 'cheapest' },
      { sort: 'price', unknown: true },
      { only: 'openai' },
      { only: ['has space'] },
      { only: [''] },
      { ignore: ['a', 'a'] },
      { order: Array.from({ length: 21 }, (_, i) => `p${i}`) },
      { dataCollection: 'never' },
      { zdr: 'yes' },
      { allowFallbacks: 1 },
      { maxPrice: { prompt: -1 } },
      { maxPrice: { prompt: '1' } },
      { maxPrice: {} },
      { maxPrice: { image: 1 } },
      { only: ['openai'], ignore: ['OpenAI'] },
      'price',
      [],
    ];
    for (const providerRouting of bad) {
      const response = await patch(alice, id, { providerRouting });
      expect(response.statusCode, JSON.stringify(providerRouting)).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie: alice.cookie },
        payload: { providerRouting },
      });
      expect(created.statusCode, JSON.stringify(providerRouting)).toBe(400);
    }
    const both = await patch(alice, id, { providerRouting: { only: ['x'], ignore: ['X'] } });
    expect(both.json().error.message).toContain('both in only and in ignore');
    const read = await ctx.app.inject({
      url: `/api/conversations/${id}`,
      headers: { cookie: alice.cookie },
    });
    expect(read.json().conversation.providerRouting).toEqual(good);
  });

  it("cannot be read or changed on another user's conversation", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const id = await create(alice, { model: 'fake/echo', providerRouting: { zdr: true } });
    const response = await patch(bob, id, { providerRouting: { sort: 'price' } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('conversation.not_found');
    const read = await ctx.app.inject({
      url: `/api/conversations/${id}`,
      headers: { cookie: alice.cookie },
    });
    expect(read.json().conversation.providerRouting).toEqual({ zdr: true });
  });
});
