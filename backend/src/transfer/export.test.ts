import { createHash } from 'node:crypto';
import { Value } from 'typebox/value';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBudgetsRepo } from '../budgets/repo.js';
import { monthOf } from '../budgets/month.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import { PDF, PNG } from '../attachments/fixtures.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { attachment } from './filename.js';
import { ExportArchive, type ExportConversation } from './schemas.js';

let ctx: TestContext;
let alice: SignedInUser;
let bob: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
  bob = await buildUser(ctx.app, ctx.db, 'bob');
});
afterEach(() => ctx.close());

async function send(user: SignedInUser, conversationId: string, body: Record<string, unknown>) {
  const events = await collect(postMessage(ctx.baseUrl, user.cookie, conversationId, body));
  const saved = events.find((e) => e.event === 'user_message');
  if (!saved) throw new Error('no user_message event');
  return (saved.data as { id: string }).id;
}

/** A conversation with two branches: a follow-up question, then asked again differently. */
async function conversationWithBranches(user: SignedInUser) {
  const id = await createConversation(ctx.app, user, {
    title: 'Trip: Paris / Rome?',
    model: 'fake/reasoning',
    fallbackModels: ['fake/echo', 'fake/slow'],
  });
  const first = await send(user, id, { content: 'Plan a day in Paris', model: 'fake/reasoning' });
  const detail = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  const answer = detail.json().messages.find((m: { parentId: string }) => m.parentId === first);
  await send(user, id, { content: 'And a second day?', model: 'fake/echo', parentId: answer.id });
  // The edit: the follow-up asked differently, from the same answer.
  await send(user, id, {
    content: 'Rather two days in Rome',
    model: 'fake/echo',
    parentId: answer.id,
  });
  return id;
}

async function exportOf(user: SignedInUser, id: string, format: string) {
  return ctx.app.inject({
    url: `/api/export/conversations/${id}/${format}`,
    headers: { cookie: user.cookie },
  });
}

