import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import {
  collect,
  postMessage,
  readEvents,
  type ReceivedEvent,
} from '../test-support/sse-client.js';

// Branches (regenerate, edit), deleting a subtree and continuing an answer: what is stored,
// and what the next upstream request carries (the fake records every request's messages).

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

interface StoredMessage {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  model: string | null;
  status: string;
  generation: {
    model: string;
    provider: string | null;
    finishReason: string | null;
    cost: number | null;
  } | null;
}

async function messagesOf(id: string, user = admin): Promise<StoredMessage[]> {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json().messages as StoredMessage[];
}

/** POSTs to an answer route (regenerate, continue) and reads the stream to its end. */
async function postAnswer(path: string, body?: unknown, user = admin): Promise<ReceivedEvent[]> {
  const response = await fetch(`${ctx.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      cookie: user.cookie,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok || !response.body) {
    throw new Error(`expected a stream, got ${response.status}: ${await response.text()}`);
  }
  return collect(readEvents(response.body));
}

const send = (id: string, body: Record<string, unknown>) =>
  collect(postMessage(ctx.baseUrl, admin.cookie, id, body));

const deltas = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');

/** The messages (role: text) of each upstream chat request, in order. */
const upstream = () =>
  ctx.fake.requests
    .filter((r) => r.path === '/api/v1/chat/completions')
    .map((r) =>
      (r.body as { messages: Array<{ role: string; content: string }> }).messages.map(
        (m) => `${m.role}: ${m.content}`,
      ),
    );

async function twoTurns(model = 'fake/echo') {
  const id = await createConversation(ctx.app, admin, { model });
  await send(id, { content: 'first' });
  await send(id, { content: 'second' });
  const [q1, a1, q2, a2] = await messagesOf(id);
  return { id, q1: q1!, a1: a1!, q2: q2!, a2: a2! };
}

describe('POST /api/conversations/:id/messages/:messageId/regenerate', () => {
  it('answers the same question again as a sibling, with another model, and the next send follows it', async () => {
    const { id, q1, a1, q2, a2 } = await twoTurns();
    const events = await postAnswer(`/api/conversations/${id}/messages/${q2.id}/regenerate`, {
      model: 'fake/reasoning',
    });
    expect(events.map((e) => e.event)).not.toContain('user_message');
    expect(events[0]).toMatchObject({
      event: 'assistant_message',
      data: { model: 'fake/reasoning' },
    });
    expect(events.at(-1)?.event).toBe('done');

    const messages = await messagesOf(id);
    expect(messages).toHaveLength(5); // no copy of the question
    const again = messages[4]!;
    expect(again).toMatchObject({
      role: 'assistant',
      parentId: q2.id,
      status: 'complete',
      content: deltas(events),
      generation: { model: 'fake/reasoning', finishReason: 'stop' },
    });
    expect(again.id).not.toBe(a2.id);
    // The context was the branch down to the question, nothing of the old answer.
    expect(upstream()[2]).toEqual([`user: first`, `assistant: ${a1.content}`, 'user: second']);

    // A send on the new branch carries the new answer, not the old one.
    await send(id, { content: 'third', parentId: again.id });
    expect(upstream()[3]).toEqual([
      'user: first',
      `assistant: ${a1.content}`,
      'user: second',
      `assistant: ${again.content}`,
      'user: third',
    ]);
    expect(q1.parentId).toBeNull();
  });

  it('refuses an answer, a missing message and another user’s conversation', async () => {
    const { id, a1 } = await twoTurns();
    const post = (url: string, cookie = admin.cookie) =>
      ctx.app.inject({ method: 'POST', url, headers: { cookie }, payload: {} });
    const onAnswer = await post(`/api/conversations/${id}/messages/${a1.id}/regenerate`);
    expect(onAnswer.statusCode).toBe(400);
    expect(onAnswer.json().error.code).toBe('message.not_regenerable');
    const missing = await post(
      `/api/conversations/${id}/messages/${crypto.randomUUID()}/regenerate`,
    );
    expect(missing.json().error.code).toBe('message.not_found');

    const other = await buildUser(ctx.app, ctx.db);
    const [q1] = await messagesOf(id);
    const theirs = await post(
      `/api/conversations/${id}/messages/${q1!.id}/regenerate`,
      other.cookie,
    );
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('conversation.not_found');
    expect(upstream()).toHaveLength(2);
  });
});

describe('editing a question (a send with the edited message’s parent)', () => {
  it('makes a sibling question whose answer sees only its own branch', async () => {
    const { id, q1, a1, q2 } = await twoTurns();
    await send(id, { content: 'second, edited', parentId: q2.parentId });
    const messages = await messagesOf(id);
    const edited = messages[4]!;
    expect(edited).toMatchObject({ role: 'user', parentId: a1.id, content: 'second, edited' });
    expect(messages[5]).toMatchObject({ role: 'assistant', parentId: edited.id });
    expect(upstream()[2]).toEqual([
      'user: first',
      `assistant: ${a1.content}`,
      'user: second, edited',
    ]);

    // The first question edited: a new root (parentId null), with nothing before it.
    await send(id, { content: 'first, edited', parentId: null });
    const root = (await messagesOf(id))[6]!;
    expect(root).toMatchObject({ role: 'user', parentId: null, content: 'first, edited' });
    expect(upstream()[3]).toEqual(['user: first, edited']);
    expect(q1.parentId).toBeNull();
  });
});

describe('DELETE /api/conversations/:id/messages/:messageId', () => {
  it('deletes the message and its subtree, keeps the spend, and the next send does not see them', async () => {
    const { id, q1, a1, q2, a2 } = await twoTurns();
    await postAnswer(`/api/conversations/${id}/messages/${q2.id}/regenerate`, {});
    // A send on the new branch: the conversation is in memory again (a send writes through).
    const again = (await messagesOf(id))[4]!;
    await send(id, { content: 'third', parentId: again.id });
    const spentBefore = await spent();
    expect(spentBefore).toBeGreaterThan(0);

    const response = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${id}/messages/${q2.id}`,
      headers: { cookie: admin.cookie },
    });
    expect(response.statusCode).toBe(200);
    const deleted = response.json().deleted as string[];
    expect(deleted).toHaveLength(5);
    expect(deleted[0]).toBe(q2.id);
    expect(deleted).toContain(a2.id);

    expect((await messagesOf(id)).map((m) => m.id)).toEqual([q1.id, a1.id]);
    // The generations of the deleted answers stay: usage and spend do not shrink.
    expect(await spent()).toBe(spentBefore);
    const rows = await ctx.db.all<{ n: number }>(
      'SELECT CAST(count(*) AS INTEGER) AS n FROM generations WHERE conversation_id = $1',
      [id],
    );
    expect(rows[0]?.n).toBe(4);

    // The conversation was in memory: the next send (no parent: the newest message) follows a1.
    await send(id, { content: 'after the delete' });
    expect(upstream().at(-1)).toEqual([
      'user: first',
      `assistant: ${a1.content}`,
      'user: after the delete',
    ]);
    const after = await messagesOf(id);
    expect(after[2]).toMatchObject({ parentId: a1.id, content: 'after the delete' });
  });

  it('stops an answer being written in the subtree before deleting it', async () => {
    const id = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    const events = postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'long [fake chunks=400 delay=20]',
    });
    let question = '';
    let written = false;
    for await (const event of events) {
      if (event.event === 'user_message') question = event.data.id as string;
      if (event.event === 'delta') written = true;
      // The question saved and the answer being written (in either order).
      if (question !== '' && written) break;
    }
    const response = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${id}/messages/${question}`,
      headers: { cookie: admin.cookie },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().deleted).toHaveLength(2);
    expect(await messagesOf(id)).toEqual([]);
    expect((await ctx.fake.waitForStreamClosed(0, 2000)).endedBy).toBe('client-closed');
  });

  it('answers 404 for another user’s message and for a message of another conversation', async () => {
    const { id, q1 } = await twoTurns();
    const other = await buildUser(ctx.app, ctx.db);
    const theirs = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${id}/messages/${q1.id}`,
      headers: { cookie: other.cookie },
    });
    expect(theirs.statusCode).toBe(404);
    const elsewhere = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const wrong = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${elsewhere}/messages/${q1.id}`,
      headers: { cookie: admin.cookie },
    });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().error.code).toBe('message.not_found');
    expect(await messagesOf(id)).toHaveLength(4);
  });
});

describe('sources (web search results)', () => {
  it('streams the cited pages, keeps them with the answer, and a continuation keeps them', async () => {
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const events = await send(id, { content: 'look it up [fake sources=2 chunks=8 limit=5]' });
    const streamed = events.find((e) => e.event === 'sources')?.data.sources;
    expect(streamed).toHaveLength(2);
    expect(streamed[0]).toEqual({
      url: expect.stringMatching(/^https:\/\/search\.fake-openrouter\.test\//),
      title: expect.stringContaining('look it up'),
    });
    const [, answer] = await messagesOf(id);
    expect((answer as unknown as { sources: unknown }).sources).toEqual(streamed);
    expect((await messagesOf(id))[0]).toMatchObject({ sources: null });

    // Continued: the same pages cited again are not listed twice.
    const more = await postAnswer(`/api/conversations/${id}/messages/${answer!.id}/continue`);
    expect(more.find((e) => e.event === 'sources')).toBeUndefined();
    const [, whole] = await messagesOf(id);
    expect((whole as unknown as { sources: unknown }).sources).toEqual(streamed);
  });
});

describe('the conversation’s routing when answering again', () => {
  /** The body of the last chat request the fake OpenRouter received. */
  const lastUpstreamBody = () =>
    ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1)?.body as
      { model: string; models?: string[]; provider?: unknown } | undefined;

  it('regenerate and continue send its provider routing and fallbacks, and record who served', async () => {
    const id = await createConversation(ctx.app, admin, {
      model: 'fake/echo',
      fallbackModels: ['fake/reasoning'],
      providerRouting: { sort: 'throughput', order: ['fake-turbo'] },
    });
    const routed = {
      model: 'fake/echo',
      models: ['fake/reasoning'],
      provider: { sort: 'throughput', order: ['fake-turbo'] },
    };
    await send(id, { content: 'route me [fake chunks=8 limit=5]' });
    const [question, cut] = await messagesOf(id);

    const regenerated = await postAnswer(
      `/api/conversations/${id}/messages/${question!.id}/regenerate`,
      {},
    );
    expect(lastUpstreamBody()).toMatchObject(routed);
    expect(regenerated.at(-1)).toMatchObject({
      event: 'done',
      data: { model: 'fake/echo', provider: 'Fake Turbo' },
    });

    const continued = await postAnswer(`/api/conversations/${id}/messages/${cut!.id}/continue`);
    expect(lastUpstreamBody()).toMatchObject(routed);
    expect(continued.at(-1)).toMatchObject({
      event: 'done',
      data: { model: 'fake/echo', provider: 'Fake Turbo' },
    });

    // Saved: each answer names the provider of its latest call.
    const answers = (await messagesOf(id)).filter((m) => m.role === 'assistant');
    expect(answers).toHaveLength(2);
    for (const answer of answers) {
      expect(answer.generation).toMatchObject({ model: 'fake/echo', provider: 'Fake Turbo' });
    }
  });
});

describe('POST /api/conversations/:id/messages/:messageId/continue', () => {
  it('appends to an answer cut at the token limit, and the next send carries the whole answer', async () => {
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const first = await send(id, { content: 'tell me more [fake chunks=8 limit=5]' });
    const [question, cut] = await messagesOf(id);
    expect(cut!.generation?.finishReason).toBe('length');
    expect(cut!.content).toBe(deltas(first));

    const events = await postAnswer(`/api/conversations/${id}/messages/${cut!.id}/continue`);
    expect(events[0]).toMatchObject({
      event: 'assistant_message',
      data: { messageId: cut!.id, model: 'fake/echo' },
    });
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { finishReason: 'stop' } });
    // The branch with the partial answer last, as the assistant message to continue.
    expect(upstream()[1]).toEqual([`user: ${question!.content}`, `assistant: ${cut!.content}`]);

    const messages = await messagesOf(id);
    expect(messages).toHaveLength(2);
    const whole = messages[1]!;
    expect(whole).toMatchObject({ id: cut!.id, status: 'complete' });
    expect(whole.content).toBe(cut!.content + deltas(events));
    expect(whole.content).toMatch(/^You said: tell me more/);
    expect(whole.generation?.finishReason).toBe('stop');
    // Both calls' costs count.
    const rows = await ctx.db.all<{ n: number }>(
      'SELECT CAST(count(*) AS INTEGER) AS n FROM generations WHERE message_id = $1',
      [cut!.id],
    );
    expect(rows[0]?.n).toBe(2);

    // The export shows the answer's latest generation too.
    const exported = await ctx.app.inject({
      url: `/api/export/conversations/${id}/json`,
      headers: { cookie: admin.cookie },
    });
    expect(exported.statusCode).toBe(200);
    const archived = exported.json().conversations[0].messages[1];
    expect(archived).toMatchObject({
      content: whole.content,
      generation: { finishReason: 'stop' },
    });

    await send(id, { content: 'and then?' });
    expect(upstream()[2]).toEqual([
      `user: ${question!.content}`,
      `assistant: ${whole.content}`,
      'user: and then?',
    ]);
  });

  it('refuses a question and an answer still being written', async () => {
    const { id, q1 } = await twoTurns();
    const onQuestion = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/messages/${q1.id}/continue`,
      headers: { cookie: admin.cookie },
    });
    expect(onQuestion.statusCode).toBe(400);
    expect(onQuestion.json().error.code).toBe('message.not_continuable');

    const slow = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    const stream = postMessage(ctx.baseUrl, admin.cookie, slow, {
      content: 'long [fake chunks=100 delay=20]',
    });
    let answer = '';
    for await (const event of stream) {
      if (event.event === 'assistant_message') answer = event.data.messageId as string;
      if (event.event === 'delta') break;
    }
    const busy = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${slow}/messages/${answer}/continue`,
      headers: { cookie: admin.cookie },
    });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.code).toBe('message.busy');
  });

  it('refuses to continue an answer whose turn is not committed yet', async () => {
    const slow = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    // A transaction holds the writer: the turn's commit waits behind it, while the answer's
    // stream opens and runs (its user_message comes once the commit is done).
    let release!: () => void;
    const held = ctx.db.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    const stream = postMessage(ctx.baseUrl, admin.cookie, slow, {
      content: 'long [fake chunks=100 delay=20]',
    });
    let answer = '';
    const seen: string[] = [];
    for await (const event of stream) {
      seen.push(event.event);
      if (event.event === 'assistant_message') answer = event.data.messageId as string;
      if (event.event === 'delta') break;
    }
    expect(seen).not.toContain('user_message');
    const busy = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${slow}/messages/${answer}/continue`,
      headers: { cookie: admin.cookie },
    });
    release();
    await held;
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.code).toBe('message.busy');
  });

  it('runs one of two continuations of an answer sent at once, refusing the other', async () => {
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    await send(id, { content: 'cut [fake chunks=60 limit=2 delay=10]' });
    const [, cut] = await messagesOf(id);
    const url = `${ctx.baseUrl}/api/conversations/${id}/messages/${cut!.id}/continue`;
    const responses = await Promise.all(
      [0, 1].map(() => fetch(url, { method: 'POST', headers: { cookie: admin.cookie } })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    await Promise.all(responses.map((r) => r.text()));
    const [, after] = await messagesOf(id);
    // One continuation's two chunks were appended, once.
    expect(after!.content.startsWith(cut!.content)).toBe(true);
    expect(upstream()).toHaveLength(2);
  });
});

async function spent(): Promise<number> {
  const rows = await ctx.db.all<{ total: number | null }>(
    'SELECT SUM(cost_usd) AS total FROM generations WHERE user_id = $1',
    [admin.id],
  );
  return rows[0]?.total ?? 0;
}
