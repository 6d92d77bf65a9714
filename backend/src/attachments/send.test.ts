import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, fetchPostMessage, postMessage, readEvents } from '../test-support/sse-client.js';
import { PDF, PNG } from './fixtures.js';

let ctx: TestContext;
let admin: SignedInUser;
let dir: string;

beforeEach(async () => {
  ctx = await startTestApp({ env: { ATTACHMENTS_PER_MESSAGE: '3' } });
  admin = await setupAdmin(ctx.app);
  dir = path.join(path.dirname(ctx.databasePath), 'attachments');
});
afterEach(() => ctx.close());

const VISION = 'openai/gpt-4o-mini';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const chatRequests = () => ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');
const fileOf = (user: SignedInUser, id: string) => path.join(dir, user.id, id);

async function send(
  user: SignedInUser,
  conversationId: string,
  body: Record<string, unknown>,
): Promise<{ status: number; events: Awaited<ReturnType<typeof collect>>; error?: unknown }> {
  const response = await fetchPostMessage(ctx.baseUrl, user.cookie, conversationId, body);
  if (response.status !== 200) {
    return { status: response.status, events: [], error: await response.json() };
  }
  return { status: 200, events: await collect(readEvents(response.body!)) };
}

async function messagesOf(user: SignedInUser, conversationId: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${conversationId}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json().messages as Array<{
    id: string;
    role: string;
    content: string;
    attachments: Array<{ id: string; name: string; kind: string }>;
  }>;
}