describe('export of one conversation', () => {
  it('as JSON: the whole tree with ids, parents, models, statuses and generation figures', async () => {
    const id = await conversationWithBranches(alice);
    const response = await exportOf(alice, id, 'json');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="Trip-Paris-Rome.json"',
    );
    expect(response.headers['cache-control']).toBe('no-store');
    const archive = response.json();
    expect(Value.Check(ExportArchive, archive)).toBe(true);
    expect(archive).toMatchObject({ format: 'ai-workspace-export', version: 1 });
    const [c] = archive.conversations as ExportConversation[];
    expect(c).toMatchObject({
      id,
      title: 'Trip: Paris / Rome?',
      model: 'fake/echo',
      fallbackModels: ['fake/echo', 'fake/slow'],
    });
    expect(c!.messages).toHaveLength(6);
    const roots = c!.messages.filter((m) => m.parentId === null);
    expect(roots.map((m) => m.content)).toEqual(['Plan a day in Paris']);
    const answer = c!.messages.find((m) => m.parentId === roots[0]!.id)!;
    expect(c!.messages.filter((m) => m.parentId === answer.id).map((m) => m.content)).toEqual([
      'And a second day?',
      'Rather two days in Rome',
    ]);
    const ids = new Set(c!.messages.map((m) => m.id));
    expect(c!.messages.every((m) => m.parentId === null || ids.has(m.parentId))).toBe(true);
    const reasoned = c!.messages.find((m) => m.model === 'fake/reasoning')!;
    expect(reasoned).toMatchObject({ role: 'assistant', status: 'complete' });
    expect(reasoned.reasoning).toBeTruthy();
    expect(reasoned.generation).toMatchObject({
      model: 'fake/reasoning',
      promptTokens: expect.any(Number),
      completionTokens: expect.any(Number),
      reasoningTokens: expect.any(Number),
      cost: expect.any(Number),
      durationMs: expect.any(Number),
      finishReason: 'stop',
    });
    expect(c!.messages.filter((m) => m.role === 'user').every((m) => m.generation === null)).toBe(
      true,
    );
  });

  it('as Markdown: the shown branch first, then the other, with the figures', async () => {
    const id = await conversationWithBranches(alice);
    const response = await exportOf(alice, id, 'markdown');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="Trip-Paris-Rome.md"',
    );
    const text = response.body;
    expect(text.startsWith('# Trip: Paris / Rome?\n')).toBe(true);
    expect(text).toContain('6 messages · 2 branches');
    const branch1 = text.indexOf('## Branch 1 of 2');
    const branch2 = text.indexOf('## Branch 2 of 2');
    expect(branch1).toBeGreaterThan(0);
    expect(branch2).toBeGreaterThan(branch1);
    // Branch 1 ends with the newest message (the Rome question's answer); branch 2 goes on
    // from the first answer (message 2) without repeating what branch 1 showed.
    const rome = text.indexOf('Rather two days in Rome');
    expect(text.indexOf('Plan a day in Paris')).toBeLessThan(rome);
    expect(rome).toBeGreaterThan(branch1);
    expect(rome).toBeLessThan(branch2);
    expect(text.indexOf('And a second day?')).toBeGreaterThan(branch2);
    expect(text.match(/^### \d+\. /gm)).toHaveLength(6); // each message once
    expect(text).toContain('_Continues from message 2._');
    expect(text).toContain('### 1. User');
    expect(text).toMatch(/### \d\. Assistant · fake\/reasoning · \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(text).toContain('> **Reasoning**');
    expect(text).toMatch(/<sub>\d+ prompt \+ \d+ completion tokens · \d+ reasoning tokens · \$/);
  });

  it("answers 404 for another user's conversation, as for a missing one", async () => {
    const id = await conversationWithBranches(alice);
    for (const format of ['json', 'markdown']) {
      const response = await exportOf(bob, id, format);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('conversation.not_found');
    }
    const missing = await exportOf(alice, crypto.randomUUID(), 'json');
    expect(missing.statusCode).toBe(404);
  });
});

describe('export of everything and import of it', () => {
  it('streams every conversation, and another user importing it gets the same trees with new ids', async () => {
    const branched = await conversationWithBranches(alice);
    const plain = await createConversation(ctx.app, alice, { title: 'Empty one' });
    await createConversation(ctx.app, bob, { title: "Bob's own" });

    const response = await fetch(`${ctx.baseUrl}/api/export`, {
      headers: { cookie: alice.cookie },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="ai-workspace-alice-\d{4}-\d\d-\d\d\.json"$/,
    );
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const text = await response.text();
    const archive = JSON.parse(text);
    expect(Value.Check(ExportArchive, archive)).toBe(true);
    const exported = archive.conversations as ExportConversation[];
    expect(exported.map((c) => c.id).sort()).toEqual([branched, plain].sort());

    const imported = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie, 'content-type': 'application/json' },
      payload: text,
    });
    expect(imported.statusCode).toBe(201);
    // The conversation without messages is an empty one: nothing to import.
    expect(imported.json()).toMatchObject({
      format: 'ai-workspace',
      importedConversations: 1,
      importedMessages: 6,
      skipped: [{ what: 'conversation without any text message', count: 1 }],
    });
    const newId = imported.json().conversations[0].id;
    expect(newId).not.toBe(branched);

    const again = await fetch(`${ctx.baseUrl}/api/export/conversations/${newId}/json`, {
      headers: { cookie: bob.cookie },
    });
    const copy = ((await again.json()) as { conversations: ExportConversation[] })
      .conversations[0]!;
    const original = exported.find((c) => c.id === branched)!;
    expect(shape(copy)).toEqual(shape(original));
    const originalIds = new Set(original.messages.map((m) => m.id));
    expect(copy.messages.some((m) => originalIds.has(m.id))).toBe(false);
    // Alice's conversations are untouched and still hers alone.
    const aliceList = await ctx.app.inject({
      url: '/api/conversations',
      headers: { cookie: alice.cookie },
    });
    expect(aliceList.json().conversations).toHaveLength(2);
  });

  it("keeps each answer's sources and the conversation's provider routing, there and back", async () => {
    const routing = {
      sort: 'throughput',
      order: ['fake-turbo'],
      ignore: ['fake-budget'],
      maxPrice: { completion: 40 },
    };
    const id = await createConversation(ctx.app, alice, {
      title: 'Searched',
      model: 'fake/echo',
      providerRouting: routing,
    });
    await send(alice, id, { content: 'find pages [fake sources=2]' });
    await send(alice, id, { content: 'and without' });

    const response = await exportOf(alice, id, 'json');
    expect(response.statusCode).toBe(200);
    const archive = response.json();
    expect(Value.Check(ExportArchive, archive)).toBe(true);
    const [original] = archive.conversations as ExportConversation[];
    expect(original!.providerRouting).toEqual(routing);
    const [question, cited, , plain] = original!.messages;
    expect(question!.sources).toBeNull();
    expect(cited!.sources).toHaveLength(2);
    expect(cited!.sources![0]).toEqual({
      url: expect.stringMatching(/^https:\/\/search\.fake-openrouter\.test\//),
      title: expect.stringContaining('find pages'),
    });
    expect(plain!.sources).toBeNull();

    const markdown = (await exportOf(alice, id, 'markdown')).body;
    expect(markdown).toContain(
      'provider routing: sort by throughput; order fake-turbo; ignore fake-budget; max $40/M output',
    );
    // The title's brackets escaped, so a title cannot end the link text early.
    const first = cited!.sources![0]!;
    const label = first.title!.replace(/[[\]]/g, '\\$&');
    expect(label).toContain('\\[fake sources=2\\]');
    expect(markdown).toContain(`**Sources**\n\n1. [${label}](<${first.url}>)\n2. [`);

    // Imported by another user: the same routing and sources, read back by the chat's API too.
    const imported = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie, 'content-type': 'application/json' },
      payload: response.body,
    });
    expect(imported.statusCode).toBe(201);
    expect(imported.json().skipped).toEqual([]);
    const newId = imported.json().conversations[0].id as string;
    const copy = (await exportOf(bob, newId, 'json')).json().conversations[0] as ExportConversation;
    expect(shape(copy)).toEqual(shape(original!));
    const detail = await ctx.app.inject({
      url: `/api/conversations/${newId}`,
      headers: { cookie: bob.cookie },
    });
    expect(detail.json().conversation.providerRouting).toEqual(routing);
    expect(detail.json().messages[1].sources).toEqual(cited!.sources);

    // An archive is a file anyone can edit: a link other than http(s) is left out and counted,
    // and routing the conversations API would refuse is refused here too.
    const edited = structuredClone(archive) as { conversations: ExportConversation[] };
    edited.conversations[0]!.messages[1]!.sources!.push(
      { url: 'javascript:alert(1)', title: 'x' },
      { url: cited!.sources![0]!.url, title: 'twice' },
    );
    const hostile = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie, 'content-type': 'application/json' },
      payload: edited,
    });
    expect(hostile.statusCode).toBe(201);
    expect(hostile.json().skipped).toEqual([
      { what: 'source link that is not an http(s) URL', count: 1 },
    ]);
    const kept = await ctx.app.inject({
      url: `/api/conversations/${hostile.json().conversations[0].id}`,
      headers: { cookie: bob.cookie },
    });
    expect(kept.json().messages[1].sources).toEqual(cited!.sources);

    edited.conversations[0]!.providerRouting = { only: ['fake-turbo'], ignore: ['Fake-Turbo'] };
    const refused = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie, 'content-type': 'application/json' },
      payload: edited,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({ code: 'import.invalid' });
    expect(refused.json().error.message).toMatch(
      /conversations\.0\.providerRouting: the provider fake-turbo is both in only and in ignore/,
    );
  });

  it("does not count an imported answer's cost as the importer's spend", async () => {
    await conversationWithBranches(alice);
    const archive = await (
      await fetch(`${ctx.baseUrl}/api/export`, { headers: { cookie: alice.cookie } })
    ).text();
    const imported = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie, 'content-type': 'application/json' },
      payload: archive,
    });
    expect(imported.statusCode).toBe(201);
    const costs = await ctx.db.all<{ cost_usd: number; imported: boolean }>(
      'SELECT cost_usd, imported FROM generations WHERE user_id = $1',
      [bob.id],
    );
    expect(costs.length).toBe(3);
    expect(costs.every((g) => g.cost_usd > 0 && g.imported === true)).toBe(true);
    // Read from the database (the budgets service caches each user's month in memory).
    const budgets = createBudgetsRepo(ctx.db);
    const month = monthOf(new Date());
    expect(await budgets.spend(bob.id, month.start, month.end)).toBe(0);
    expect(await budgets.spend(alice.id, month.start, month.end)).toBeGreaterThan(0);
    const byUser = await budgets.spendByUser(month.start, month.end);
    expect(byUser.has(bob.id)).toBe(false);
  });

  it('pages through many conversations', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 230; i += 1) {
      ids.push(await createConversation(ctx.app, alice, { title: `c${i}` }));
    }
    const archive = (await (
      await fetch(`${ctx.baseUrl}/api/export`, { headers: { cookie: alice.cookie } })
    ).json()) as { conversations: ExportConversation[] };
    expect(archive.conversations.map((c) => c.id).sort()).toEqual(ids.sort());
  });
});

