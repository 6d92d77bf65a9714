import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { PNG } from '../attachments/fixtures.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import {
  collect,
  openSseRequest,
  postMessage,
  readEvents,
  type ReceivedEvent,
} from '../test-support/sse-client.js';

// Compare: one question sent to 2 to 4 models at once (POST /api/conversations/:id/compare),
// their answers streamed interleaved in one response, stored as siblings, and one of them
// chosen to continue with. What is stored, what each answer's stream carries, and what the
// next upstream request holds (the fake records every request).

let ctx: TestContext;
afterEach(() => ctx.close());

interface StoredMessage {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  model: string | null;
  status: string;
  error: string | null;
  comparisonId: string | null;
  generation: {
    id: string;
    model: string;
    promptTokens: number | null;
    completionTokens: number | null;
    cost: number | null;
    timeToFirstTokenMs: number | null;
    durationMs: number | null;
    finishReason: string | null;
  } | null;
}

interface Detail {
  conversation: { model: string | null };
  messages: StoredMessage[];
  comparisons: Array<{
    id: string;
    questionId: string;
    answerIds: string[];
    chosenId: string | null;
    chosenAt: string | null;
  }>;
}

async function detailOf(id: string, user: SignedInUser): Promise<Detail> {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Detail;
}

/** POSTs a comparison over a real socket: its events, or the status and error of a refusal. */
async function compare(user: SignedInUser, conversationId: string, body: unknown) {
  const response = await fetch(`${ctx.baseUrl}/api/conversations/${conversationId}/compare`, {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 200 || !response.body) {
    return { status: response.status, events: [] as ReceivedEvent[], json: await response.json() };
  }
  return { status: 200, events: await collect(readEvents(response.body)), json: null };
}

/** The events of one answer of a comparison's stream, in order. */
const eventsOf = (events: ReceivedEvent[], messageId: string) =>
  events.filter((e) => e.data?.messageId === messageId && e.event !== 'assistant_message');

const textOf = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');

const chatRequests = () => ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');

/** The messages (role: text) of an upstream chat request. */
const lines = (body: unknown) =>
  (body as { messages: Array<{ role: string; content: string }> }).messages.map(
    (m) => `${m.role}: ${m.content}`,
  );

async function choose(user: SignedInUser, id: string, comparisonId: string, messageId: string) {
  return ctx.app.inject({
    method: 'POST',
    url: `/api/conversations/${id}/comparisons/${comparisonId}/choose`,
    headers: { cookie: user.cookie },
    payload: { messageId },
  });
}

async function counts() {
  return (await ctx.db.one<{ messages: number; generations: number; comparisons: number }>(
    `SELECT (SELECT COUNT(*) FROM messages)::INTEGER AS messages,
            (SELECT COUNT(*) FROM generations)::INTEGER AS generations,
            (SELECT COUNT(*) FROM comparisons)::INTEGER AS comparisons`,
  ))!;
}

describe('POST /api/conversations/:id/compare', () => {
  it('streams each model’s answer tagged with its message, stored as siblings with their own figures', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    // Fallback models are the conversation's, for its sends: a comparison's answers are the
    // models named, so none is sent.
    const id = await createConversation(ctx.app, alice, {
      model: 'fake/echo',
      fallbackModels: ['fake/slow'],
      providerRouting: { sort: 'price' },
    });
    const models = ['fake/echo', 'fake/reasoning', 'openai/gpt-4o-mini'];
    const { status, events } = await compare(alice, id, {
      content: 'Which is best? [fake chunks=5]',
      models,
    });
    expect(status).toBe(200);

    // The question, the comparison with its answers in the models' order, one
    // assistant_message each, then each answer's events, each ending with its own done.
    const question = events[0]!;
    expect(question).toMatchObject({
      event: 'user_message',
      data: { role: 'user', content: 'Which is best? [fake chunks=5]', comparisonId: null },
    });
    const comparison = events[1]!;
    expect(comparison.event).toBe('comparison');
    expect(comparison.data.questionId).toBe(question.data.id);
    const answers = comparison.data.answers as Array<{
      messageId: string;
      generationId: string;
      model: string;
    }>;
    expect(answers.map((a) => a.model)).toEqual(models);
    expect(events.slice(2, 5)).toEqual(
      answers.map((a) => ({ event: 'assistant_message', data: a })),
    );
    // Every later event names the answer it belongs to.
    const ids = answers.map((a) => a.messageId);
    for (const event of events.slice(5)) expect(ids).toContain(event.data.messageId);
    for (const answer of answers) {
      const own = eventsOf(events, answer.messageId);
      expect(own.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(own.at(-1)).toMatchObject({
        event: 'done',
        data: { messageId: answer.messageId, status: 'complete', model: answer.model },
      });
      expect(own.some((e) => e.event === 'usage')).toBe(true);
    }
    expect(eventsOf(events, ids[1]!).some((e) => e.event === 'reasoning')).toBe(true);

    // Stored: one question and its three answers, siblings under it, marked with the comparison.
    const detail = await detailOf(id, alice);
    expect(detail.messages).toHaveLength(4);
    const [q, ...stored] = detail.messages;
    expect(q).toMatchObject({ id: question.data.id, role: 'user', comparisonId: null });
    expect(stored.map((m) => m.id)).toEqual(ids);
    for (const [i, message] of stored.entries()) {
      const own = eventsOf(events, message.id);
      const usage = own.find((e) => e.event === 'usage')!.data;
      expect(message).toMatchObject({
        parentId: q!.id,
        role: 'assistant',
        status: 'complete',
        model: models[i],
        comparisonId: comparison.data.id,
        content: textOf(own),
        generation: {
          id: answers[i]!.generationId,
          model: models[i],
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          cost: usage.cost,
          finishReason: 'stop',
        },
      });
      expect(message.generation!.timeToFirstTokenMs).toEqual(expect.any(Number));
      expect(message.generation!.durationMs).toEqual(expect.any(Number));
      expect(message.content).toContain('You said: Which is best?');
    }
    expect(detail.comparisons).toEqual([
      {
        id: comparison.data.id,
        questionId: q!.id,
        answerIds: ids,
        chosenId: null,
        chosenAt: null,
        createdAt: expect.any(String),
      },
    ]);
    // Each answer has its generation row, purpose compare; the conversation keeps its model.
    const rows = await ctx.db.all<{ id: string; purpose: string }>(
      'SELECT id, purpose FROM generations WHERE conversation_id = $1 ORDER BY created_at',
      [id],
    );
    expect(rows).toEqual(answers.map((a) => ({ id: a.generationId, purpose: 'compare' })));
    expect(detail.conversation.model).toBe('fake/echo');

    // Three upstream calls, one per model, each with the question alone, the provider routing
    // and no fallback models.
    const sent = chatRequests().map((r) => r.body as Record<string, unknown>);
    expect(sent.map((b) => b['model']).sort()).toEqual([...models].sort());
    for (const body of sent) {
      expect(lines(body)).toEqual(['user: Which is best? [fake chunks=5]']);
      expect(body['models']).toBeUndefined();
      expect(body['provider']).toEqual({ sort: 'price' });
    }
  });

  it('sends every model the conversation’s system prompt and the parameters it takes', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, {
      model: 'fake/reasoning',
      systemPrompt: 'Answer in one line.',
      params: { temperature: 0.4, reasoningEffort: 'high' },
    });
    const { status } = await compare(alice, id, {
      content: 'Compare with settings',
      models: ['fake/reasoning', 'anthropic/claude-3.5-haiku'],
    });
    expect(status).toBe(200);
    const sent = new Map(
      chatRequests().map((r) => {
        const body = r.body as Record<string, unknown>;
        return [body['model'] as string, body];
      }),
    );
    for (const body of sent.values()) {
      expect(lines(body)).toEqual(['system: Answer in one line.', 'user: Compare with settings']);
      expect(body['temperature']).toBe(0.4);
    }
    // Each model gets what its catalog entry lists: the fake haiku takes no reasoning effort.
    expect(sent.get('fake/reasoning')?.['reasoning']).toEqual({ effort: 'high' });
    expect(sent.get('anthropic/claude-3.5-haiku')?.['reasoning']).toBeUndefined();
  });

  it('sends the question’s files to every model, once each model takes them', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'openai/gpt-4o-mini' });
    const image = await uploadAttachment(ctx.app, alice, 'pixel.png', PNG);
    const before = await counts();
    const upstreamBefore = chatRequests().length;

    // A model without image input among them: refused before anything is stored or sent.
    const refused = await compare(alice, id, {
      content: 'What is this?',
      models: ['openai/gpt-4o-mini', 'fake/echo'],
      attachmentIds: [image],
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('attachment.images_unsupported');
    expect(await counts()).toEqual(before);
    expect(chatRequests().length).toBe(upstreamBefore);

    const models = ['openai/gpt-4o-mini', 'anthropic/claude-3.5-haiku'];
    const { status, events } = await compare(alice, id, {
      content: 'What is this?',
      models,
      attachmentIds: [image],
    });
    expect(status).toBe(200);
    expect(events[0]!.data.attachments.map((a: { id: string }) => a.id)).toEqual([image]);
    const sent = chatRequests().slice(upstreamBefore);
    expect(sent.map((r) => (r.body as { model: string }).model).sort()).toEqual([...models].sort());
    for (const request of sent) {
      expect(request.parts).toEqual([
        expect.objectContaining({ type: 'image', mediaType: 'image/png' }),
      ]);
    }
    for (const answer of events.find((e) => e.event === 'comparison')!.data.answers) {
      expect(textOf(eventsOf(events, answer.messageId))).toContain(
        `[image image/png, ${PNG.length} bytes]`,
      );
    }
    // The question holds its file once, as a send's does.
    const [question] = (await detailOf(id, alice)).messages as unknown as Array<{
      attachments: Array<{ id: string }>;
    }>;
    expect(question!.attachments.map((a) => a.id)).toEqual([image]);
  });

  it('keeps the other answers going when one model fails, each with its own end', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    const models = ['fake/echo', 'fake/error', 'fake/midstream-error', 'fake/slow'];
    const { status, events } = await compare(alice, id, {
      content: 'Go [fake status=400 chunks=6 delay=5 after=2]',
      models,
    });
    expect(status).toBe(200);
    const answers = events.find((e) => e.event === 'comparison')!.data.answers as Array<{
      messageId: string;
    }>;
    const ends = answers.map((a) => eventsOf(events, a.messageId).at(-1));
    expect(ends.map((e) => e?.event)).toEqual(['done', 'error', 'error', 'done']);
    expect(ends[1]!.data).toMatchObject({ code: 'upstream.bad_request' });
    expect(ends[2]!.data).toMatchObject({ code: 'upstream.stream_error' });

    const stored = (await detailOf(id, alice)).messages.slice(1);
    expect(stored.map((m) => m.status)).toEqual(['complete', 'error', 'error', 'complete']);
    expect(stored[1]).toMatchObject({ content: '', error: expect.any(String) });
    // The answer that failed midway keeps what it wrote.
    expect(stored[2]!.content).toBe(textOf(eventsOf(events, answers[2]!.messageId)));
    expect(stored[2]!.content).not.toBe('');
    expect(stored[3]!.content).toContain('You said: Go');
  });

  it('reattaches to each answer, stops one, then stops the rest with one call', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/slow' });
    const stream = await openSseRequest(`${ctx.baseUrl}/api/conversations/${id}/compare`, {
      method: 'POST',
      cookie: alice.cookie,
      body: {
        content: 'Take your time [fake chunks=300 delay=20]',
        models: ['fake/slow', 'fake/echo', 'fake/reasoning'],
      },
    });
    expect(stream.status).toBe(200);
    const reader = stream.events[Symbol.asyncIterator]();
    let comparison: { id: string; answers: Array<{ messageId: string; generationId: string }> };
    const seen: ReceivedEvent[] = [];
    for (;;) {
      const next = await reader.next();
      if (next.done) throw new Error('the stream ended early');
      seen.push(next.value);
      if (next.value.event === 'comparison') comparison = next.value.data;
      if (seen.filter((e) => e.event === 'delta').length >= 6) break;
    }
    // The tab goes away: the answers go on, each can be reattached to by its own generation.
    stream.close();
    const [first, second, third] = comparison!.answers;
    const again = await Promise.all(
      [first, second, third].map((a) =>
        openSseRequest(`${ctx.baseUrl}/api/generations/${a!.generationId}/stream`, {
          method: 'GET',
          cookie: alice.cookie,
        }),
      ),
    );
    expect(again.map((s) => s.status)).toEqual([200, 200, 200]);

    // One stop call per answer: the first stops, the others go on.
    const stopOne = await ctx.app.inject({
      method: 'POST',
      url: `/api/generations/${first!.generationId}/stop`,
      headers: { cookie: alice.cookie },
    });
    expect(stopOne.statusCode).toBe(200);
    const firstEvents = await collect(again[0]!.events);
    expect(firstEvents.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });

    // "Stop all": the two still running.
    const stopAll = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/comparisons/${comparison!.id}/stop`,
      headers: { cookie: alice.cookie },
    });
    expect(stopAll.statusCode, stopAll.body).toBe(200);
    expect(stopAll.json()).toEqual({ stopped: 2 });
    const rest = await Promise.all([collect(again[1]!.events), collect(again[2]!.events)]);
    for (const events of rest) {
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    }
    // Each reattached stream's text is the answer's saved text exactly.
    const stored = (await detailOf(id, alice)).messages.slice(1);
    expect(stored.map((m) => m.status)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(stored[0]!.content).toBe(textOf(firstEvents));
    expect(stored[1]!.content).toBe(textOf(rest[0]!));
    expect(stored[2]!.content).toBe(textOf(rest[1]!));

    // Nothing left to stop; another user finds no such comparison.
    const none = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/comparisons/${comparison!.id}/stop`,
      headers: { cookie: alice.cookie },
    });
    expect(none.json()).toEqual({ stopped: 0 });
    const bob = await buildUser(ctx.app, ctx.db);
    const theirs = await ctx.app.inject({
      method: 'POST',
      url: `/api/conversations/${id}/comparisons/${comparison!.id}/stop`,
      headers: { cookie: bob.cookie },
    });
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('conversation.not_found');
  });
});

