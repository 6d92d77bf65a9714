import { Value } from 'typebox/value';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, postMessage, readEvents } from '../test-support/sse-client.js';
import { ExportArchive, type ExportConversation } from './schemas.js';

// A conversation's comparisons (questions sent to several models at once) in this app's JSON
// archive: exported with their answers and choice, imported back with new ids, the chosen
// answer still chosen, checked like the rest of the file.

let ctx: TestContext;
let alice: SignedInUser;
let bob: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
  bob = await buildUser(ctx.app, ctx.db, 'bob');
});
afterEach(() => ctx.close());

interface Detail {
  messages: Array<{
    id: string;
    parentId: string | null;
    content: string;
    comparisonId: string | null;
  }>;
  comparisons: Array<{
    id: string;
    questionId: string;
    answerIds: string[];
    chosenId: string | null;
  }>;
}

async function detailOf(user: SignedInUser, id: string): Promise<Detail> {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json() as Detail;
}

/** A question, then a comparison of three models with the second answer chosen, then a reply. */
async function comparedConversation(user: SignedInUser) {
  const id = await createConversation(ctx.app, user, { title: 'Compared', model: 'fake/echo' });
  await collect(postMessage(ctx.baseUrl, user.cookie, id, { content: 'first' }));
  const response = await fetch(`${ctx.baseUrl}/api/conversations/${id}/compare`, {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({
      content: 'Which one? [fake delay=1]',
      models: ['fake/echo', 'fake/slow', 'fake/reasoning'],
    }),
  });
  const events = await collect(readEvents(response.body!));
  const comparison = events.find((e) => e.event === 'comparison')!.data as {
    id: string;
    answers: Array<{ messageId: string }>;
  };
  const chosen = comparison.answers[1]!.messageId;
  const choice = await ctx.app.inject({
    method: 'POST',
    url: `/api/conversations/${id}/comparisons/${comparison.id}/choose`,
    headers: { cookie: user.cookie },
    payload: { messageId: chosen },
  });
  expect(choice.statusCode, choice.body).toBe(200);
  await collect(postMessage(ctx.baseUrl, user.cookie, id, { content: 'and then?' }));
  return { id, comparisonId: comparison.id, chosen };
}

async function importText(user: SignedInUser, payload: string) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/import',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    payload,
  });
}