describe('file names', () => {
  it('keep letters and digits only, with the Unicode name beside the ASCII one', () => {
    expect(attachment('Notes', 'md', 'conversation')).toBe('attachment; filename="Notes.md"');
    expect(attachment('Café "crème"\r\nX-Evil: 1', 'md', 'c')).toBe(
      `attachment; filename="Cafe-creme-X-Evil-1.md"; filename*=UTF-8''Caf%C3%A9-cr%C3%A8me-X-Evil-1.md`,
    );
    expect(attachment('../../etc/passwd', 'json', 'c')).toBe(
      'attachment; filename="etc-passwd.json"',
    );
    expect(attachment('日本語', 'md', 'conversation')).toBe(
      `attachment; filename="conversation.md"; filename*=UTF-8''${encodeURIComponent('日本語.md')}`,
    );
    expect(attachment('...', 'md', 'conversation')).toBe('attachment; filename="conversation.md"');
  });
});

/** A conversation's tree without its ids: parents named by their position instead. */
function shape(c: ExportConversation) {
  const index = new Map(c.messages.map((m, i) => [m.id, i]));
  return {
    title: c.title,
    model: c.model,
    fallbackModels: c.fallbackModels,
    providerRouting: c.providerRouting,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    messages: c.messages.map(({ id: _id, parentId, ...rest }) => ({
      ...rest,
      parent: parentId === null ? null : index.get(parentId),
    })),
  };
}