describe('choosing an answer', () => {
  it('records the choice, and the next message continues from it with only its branch as context', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    await collect(postMessage(ctx.baseUrl, alice.cookie, id, { content: 'hello' }));
    const before = await detailOf(id, alice);
    const firstAnswer = before.messages[1]!;
    // Three different texts (the fake's answer depends on the scenario's chunks, not on the
    // model): fake/slow writes 40 pieces, fake/echo 8, fake/midstream-error 3 and then fails.
    const { events } = await compare(alice, id, {
      content: 'Compare this [fake delay=1]',
      models: ['fake/slow', 'fake/echo', 'fake/midstream-error'],
    });
    const comparisonId = events.find((e) => e.event === 'comparison')!.data.id as string;
    const stored = (await detailOf(id, alice)).messages.slice(3);
    const [a, b, c] = stored;
    // The comparison continues the branch: its question follows the first answer.
    expect((await detailOf(id, alice)).messages[2]).toMatchObject({ parentId: firstAnswer.id });

    // The first answer is chosen (not the newest, which a send would follow by default).
    const chosen = await choose(alice, id, comparisonId, a!.id);
    expect(chosen.statusCode, chosen.body).toBe(200);
    expect(chosen.json()).toMatchObject({
      comparison: {
        id: comparisonId,
        answerIds: [a!.id, b!.id, c!.id],
        chosenId: a!.id,
        chosenAt: expect.any(String),
      },
      // The conversation goes on with the chosen answer's model.
      conversation: { id, model: 'fake/slow' },
    });
    const detail = await detailOf(id, alice);
    expect(detail.comparisons[0]).toMatchObject({ chosenId: a!.id });
    expect(detail.conversation.model).toBe('fake/slow');
    expect(new Set([a!.content, b!.content, c!.content]).size).toBe(3);

    // No parent named: the chosen answer's branch, and only it, is the context.
    const next = await collect(
      postMessage(ctx.baseUrl, alice.cookie, id, { content: 'go on [fake delay=1]' }),
    );
    expect(next.at(-1)?.event).toBe('done');
    expect(next.find((e) => e.event === 'user_message')!.data).toMatchObject({ parentId: a!.id });
    const request = chatRequests().at(-1)!;
    expect((request.body as { model: string }).model).toBe('fake/slow');
    expect(lines(request.body)).toEqual([
      'user: hello',
      `assistant: ${firstAnswer.content}`,
      'user: Compare this [fake delay=1]',
      `assistant: ${a!.content}`,
      'user: go on [fake delay=1]',
    ]);

    // Another answer chosen later: the next send follows it (the choice is read again).
    expect((await choose(alice, id, comparisonId, b!.id)).statusCode).toBe(200);
    await collect(postMessage(ctx.baseUrl, alice.cookie, id, { content: 'and then' }));
    expect(lines(chatRequests().at(-1)!.body).slice(2)).toEqual([
      'user: Compare this [fake delay=1]',
      `assistant: ${b!.content}`,
      'user: and then',
    ]);

    // The answers stay ordinary siblings: a regenerate adds a version outside the comparison.
    const question = detail.messages[2]!;
    const regenerated = await fetch(
      `${ctx.baseUrl}/api/conversations/${id}/messages/${question.id}/regenerate`,
      {
        method: 'POST',
        headers: { cookie: alice.cookie, 'content-type': 'application/json' },
        body: '{}',
      },
    );
    await collect(readEvents(regenerated.body!));
    const after = await detailOf(id, alice);
    const siblings = after.messages.filter((m) => m.parentId === question.id);
    expect(siblings).toHaveLength(4);
    expect(siblings.at(-1)!.comparisonId).toBeNull();
    expect(after.comparisons[0]!.answerIds).toEqual([a!.id, b!.id, c!.id]);
  });

  it('refuses what is not one of its answers, and another user’s comparison', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    const { events } = await compare(alice, id, {
      content: 'Compare',
      models: ['fake/echo', 'fake/reasoning'],
    });
    const comparisonId = events.find((e) => e.event === 'comparison')!.data.id as string;
    const questionId = events[0]!.data.id as string;
    const answerId = events.find((e) => e.event === 'assistant_message')!.data.messageId;

    const notAnswer = await choose(alice, id, comparisonId, questionId);
    expect(notAnswer.statusCode).toBe(400);
    expect(notAnswer.json().error.code).toBe('comparison.not_an_answer');
    const missing = await choose(alice, id, crypto.randomUUID(), answerId);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('comparison.not_found');
    // The comparison of another conversation of hers is not found in this one.
    const other = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    expect((await choose(alice, other, comparisonId, answerId)).json().error.code).toBe(
      'comparison.not_found',
    );
    const bob = await buildUser(ctx.app, ctx.db);
    const theirs = await choose(bob, id, comparisonId, answerId);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('conversation.not_found');
    expect((await detailOf(id, alice)).comparisons[0]!.chosenId).toBeNull();
  });

  it('forgets the choice when the chosen answer is deleted, and the comparison with its question', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    const { events } = await compare(alice, id, {
      content: 'Compare',
      models: ['fake/echo', 'fake/reasoning', 'fake/slow'],
    });
    const comparisonId = events.find((e) => e.event === 'comparison')!.data.id as string;
    const [a, b] = (await detailOf(id, alice)).messages.slice(1);
    expect((await choose(alice, id, comparisonId, b!.id)).statusCode).toBe(200);
    const remove = (messageId: string) =>
      ctx.app.inject({
        method: 'DELETE',
        url: `/api/conversations/${id}/messages/${messageId}`,
        headers: { cookie: alice.cookie },
      });
    expect((await remove(b!.id)).statusCode).toBe(200);
    let detail = await detailOf(id, alice);
    expect(detail.comparisons[0]).toMatchObject({
      chosenId: null,
      answerIds: [a!.id, expect.any(String)],
    });
    expect(
      (await ctx.db.one<{ chosen_id: string | null }>('SELECT chosen_id FROM comparisons'))!
        .chosen_id,
    ).toBeNull();

    expect((await remove(detail.messages[0]!.id)).statusCode).toBe(200);
    detail = await detailOf(id, alice);
    expect(detail.messages).toEqual([]);
    expect(detail.comparisons).toEqual([]);
    expect((await counts()).comparisons).toBe(0);
  });
});