describe('sending attachments', () => {
  it('sends images as image_url, PDFs as file parts and text files as text, then keeps them with the question', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const pdf = await uploadAttachment(ctx.app, admin, 'report.pdf', PDF);
    const notes = await uploadAttachment(
      ctx.app,
      admin,
      'notes.md',
      Buffer.from('# Plan\nship it'),
    );

    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'What do these say?',
        attachmentIds: [image, pdf, notes],
      }),
    );
    expect(events.at(-1)?.event).toBe('done');
    const answer = events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.content)
      .join('');
    // The fake names what it received, decoded: the model saw every file.
    expect(answer).toContain(`[image image/png, ${PNG.length} bytes]`);
    expect(answer).toContain(`[file report.pdf: application/pdf, ${PDF.length} bytes]`);

    const sent = chatRequests().at(-1)!;
    expect(sent.parts).toEqual([
      expect.objectContaining({ type: 'image', mediaType: 'image/png', sha256: sha256(PNG) }),
      expect.objectContaining({
        type: 'file',
        filename: 'report.pdf',
        mediaType: 'application/pdf',
        sha256: sha256(PDF),
      }),
    ]);
    const question = (sent.body as { messages: Array<{ role: string; content: unknown }> })
      .messages[0]!;
    expect(question.role).toBe('user');
    expect(question.content).toEqual([
      { type: 'text', text: 'What do these say?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}` } },
      {
        type: 'file',
        file: {
          filename: 'report.pdf',
          file_data: `data:application/pdf;base64,${PDF.toString('base64')}`,
        },
      },
      { type: 'text', text: '<file name="notes.md">\n# Plan\nship it\n</file>' },
    ]);

    // The stream's user message and the saved conversation carry the metadata, never the bytes.
    const userMessage = events.find((e) => e.event === 'user_message')!.data;
    expect(userMessage.attachments.map((a: { id: string }) => a.id)).toEqual([image, pdf, notes]);
    const [saved] = await messagesOf(admin, conversation);
    expect(saved!.attachments).toEqual([
      {
        id: image,
        name: 'pixel.png',
        mediaType: 'image/png',
        kind: 'image',
        size: PNG.length,
        createdAt: expect.any(String),
      },
      {
        id: pdf,
        name: 'report.pdf',
        mediaType: 'application/pdf',
        kind: 'pdf',
        size: PDF.length,
        createdAt: expect.any(String),
      },
      {
        id: notes,
        name: 'notes.md',
        mediaType: 'text/plain',
        kind: 'text',
        size: 14,
        createdAt: expect.any(String),
      },
    ]);
    const rows = await ctx.db.all<{ message_id: string; conversation_id: string }>(
      'SELECT message_id, conversation_id FROM attachments',
    );
    expect(rows).toEqual(Array(3).fill({ message_id: saved!.id, conversation_id: conversation }));
    // The list never inlines them.
    const list = await ctx.app.inject({
      url: '/api/conversations',
      headers: { cookie: admin.cookie },
    });
    expect(list.body).not.toContain('attachments');
    expect(list.body).not.toContain(PNG.toString('base64'));
  });

  it('sends them again with every later turn of the branch, from memory and after a reload', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'Look',
        attachmentIds: [image],
      }),
    );
    // From the conversation cache (written through by the send).
    await collect(postMessage(ctx.baseUrl, admin.cookie, conversation, { content: 'And now?' }));
    const second = chatRequests().at(-1)!;
    expect(second.parts).toEqual([
      expect.objectContaining({ messageIndex: 0, type: 'image', sha256: sha256(PNG) }),
    ]);
    expect((second.body as { messages: unknown[] }).messages).toHaveLength(3);

    // A rename forgets the cached conversation: the next send reads it from the database.
    await ctx.app.inject({
      method: 'PATCH',
      url: `/api/conversations/${conversation}`,
      headers: { cookie: admin.cookie },
      payload: { title: 'renamed' },
    });
    await collect(postMessage(ctx.baseUrl, admin.cookie, conversation, { content: 'Again?' }));
    expect(chatRequests().at(-1)!.parts).toEqual([
      expect.objectContaining({ messageIndex: 0, type: 'image', sha256: sha256(PNG) }),
    ]);
  });

  it('refuses images for a model without image input before any upstream call; PDFs go to any model', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const before = chatRequests().length;
    const refused = await send(admin, conversation, { content: 'See?', attachmentIds: [image] });
    expect(refused.status).toBe(400);
    expect(refused.error).toEqual({
      error: {
        code: 'attachment.images_unsupported',
        message: 'The model fake/echo does not accept images: choose a model with image input.',
      },
    });
    expect(chatRequests()).toHaveLength(before);
    expect(await messagesOf(admin, conversation)).toEqual([]);
    // Still pending: sent with a model that takes images, it goes.
    const accepted = await send(admin, conversation, {
      content: 'See?',
      model: VISION,
      attachmentIds: [image],
    });
    expect(accepted.status).toBe(200);
    // The branch now holds an image: a text-only model is refused for later turns too.
    const later = await send(admin, conversation, { content: 'More', model: 'fake/echo' });
    expect(later.status).toBe(400);

    const other = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const pdf = await uploadAttachment(ctx.app, admin, 'report.pdf', PDF);
    const parsed = await send(admin, other, { content: 'Summarize', attachmentIds: [pdf] });
    expect(parsed.status).toBe(200);
    expect(chatRequests().at(-1)!.parts).toEqual([
      expect.objectContaining({ type: 'file', filename: 'report.pdf' }),
    ]);
  });

  it("refuses another user's attachment, too many, and an empty message without any", async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const other = await buildUser(ctx.app, ctx.db);
    const theirs = await uploadAttachment(ctx.app, other, 'secret.png', PNG);
    const stolen = await send(admin, conversation, {
      content: 'mine now',
      attachmentIds: [theirs],
    });
    expect(stolen.status).toBe(404);
    expect((stolen.error as { error: { code: string } }).error.code).toBe('attachment.not_found');

    const ids = [];
    for (let i = 0; i < 4; i++)
      ids.push(await uploadAttachment(ctx.app, admin, `n${i}.txt`, Buffer.from(`${i}`)));
    const many = await send(admin, conversation, { content: 'all', attachmentIds: ids });
    expect(many.status).toBe(400);
    expect(many.error).toEqual({
      error: { code: 'attachment.too_many', message: 'A message can carry at most 3 attachments.' },
    });
    const empty = await send(admin, conversation, { content: '' });
    expect(empty.error).toEqual({
      error: {
        code: 'request.invalid',
        message: 'Invalid body: write a message or attach a file.',
      },
    });
    expect(await messagesOf(admin, conversation)).toEqual([]);
    const row = await ctx.db.one<{ message_id: string | null }>(
      'SELECT message_id FROM attachments WHERE id = $1',
      [theirs],
    );
    expect(row?.message_id).toBeNull();

    // Files alone are a message: its title is the first file's name.
    const alone = await send(admin, conversation, { content: '', attachmentIds: [ids[0]] });
    expect(alone.status).toBe(200);
    const title = await ctx.app.inject({
      url: `/api/conversations/${conversation}`,
      headers: { cookie: admin.cookie },
    });
    expect(title.json().conversation.title).toBe('n0.txt');
  });

  it('an attachment of an earlier message is copied onto a new one', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'First',
        attachmentIds: [image],
      }),
    );
    const [first] = await messagesOf(admin, conversation);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'First, edited',
        attachmentIds: [image],
      }),
    );
    const messages = await messagesOf(admin, conversation);
    const edited = messages.find((m) => m.content === 'First, edited')!;
    expect(edited.attachments).toHaveLength(1);
    const copy = edited.attachments[0]!.id;
    expect(copy).not.toBe(image);
    expect(first!.attachments[0]!.id).toBe(image);
    expect(existsSync(fileOf(admin, copy))).toBe(true);
    expect(
      chatRequests()
        .at(-1)!
        .parts.filter((p) => p.messageIndex === 2),
    ).toEqual([expect.objectContaining({ type: 'image', sha256: sha256(PNG) })]);
  });
});