describe('comparisons in the JSON archive', () => {
  it('are exported with their answers and choice, and imported back with new ids', async () => {
    const { id, comparisonId, chosen } = await comparedConversation(alice);
    const original = await detailOf(alice, id);
    const response = await ctx.app.inject({
      url: `/api/export/conversations/${id}/json`,
      headers: { cookie: alice.cookie },
    });
    expect(response.statusCode).toBe(200);
    const archive = response.json();
    expect(Value.Check(ExportArchive, archive)).toBe(true);
    const [entry] = archive.conversations as ExportConversation[];
    expect(entry!.comparisons).toEqual([
      {
        id: comparisonId,
        questionId: original.comparisons[0]!.questionId,
        answerIds: original.comparisons[0]!.answerIds,
        chosenId: chosen,
        createdAt: expect.any(String),
        chosenAt: expect.any(String),
      },
    ]);

    const imported = await importText(bob, response.body);
    expect(imported.statusCode, imported.body).toBe(201);
    const copyId = imported.json().conversations[0].id as string;
    const copy = await detailOf(bob, copyId);
    expect(copy.comparisons).toHaveLength(1);
    const [comparison] = copy.comparisons;
    expect(comparison!.id).not.toBe(comparisonId);
    const copyById = new Map(copy.messages.map((m) => [m.id, m]));
    const originalById = new Map(original.messages.map((m) => [m.id, m]));
    // The same question, the same answers in the same order, the same one chosen.
    expect(copyById.get(comparison!.questionId)!.content).toBe(
      originalById.get(original.comparisons[0]!.questionId)!.content,
    );
    expect(comparison!.answerIds.map((a) => copyById.get(a)!.content)).toEqual(
      original.comparisons[0]!.answerIds.map((a) => originalById.get(a)!.content),
    );
    expect(comparison!.answerIds.indexOf(comparison!.chosenId!)).toBe(1);
    for (const answerId of comparison!.answerIds) {
      expect(copyById.get(answerId)).toMatchObject({
        parentId: comparison!.questionId,
        comparisonId: comparison!.id,
      });
    }
    // Their generations are the comparison's, and imported (not this server's spend).
    const purposes = await ctx.db.all<{ purpose: string; imported: boolean }>(
      `SELECT purpose, imported FROM generations
       WHERE conversation_id = $1 AND message_id IN ($2, $3, $4) ORDER BY purpose`,
      [copyId, ...comparison!.answerIds],
    );
    expect(purposes).toEqual([
      { purpose: 'compare', imported: true },
      { purpose: 'compare', imported: true },
      { purpose: 'compare', imported: true },
    ]);

    // The imported conversation goes on from the chosen answer.
    await collect(postMessage(ctx.baseUrl, bob.cookie, copyId, { content: 'go on' }));
    const request = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1)!;
    const sent = (request.body as { messages: Array<{ content: string }> }).messages.map(
      (m) => m.content,
    );
    expect(sent).toContain(copyById.get(comparison!.chosenId!)!.content);
    expect(sent.at(-1)).toBe('go on');
  });

  it('are named in the Markdown export', async () => {
    const { id } = await comparedConversation(alice);
    const response = await ctx.app.inject({
      url: `/api/export/conversations/${id}/markdown`,
      headers: { cookie: alice.cookie },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('1 comparison');
    expect(response.body).toContain('answer 1 of 3 compared');
    expect(response.body).toContain('answer 2 of 3 compared, chosen');
    expect(response.body).toContain('answer 3 of 3 compared');
  });

  it('refuses an archive whose comparisons do not fit its messages, writing nothing', async () => {
    const { id } = await comparedConversation(alice);
    const exported = (
      await ctx.app.inject({
        url: `/api/export/conversations/${id}/json`,
        headers: { cookie: alice.cookie },
      })
    ).json() as { conversations: ExportConversation[] };
    const entry = exported.conversations[0]!;
    const [c] = entry.comparisons!;
    const firstAnswer = entry.messages[1]!.id;
    const broken: Array<[string, Partial<typeof c>, RegExp]> = [
      ['a question that is an answer', { questionId: firstAnswer }, /is not a user message/],
      ['an answer to another question', { answerIds: [firstAnswer] }, /is not an answer to its/],
      ['a choice outside its answers', { chosenId: firstAnswer }, /is not one of its answers/],
      ['a missing message', { questionId: 'nowhere' }, /is not a user message/],
    ];
    const before = await ctx.db.one<{ n: number }>(
      'SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM comparisons) AS n',
    );
    for (const [what, change, message] of broken) {
      const file = {
        ...exported,
        conversations: [{ ...entry, comparisons: [{ ...c!, ...change }] }],
      };
      const response = await importText(bob, JSON.stringify(file));
      expect(response.statusCode, what).toBe(400);
      expect(response.json().error.code, what).toBe('import.invalid');
      expect(response.json().error.message, what).toMatch(message);
    }
    const twice = {
      ...exported,
      conversations: [{ ...entry, comparisons: [c!, { ...c!, id: 'another' }] }],
    };
    const response = await importText(bob, JSON.stringify(twice));
    expect(response.json().error.message).toMatch(/is in another comparison too/);
    const after = await ctx.db.one<{ n: number }>(
      'SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM comparisons) AS n',
    );
    expect(after).toEqual(before);

    // A file from before comparisons (no field) imports with none.
    const older = { ...exported, conversations: [{ ...entry, comparisons: undefined }] };
    const imported = await importText(bob, JSON.stringify(older));
    expect(imported.statusCode).toBe(201);
    const copy = await detailOf(bob, imported.json().conversations[0].id);
    expect(copy.comparisons).toEqual([]);
    expect(copy.messages.every((m) => m.comparisonId === null)).toBe(true);
  });
});