describe('attachments in exports', () => {
  it('name each file (metadata only) in JSON and Markdown; an import of it leaves them out, saying so', async () => {
    const id = await createConversation(ctx.app, alice, { model: 'openai/gpt-4o-mini' });
    const image = await uploadAttachment(ctx.app, alice, 'pixel.png', PNG);
    const pdf = await uploadAttachment(ctx.app, alice, 'report.pdf', PDF);
    await send(alice, id, { content: 'Look at these', attachmentIds: [image, pdf] });

    const json = await exportOf(alice, id, 'json');
    const archive = json.json();
    expect(Value.Check(ExportArchive, archive)).toBe(true);
    const [question, answer] = archive.conversations[0].messages;
    expect(question.attachments).toEqual([
      {
        name: 'pixel.png',
        mediaType: 'image/png',
        kind: 'image',
        size: PNG.length,
        sha256: createHash('sha256').update(PNG).digest('hex'),
      },
      {
        name: 'report.pdf',
        mediaType: 'application/pdf',
        kind: 'pdf',
        size: PDF.length,
        sha256: createHash('sha256').update(PDF).digest('hex'),
      },
    ]);
    expect(answer.attachments).toBeUndefined();
    expect(json.body).not.toContain(PNG.toString('base64'));

    const markdown = (await exportOf(alice, id, 'markdown')).body;
    expect(markdown).toContain(
      `_Attached: pixel.png (image/png, ${PNG.length} B), report.pdf (application/pdf, ${PDF.length} B)_`,
    );

    const imported = await ctx.app.inject({
      method: 'POST',
      url: '/api/import',
      headers: { cookie: bob.cookie },
      payload: archive,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json().skipped).toEqual([
      { what: 'attachment (the archive holds no file contents)', count: 2 },
    ]);
    expect(await ctx.db.all('SELECT id FROM attachments WHERE user_id = $1', [bob.id])).toEqual([]);
  });
});