/** POSTs to an answer route (regenerate, continue): the stream's events, or the JSON refusal. */
async function postAnswer(path: string, body?: unknown) {
  const response = await fetch(`${ctx.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      cookie: admin.cookie,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status !== 200) return { status: response.status, error: await response.json() };
  return { status: 200, events: await collect(readEvents(response.body!)) };
}

describe('branches: regenerate, continue, edit and delete carry the files', () => {
  it("regenerate and continue send the branch's files again; a model without image input is refused", async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const first = await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'Look [fake chunks=4]',
        attachmentIds: [image],
      }),
    );
    const question = first.find((e) => e.event === 'user_message')!.data.id as string;
    const answer = first.find((e) => e.event === 'assistant_message')!.data.messageId as string;

    const regenerated = await postAnswer(
      `/api/conversations/${conversation}/messages/${question}/regenerate`,
      {},
    );
    expect(regenerated.status).toBe(200);
    expect(chatRequests().at(-1)!.parts).toEqual([
      expect.objectContaining({ messageIndex: 0, type: 'image', sha256: sha256(PNG) }),
    ]);

    const before = chatRequests().length;
    const refused = await postAnswer(
      `/api/conversations/${conversation}/messages/${question}/regenerate`,
      { model: 'fake/echo' },
    );
    expect(refused.status).toBe(400);
    expect((refused.error as { error: { code: string } }).error.code).toBe(
      'attachment.images_unsupported',
    );
    expect(chatRequests()).toHaveLength(before);

    const continued = await postAnswer(
      `/api/conversations/${conversation}/messages/${answer}/continue`,
    );
    expect(continued.status).toBe(200);
    const sent = chatRequests().at(-1)!;
    expect(sent.parts).toEqual([expect.objectContaining({ messageIndex: 0, type: 'image' })]);
    expect((sent.body as { messages: Array<{ role: string }> }).messages.at(-1)?.role).toBe(
      'assistant',
    );
  });

  it('an edited first question keeps its files as copies; deleting a subtree deletes its files', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'First',
        attachmentIds: [image],
      }),
    );
    // The edit: a new first question (no parent), with the original's file.
    const edited = await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, {
        content: 'First, edited',
        parentId: null,
        attachmentIds: [image],
      }),
    );
    const editedQuestion = edited.find((e) => e.event === 'user_message')!.data;
    expect(editedQuestion.parentId).toBeNull();
    const copy = editedQuestion.attachments[0].id as string;
    expect(copy).not.toBe(image);
    expect(chatRequests().at(-1)!.parts).toEqual([
      expect.objectContaining({ messageIndex: 0, type: 'image', sha256: sha256(PNG) }),
    ]);

    // Deleting the original question's subtree: its file goes, the edit's copy stays.
    const [original] = await messagesOf(admin, conversation);
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${conversation}/messages/${original!.id}`,
      headers: { cookie: admin.cookie },
    });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(existsSync(fileOf(admin, image))).toBe(false);
    expect(existsSync(fileOf(admin, copy))).toBe(true);
    const ids = (await ctx.db.all<{ id: string }>('SELECT id FROM attachments')).map((r) => r.id);
    expect(ids).toEqual([copy]);
    // The cached tree was forgotten: the next turn still carries the copy, not the deleted file.
    await collect(postMessage(ctx.baseUrl, admin.cookie, conversation, { content: 'And?' }));
    expect(chatRequests().at(-1)!.parts).toEqual([
      expect.objectContaining({ messageIndex: 0, type: 'image', sha256: sha256(PNG) }),
    ]);
  });
});