describe('what a comparison is refused for', () => {
  it('refuses a wrong number of models, one twice, one not in the catalog, a bad parent and another user’s conversation, storing nothing', async () => {
    ctx = await startTestApp();
    const alice = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    const elsewhere = await createConversation(ctx.app, alice, { model: 'fake/echo' });
    await collect(postMessage(ctx.baseUrl, alice.cookie, elsewhere, { content: 'hi' }));
    const foreignParent = (await detailOf(elsewhere, alice)).messages[1]!.id;
    const bob = await buildUser(ctx.app, ctx.db);
    const before = await counts();
    const upstreamBefore = chatRequests().length;

    const cases: Array<[SignedInUser, unknown, number, string]> = [
      [alice, { content: 'x', models: ['fake/echo'] }, 400, 'compare.model_count'],
      [alice, { content: 'x', models: [] }, 400, 'compare.model_count'],
      [
        alice,
        {
          content: 'x',
          models: ['fake/echo', 'fake/slow', 'fake/reasoning', 'fake/length', 'fake/drop'],
        },
        400,
        'compare.model_count',
      ],
      [alice, { content: 'x', models: ['fake/echo', 'fake/echo'] }, 400, 'compare.duplicate_model'],
      [
        alice,
        { content: 'x', models: ['fake/echo', 'nobody/no-such-model'] },
        400,
        'model.unknown',
      ],
      [alice, { content: '', models: ['fake/echo', 'fake/slow'] }, 400, 'request.invalid'],
      [alice, { models: ['fake/echo', 'fake/slow'] }, 400, 'request.invalid'],
      [
        alice,
        { content: 'x', models: ['fake/echo', 'fake/slow'], parentId: foreignParent },
        400,
        'message.parent_invalid',
      ],
      [bob, { content: 'x', models: ['fake/echo', 'fake/slow'] }, 404, 'conversation.not_found'],
    ];
    for (const [user, body, status, code] of cases) {
      const answer = await compare(user, id, body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.json.error.code, JSON.stringify(body)).toBe(code);
    }
    const missing = await compare(alice, crypto.randomUUID(), {
      content: 'x',
      models: ['fake/echo', 'fake/slow'],
    });
    expect(missing.status).toBe(404);
    expect(await counts()).toEqual(before);
    expect(chatRequests().length).toBe(upstreamBefore);
  });

  it('is admitted as one send per model: the allow-list, the rate limit and the budget, before any upstream call', async () => {
    ctx = await startTestApp({ env: { CHAT_RATE_LIMIT_PER_MINUTE: '3' } });
    const admin = await setupAdmin(ctx.app, 'admin');
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const id = await createConversation(ctx.app, bob, { model: 'fake/echo' });
    const settings = await ctx.app.inject({
      method: 'PATCH',
      url: '/api/admin/settings',
      headers: { cookie: admin.cookie },
      payload: { allowedModels: ['fake/echo', 'fake/reasoning'] },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    const before = await counts();

    // Every model must be allowed.
    const refused = await compare(bob, id, { content: 'x', models: ['fake/echo', 'fake/slow'] });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('model.not_allowed');

    // The rate limit (3 a minute) counts each model: after a comparison of two, one send is
    // left, so another comparison of two is refused, counting nothing, and a send still goes.
    const two = await compare(bob, id, { content: 'x', models: ['fake/echo', 'fake/reasoning'] });
    expect(two.status).toBe(200);
    const tooFast = await compare(bob, id, {
      content: 'y',
      models: ['fake/echo', 'fake/reasoning'],
    });
    expect(tooFast.status).toBe(429);
    expect(tooFast.json.error.code).toBe('chat.rate_limited');
    const upstreamBefore = chatRequests().length;
    const one = await collect(postMessage(ctx.baseUrl, bob.cookie, id, { content: 'one more' }));
    expect(one.at(-1)?.event).toBe('done');
    expect(chatRequests().length).toBe(upstreamBefore + 1);
    expect((await counts()).comparisons).toBe(before.comparisons + 1);
  });

  it('is refused when the budget cannot cover its prompts, though a single send still goes', async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app, 'admin');
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const id = await createConversation(ctx.app, bob, { model: 'fake/echo' });
    const setLimit = async (monthlyLimitUsd: number) => {
      const response = await ctx.app.inject({
        method: 'PUT',
        url: `/api/admin/budgets/users/${bob.id}`,
        headers: { cookie: admin.cookie },
        payload: { monthlyLimitUsd },
      });
      expect(response.statusCode, response.body).toBe(200);
    };
    // 400 characters: about 100 prompt tokens, $0.0001 per model at fake/echo's input price
    // ($0.000001 a token) and $0.00011 at fake/reasoning's: $0.00021 for the two.
    const content = 'q'.repeat(400);
    await setLimit(0.0002);
    const before = await counts();
    const upstreamBefore = chatRequests().length;
    const refused = await compare(bob, id, { content, models: ['fake/echo', 'fake/reasoning'] });
    expect(refused.status).toBe(402);
    expect(refused.json.error.code).toBe('budget.exceeded');
    expect(refused.json.error.message).toContain('$0.00021');
    expect(await counts()).toEqual(before);
    expect(chatRequests().length).toBe(upstreamBefore);

    // With room for both prompts it goes.
    await setLimit(0.01);
    const allowed = await compare(bob, id, { content, models: ['fake/echo', 'fake/reasoning'] });
    expect(allowed.status).toBe(200);
    const spent = (
      await ctx.app.inject({ url: '/api/budgets/me', headers: { cookie: bob.cookie } })
    ).json().spentUsd as number;
    const costs = allowed.events
      .filter((e) => e.event === 'usage')
      .reduce((sum, e) => sum + (e.data.cost as number), 0);
    // Both answers' costs count.
    expect(spent).toBeCloseTo(costs, 12);

    // At the limit nothing goes; a limit the spend has not reached still lets a single send
    // through (as before), but not a comparison whose prompts would pass it.
    await setLimit(spent + 0.00015);
    const single = await collect(postMessage(ctx.baseUrl, bob.cookie, id, { content: 'short' }));
    expect(single.at(-1)?.event).toBe('done');
    const pricey = await compare(bob, id, { content, models: ['fake/echo', 'fake/reasoning'] });
    expect(pricey.status).toBe(402);
  });
});
