import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../src/test-support/context.js';
import { setupAdmin, type SignedInUser } from '../src/test-support/factories.js';
import { sendMessage, streamedText, type ReceivedEvent } from '../src/test-support/sse-client.js';

// Concurrent writes to one row, over real sockets, as two tabs make them. DuckDB answers a
// write-write conflict between two open transactions with an error ("Conflict on update");
// the backend must never let one reach a user: its one connection serializes every write.

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${ctx.baseUrl}${path}`, {
    method,
    headers: {
      cookie: admin.cookie,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function newConversation(model: string): Promise<string> {
  const created = await api('POST', '/api/conversations', { model });
  expect(created.status).toBe(201);
  return created.body.id;
}

describe('concurrent edits of one row', () => {
  it('50 renames of one conversation at once all succeed; the last one applied wins', async () => {
    const id = await newConversation('fake/echo');
    const titles = Array.from({ length: 50 }, (_, i) => `title ${i} 🙂`);
    const answers = await Promise.all(
      titles.map((title) => api('PATCH', `/api/conversations/${id}`, { title })),
    );
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    expect(answers.map((a) => a.body.title).sort()).toEqual([...titles].sort());

    const final = await api('GET', `/api/conversations/${id}`);
    expect(titles).toContain(final.body.conversation.title);
    // Applied one after another: the saved row is one the latest-stamped answers returned
    // (timestamps have millisecond resolution, so several renames can share the latest).
    const latestAt = answers.reduce(
      (max, a) => (a.body.updatedAt > max ? a.body.updatedAt : max),
      '',
    );
    const latestTitles = answers
      .filter((a) => a.body.updatedAt === latestAt)
      .map((a) => a.body.title);
    expect(latestTitles).toContain(final.body.conversation.title);
  });

  it('two answers streaming into one conversation at once both complete and are both saved', async () => {
    const id = await newConversation('fake/slow');
    const running = new Set<string>();
    let overlapped = false;
    const track = (name: string) => (event: ReceivedEvent) => {
      if (event.event === 'assistant_message') running.add(name);
      if (event.event === 'delta' && running.size === 2) overlapped = true;
      if (event.event === 'done' || event.event === 'error') running.delete(name);
    };
    const [a, b] = await Promise.all([
      sendMessage(
        ctx.baseUrl,
        admin.cookie,
        id,
        { content: 'first [fake chunks=30 delay=15]' },
        track('a'),
      ),
      sendMessage(
        ctx.baseUrl,
        admin.cookie,
        id,
        { content: 'second [fake chunks=30 delay=15]' },
        track('b'),
      ),
    ]);
    // Both were written at the same time, so their saves interleaved in the same rows' table.
    expect(overlapped).toBe(true);
    for (const stream of [a, b]) {
      expect(stream.status).toBe(200);
      expect(stream.events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    }

    const { body } = await api('GET', `/api/conversations/${id}`);
    const messages = body.messages as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(4);
    for (const stream of [a, b]) {
      const question = stream.events.find((e) => e.event === 'user_message')?.data;
      const answerId = stream.events.find((e) => e.event === 'assistant_message')?.data.messageId;
      expect(messages.find((m) => m.id === question.id)).toMatchObject({
        role: 'user',
        content: question.content,
      });
      expect(messages.find((m) => m.id === answerId)).toMatchObject({
        role: 'assistant',
        status: 'complete',
        parentId: question.id,
        content: streamedText(stream.events),
      });
    }
  });

  it('renames, reads and two streams on one conversation at once: no request fails', async () => {
    const id = await newConversation('fake/slow');
    // Named first, so that no automatic title from the first message takes part in the race.
    expect((await api('PATCH', `/api/conversations/${id}`, { title: 'named' })).status).toBe(200);
    const streams = [1, 2].map((n) =>
      sendMessage(ctx.baseUrl, admin.cookie, id, {
        content: `stream ${n} [fake chunks=20 delay=10]`,
      }),
    );
    const others = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0
        ? api('PATCH', `/api/conversations/${id}`, { title: `tab ${i}` })
        : api('GET', `/api/conversations/${id}`),
    );
    for (const answer of await Promise.all(others)) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    for (const stream of await Promise.all(streams)) {
      expect(stream.status).toBe(200);
      expect(stream.events.at(-1)?.event).toBe('done');
    }
    const { body } = await api('GET', `/api/conversations/${id}`);
    expect(body.messages.filter((m: { status: string }) => m.status === 'complete')).toHaveLength(
      4,
    );
    expect(body.conversation.title).toMatch(/^tab \d+$/);
  });
});