describe('one upload, two sends at once', () => {
  it('the first takes it, the second gets a copy: never one row for two messages', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: VISION });
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const [a, b] = await Promise.all(
      ['one', 'two'].map((content) =>
        collect(
          postMessage(ctx.baseUrl, admin.cookie, conversation, { content, attachmentIds: [image] }),
        ),
      ),
    );
    const ids = [a!, b!].map(
      (events) => events.find((e) => e.event === 'user_message')!.data.attachments[0].id as string,
    );
    expect(new Set(ids).size).toBe(2);
    expect(ids).toContain(image);
    const rows = await ctx.db.all<{ id: string; message_id: string }>(
      'SELECT id, message_id FROM attachments',
    );
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(2);
    for (const id of ids) expect(existsSync(fileOf(admin, id))).toBe(true);
  });
});

describe('deleting', () => {
  it('a conversation deletes its attachments: rows, then files; other conversations keep theirs', async () => {
    const doomed = await createConversation(ctx.app, admin, { model: VISION });
    const kept = await createConversation(ctx.app, admin, { model: VISION });
    const a = await uploadAttachment(ctx.app, admin, 'a.png', PNG);
    const b = await uploadAttachment(ctx.app, admin, 'b.pdf', PDF);
    const pending = await uploadAttachment(ctx.app, admin, 'c.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, doomed, { content: 'x', attachmentIds: [a] }),
    );
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, kept, { content: 'y', attachmentIds: [b] }),
    );

    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/conversations/${doomed}`,
      headers: { cookie: admin.cookie },
    });
    expect(deleted.statusCode).toBe(204);
    expect(existsSync(fileOf(admin, a))).toBe(false);
    expect(existsSync(fileOf(admin, b))).toBe(true);
    expect(existsSync(fileOf(admin, pending))).toBe(true);
    const ids = (await ctx.db.all<{ id: string }>('SELECT id FROM attachments')).map((r) => r.id);
    expect(ids.sort()).toEqual([b, pending].sort());
    const download = await ctx.app.inject({
      url: `/api/attachments/${a}`,
      headers: { cookie: admin.cookie },
    });
    expect(download.statusCode).toBe(404);
  });

  it('a user deletes all their attachments with them', async () => {
    const user = await buildUser(ctx.app, ctx.db);
    const conversation = await createConversation(ctx.app, user, { model: VISION });
    const a = await uploadAttachment(ctx.app, user, 'a.png', PNG);
    await uploadAttachment(ctx.app, user, 'pending.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, user.cookie, conversation, { content: 'x', attachmentIds: [a] }),
    );
    const mine = await uploadAttachment(ctx.app, admin, 'admins.png', PNG);

    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/admin/users/${user.id}`,
      headers: { cookie: admin.cookie },
    });
    expect(deleted.statusCode).toBe(204);
    await expect.poll(() => existsSync(path.join(dir, user.id))).toBe(false);
    expect(await ctx.db.all('SELECT id FROM attachments WHERE user_id = $1', [user.id])).toEqual(
      [],
    );
    expect(existsSync(fileOf(admin, mine))).toBe(true);
  });
});
