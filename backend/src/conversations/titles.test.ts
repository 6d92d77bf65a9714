import { afterEach, describe, expect, it } from 'vitest';
import { fakeTitle } from '../../../tools/fake-openrouter/src/scenarios.js';
import { loadConfig } from '../config.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage, readEvents } from '../test-support/sse-client.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { cleanTitle, createTitler, titleMessages } from './titles.js';

let ctx: TestContext;
let running: TestContext | null = null;
afterEach(async () => {
  await running?.close();
  running = null;
});

async function start(titleModel?: string): Promise<SignedInUser> {
  ctx = await startTestApp({ env: titleModel === undefined ? {} : { TITLE_MODEL: titleModel } });
  running = ctx;
  return setupAdmin(ctx.app, 'alice');
}

type Conversation = { id: string; title: string; titlePending: boolean; updatedAt: string };

async function newConversation(user: SignedInUser, body: Record<string, unknown> = {}) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: user.cookie },
    payload: { model: 'fake/echo', ...body },
  });
  return response.json() as Conversation;
}

async function read(user: SignedInUser, id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  return response.json() as {
    conversation: Conversation;
    messages: { id: string; role: string; generation: { id: string } | null }[];
  };
}

/** Reads the conversation until no title call runs for it. */
async function settled(user: SignedInUser, id: string): Promise<Conversation> {
  for (let i = 0; i < 200; i++) {
    const { conversation } = await read(user, id);
    if (!conversation.titlePending) return conversation;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the title call did not end');
}

async function ask(user: SignedInUser, id: string, content: string) {
  const events = await collect(postMessage(ctx.baseUrl, user.cookie, id, { content }));
  expect(events.at(-1)?.event).toBe('done');
  return events.find((e) => e.event === 'assistant_message')?.data.messageId as string;
}

const titleRequests = () =>
  ctx.fake.requests.filter(
    (r) =>
      r.path.endsWith('/chat/completions') &&
      JSON.stringify((r.body as { messages: unknown[] }).messages[0]).includes('title'),
  );

type GenerationRow = {
  purpose: string;
  message_id: string;
  model: string;
  cost_usd: number | null;
  error_code: string | null;
};

const generationsOf = (conversationId: string) =>
  ctx.db.all<GenerationRow>(
    `SELECT purpose, message_id, model, cost_usd, error_code FROM generations
     WHERE conversation_id = $1 ORDER BY created_at`,
    [conversationId],
  );

describe('the automatic title', () => {
  it('names the conversation with TITLE_MODEL after the first answer, and records the cost', async () => {
    const alice = await start('fake/echo');
    const c = await newConversation(alice);
    expect(c.title).toBe('New chat');
    const question = 'how do I plan a trip to Lisbon in spring?';
    const answerId = await ask(alice, c.id, question);

    const named = await settled(alice, c.id);
    expect(named.title).toBe(fakeTitle(question));
    expect(named.title).toBe('How Do I Plan A');
    // The title call went with the question and the answer, to the title model.
    const [request] = titleRequests();
    const body = request?.body as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe('fake/echo');
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(body.messages[1]?.content).toBe(question);
    expect(body.messages[2]?.content).toContain(`You said: ${question}`);

    // Its generation row: purpose title, naming the answer, with its cost; the answer shows
    // its own generation only.
    const rows = await generationsOf(c.id);
    expect(rows.map((r) => r.purpose)).toEqual(['answer', 'title']);
    expect(rows[1]).toMatchObject({ message_id: answerId, model: 'fake/echo', error_code: null });
    expect(rows[1]?.cost_usd).toBeGreaterThan(0);
    const { messages } = await read(alice, c.id);
    const answer = messages.find((m) => m.id === answerId);
    const answerRow = await ctx.db.one<{ id: string }>(
      `SELECT id FROM generations WHERE message_id = $1 AND purpose = 'answer'`,
      [answerId],
    );
    expect(answer?.generation?.id).toBe(answerRow?.id);

    // The export, too, gives the answer its own figures, not the title call's.
    const exported = await ctx.app.inject({
      url: `/api/export/conversations/${c.id}/json`,
      headers: { cookie: alice.cookie },
    });
    expect(exported.statusCode).toBe(200);
    const archive = exported.json() as {
      conversations: {
        messages: { id: string; generation: { model: string; cost: number } | null }[];
      }[];
    };
    const exportedAnswer = archive.conversations[0]?.messages.find((m) => m.id === answerId);
    expect(exportedAnswer?.generation?.cost).toBe(rows[0]?.cost_usd);

    // The budget counts it: this month's spend is both calls'.
    const budget = await ctx.app.inject({
      url: '/api/budgets/me',
      headers: { cookie: alice.cookie },
    });
    const total = rows.reduce((sum, r) => sum + (r.cost_usd ?? 0), 0);
    expect(budget.json().spentUsd).toBeCloseTo(total, 10);

    // Only the first answer names it.
    await ask(alice, c.id, 'and in summer?');
    await settled(alice, c.id);
    expect(titleRequests()).toHaveLength(1);
  });

  it('is not asked again when the first answer is regenerated or continued, or the question edited', async () => {
    const alice = await start('fake/echo');
    const c = await newConversation(alice);
    const question = 'what grows in a shady garden [fake chunks=8 limit=5]';
    const answerId = await ask(alice, c.id, question);
    const named = await settled(alice, c.id);
    expect(titleRequests()).toHaveLength(1);
    const { messages } = await read(alice, c.id);
    const questionId = messages.find((m) => m.role === 'user')?.id;

    const answerAgain = async (path: string) => {
      const response = await fetch(`${ctx.baseUrl}/api/conversations/${c.id}/messages/${path}`, {
        method: 'POST',
        headers: { cookie: alice.cookie, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(200);
      const events = await collect(readEvents(response.body!));
      expect(events.at(-1)?.event).toBe('done');
    };
    await answerAgain(`${questionId}/regenerate`);
    await answerAgain(`${answerId}/continue`);
    // An edit of the first question: a new first message (parentId null).
    const edited = await collect(
      postMessage(ctx.baseUrl, alice.cookie, c.id, { content: 'shade plants', parentId: null }),
    );
    expect(edited.at(-1)?.event).toBe('done');

    const after = await settled(alice, c.id);
    expect(after.title).toBe(named.title);
    expect(titleRequests()).toHaveLength(1);
    expect((await generationsOf(c.id)).filter((r) => r.purpose === 'title')).toHaveLength(1);
  });

  it('keeps the provisional title when the title model fails, and records the failed call', async () => {
    const alice = await start('fake/error');
    const c = await newConversation(alice);
    await ask(alice, c.id, 'why is the sky blue');
    const kept = await settled(alice, c.id);
    expect(kept.title).toBe('why is the sky blue');
    expect(titleRequests().length).toBeGreaterThan(0);
    const rows = await generationsOf(c.id);
    expect(rows.map((r) => [r.purpose, r.error_code])).toEqual([
      ['answer', null],
      ['title', 'upstream.unavailable'],
    ]);
  });

  it('makes no title call without TITLE_MODEL: the first words stay', async () => {
    const alice = await start();
    const c = await newConversation(alice);
    await ask(alice, c.id, 'a question   with\nspaces');
    const { conversation } = await read(alice, c.id);
    expect(conversation).toMatchObject({ title: 'a question with spaces', titlePending: false });
    expect(titleRequests()).toEqual([]);
    expect((await generationsOf(c.id)).map((r) => r.purpose)).toEqual(['answer']);
  });

  it('lets a rename made while the title is being written win', async () => {
    // fake/slow: 50 ms before each word of the title.
    const alice = await start('fake/slow');
    const c = await newConversation(alice, { model: 'fake/echo' });
    await ask(alice, c.id, 'one two three four five six');
    expect((await read(alice, c.id)).conversation.titlePending).toBe(true);
    const renamed = await ctx.app.inject({
      method: 'PATCH',
      url: `/api/conversations/${c.id}`,
      headers: { cookie: alice.cookie },
      payload: { title: 'My own name' },
    });
    expect(renamed.statusCode).toBe(200);
    const after = await settled(alice, c.id);
    expect(after.title).toBe('My own name');
    // The call ran to its end and is on record all the same.
    expect((await generationsOf(c.id)).map((r) => r.purpose)).toEqual(['answer', 'title']);
  });

  it('reports a call that ended while a read ran as pending to that read', async () => {
    // A read that started before the rename's commit shows the old title: told "pending", the
    // client reads again instead of keeping it.
    const alice = await start();
    const c = await newConversation(alice);
    const titles = createTitler({ db: ctx.db, log: ctx.app.log, model: 'fake/echo' });
    const readStarted = performance.now();
    titles.afterFirstAnswer({
      userId: alice.id,
      conversationId: c.id,
      messageId: crypto.randomUUID(),
      provisional: c.title,
      question: 'how do I plan a trip to Lisbon in spring?',
      answer: 'Start with the dates.',
      openrouter: createOpenRouterClient({ baseUrl: ctx.fake.url, apiKey: 'sk-or-test' }),
      recordCost: () => undefined,
    });
    expect(titles.isPending(c.id)).toBe(true);
    await titles.idle();
    expect((await read(alice, c.id)).conversation.title).toBe('How Do I Plan A');
    expect(titles.isPending(c.id)).toBe(false);
    expect(titles.isPending(c.id, readStarted)).toBe(true);
    expect(titles.isPending(c.id, performance.now())).toBe(false);
  });

  it('does not rename a conversation created with a title of its own', async () => {
    const alice = await start('fake/echo');
    const c = await newConversation(alice, { title: 'Chosen' });
    await ask(alice, c.id, 'something');
    expect((await settled(alice, c.id)).title).toBe('Chosen');
    expect(titleRequests()).toEqual([]);
  });
});

describe('cleanTitle', () => {
  it('keeps the first line without labels, quotes, emphasis or a final full stop', () => {
    expect(cleanTitle('"Trip to Lisbon."')).toBe('Trip to Lisbon');
    expect(cleanTitle('\n\n**Title:** Trip planning\nMore text')).toBe('Trip planning');
    expect(cleanTitle('# Rust   lifetimes')).toBe('Rust lifetimes');
    expect(cleanTitle('Title: «Un voyage»')).toBe('Un voyage');
    expect(cleanTitle('“Curly quotes”')).toBe('Curly quotes');
    expect(cleanTitle('‘Single ones’')).toBe('Single ones');
    expect(cleanTitle('東京への旅。')).toBe('東京への旅');
    expect(cleanTitle('  \n  ')).toBeNull();
    expect(cleanTitle('"."')).toBeNull();
  });

  it('drops control characters and lone surrogates and shortens long replies', () => {
    expect(cleanTitle('a\u0000b\u0007c \ud800d')).toBe('abc d');
    const long = cleanTitle(`${'word '.repeat(40)}`);
    expect(Array.from(long ?? '').length).toBeLessThanOrEqual(81);
    expect(long?.endsWith('…')).toBe(true);
  });

  it('sends at most 2,000 characters of the question and of the answer', () => {
    const messages = titleMessages('q'.repeat(5000), 'a'.repeat(5000));
    expect(messages[1]?.content.length).toBe(2001);
    expect(messages[2]?.content.length).toBe(2001);
  });
});

describe('TITLE_MODEL', () => {
  it('is optional and must be a model id', () => {
    expect(loadConfig({}).titleModel).toBeUndefined();
    expect(loadConfig({ TITLE_MODEL: '  ' }).titleModel).toBeUndefined();
    expect(loadConfig({ TITLE_MODEL: 'openai/gpt-4o-mini' }).titleModel).toBe('openai/gpt-4o-mini');
    expect(() => loadConfig({ TITLE_MODEL: 'two words' })).toThrow(/TITLE_MODEL/);
    expect(() => loadConfig({ TITLE_MODEL: 'x'.repeat(201) })).toThrow(/TITLE_MODEL/);
  });
});
