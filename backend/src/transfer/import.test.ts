import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp({ env: { IMPORT_MAX_MB: '3' } });
  alice = await setupAdmin(ctx.app, 'alice');
});
afterEach(() => ctx.close());

const fixture = async (name: string) =>
  readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

async function importText(user: SignedInUser, payload: string) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/import',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    payload,
  });
}

type Message = {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  model: string | null;
  status: string;
  error: string | null;
  createdAt: string;
  generation: { promptTokens: number | null; completionTokens: number | null } | null;
};

async function conversation(user: SignedInUser, id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json() as {
    conversation: { title: string; createdAt: string; updatedAt: string; model: string | null };
    messages: Message[];
  };
}

async function rowCounts() {
  const row = await ctx.db.one<{ c: number; m: number; g: number }>(
    `SELECT (SELECT COUNT(*) FROM conversations) AS c, (SELECT COUNT(*) FROM messages) AS m,
            (SELECT COUNT(*) FROM generations) AS g`,
  );
  return row!;
}

const byContent = (messages: Message[], start: string) => {
  const found = messages.find((m) => m.content.startsWith(start));
  if (!found) throw new Error(`no message starting with ${start}`);
  return found;
};

describe('import of a ChatGPT conversations.json', () => {
  it('keeps the branches of an edit, leaves out the system, tool and empty nodes, and says so', async () => {
    const response = await importText(alice, await fixture('chatgpt-conversations.json'));
    expect(response.statusCode).toBe(201);
    const result = response.json();
    expect(result).toMatchObject({
      format: 'chatgpt',
      importedConversations: 1,
      importedMessages: 6,
    });
    expect(result.conversations).toEqual([
      { id: expect.any(String), title: 'Paris itinerary', messages: 6 },
    ]);
    expect(
      Object.fromEntries(
        result.skipped.map((s: { what: string; count: number }) => [s.what, s.count]),
      ),
    ).toEqual({
      'system message': 2,
      'tool call': 1,
      'tool message': 1,
      'image or file': 1,
      'conversation without any text message': 1,
    });

    const { conversation: c, messages } = await conversation(alice, result.conversations[0].id);
    expect(c).toMatchObject({
      title: 'Paris itinerary',
      model: null,
      createdAt: '2024-06-03T10:00:00.123Z',
      updatedAt: '2024-06-03T10:10:00.654Z',
    });
    const q1 = byContent(messages, 'Plan one day');
    const a1 = byContent(messages, 'Morning: the Louvre');
    const edit = byContent(messages, 'Plan two days');
    const a1Edit = byContent(messages, 'Day 1:');
    const q2 = byContent(messages, 'Is this museum open');
    const a2 = byContent(messages, "That is the Musée d'Orsay");
    // The edit is a second branch from the same (removed) system node: both questions are roots.
    expect(q1.parentId).toBeNull();
    expect(edit.parentId).toBeNull();
    expect(a1.parentId).toBe(q1.id);
    expect(a1Edit.parentId).toBe(edit.id);
    expect(q2.parentId).toBe(a1Edit.id);
    // The tool call and the tool's output are left out: the answer hangs on the question.
    expect(a2.parentId).toBe(q2.id);
    expect(q2.content).toBe('Is this museum open on Mondays?');
    expect(a2).toMatchObject({ role: 'assistant', model: 'gpt-4o', status: 'complete' });
    expect(q1).toMatchObject({ role: 'user', model: null, createdAt: '2024-06-03T10:00:01.500Z' });
    expect(a2.createdAt).toBe('2024-06-03T10:05:10.000Z');
    expect(messages.every((m) => m.status !== 'streaming' && m.generation === null)).toBe(true);
    // New ids, not the file's.
    expect(messages.map((m) => m.id).every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
  });
});

describe('import of an Open WebUI export', () => {
  it('keeps a regenerated answer as a second branch, with its usage, and a failed answer as an error', async () => {
    const response = await importText(alice, await fixture('open-webui-export.json'));
    expect(response.statusCode).toBe(201);
    const result = response.json();
    expect(result).toMatchObject({
      format: 'open-webui',
      importedConversations: 2,
      importedMessages: 7,
      skipped: [{ what: 'image or file', count: 1 }],
    });
    const rust = result.conversations.find((c: { title: string }) => c.title === 'Rust lifetimes');
    const { conversation: c, messages } = await conversation(alice, rust.id);
    expect(c).toMatchObject({
      createdAt: '2024-07-26T13:20:00.000Z',
      updatedAt: '2024-07-26T13:22:05.000Z',
    });
    const question = byContent(messages, "What does 'a mean");
    const first = byContent(messages, 'It is a lifetime parameter');
    const regenerated = byContent(messages, "'a names a lifetime");
    const followUp = byContent(messages, 'And what if');
    const last = byContent(messages, 'Then y does not');
    expect(question.parentId).toBeNull();
    expect(first.parentId).toBe(question.id);
    expect(regenerated.parentId).toBe(question.id);
    expect(followUp.parentId).toBe(regenerated.id);
    expect(last.parentId).toBe(followUp.id);
    expect(regenerated).toMatchObject({
      model: 'llama3.1:8b',
      createdAt: '2024-07-26T13:21:00.000Z',
    });
    expect(regenerated.generation).toMatchObject({ promptTokens: 41, completionTokens: 29 });
    expect(first.generation).toBeNull();

    const haiku = result.conversations.find((c: { title: string }) => c.title === 'Haiku');
    const failed = (await conversation(alice, haiku.id)).messages.find(
      (m) => m.role === 'assistant',
    );
    expect(failed).toMatchObject({
      status: 'error',
      error: 'Open WebUI: Server Connection Error',
      content: '',
    });
  });

  it('can be continued: a new question follows the newest message, with its branch as context', async () => {
    const response = await importText(alice, await fixture('open-webui-export.json'));
    const rust = response
      .json()
      .conversations.find((c: { title: string }) => c.title === 'Rust lifetimes');
    const events = await collect(
      postMessage(ctx.baseUrl, alice.cookie, rust.id, { content: 'Thanks!', model: 'fake/echo' }),
    );
    expect(events.at(-1)?.event).toBe('done');
    const saved = events.find((e) => e.event === 'user_message')!.data as { parentId: string };
    const { messages } = await conversation(alice, rust.id);
    expect(saved.parentId).toBe(byContent(messages, 'Then y does not').id);
    const sent = ctx.fake.requests.at(-1)!.body as { messages: Array<{ content: string }> };
    expect(sent.messages.map((m) => m.content.slice(0, 20))).toEqual([
      "What does 'a mean in",
      "'a names a lifetime.",
      'And what if I return',
      'Then y does not need',
      'Thanks!',
    ]);
  });

  it('reads a chat that has only its message list (no history)', async () => {
    const response = await importText(
      alice,
      JSON.stringify([
        {
          title: 'Linear',
          chat: {
            messages: [
              { role: 'user', content: 'one', timestamp: 1722000000 },
              { role: 'assistant', content: 'two', model: 'm', timestamp: 1722000001 },
            ],
          },
        },
      ]),
    );
    expect(response.statusCode).toBe(201);
    const { messages } = await conversation(alice, response.json().conversations[0].id);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'one'],
      ['assistant', 'two'],
    ]);
    expect(messages[1]!.parentId).toBe(messages[0]!.id);
  });
});

describe('refused imports', () => {
  const cases: Array<[string, string, number, string, RegExp]> = [
    [
      'an unknown shape',
      JSON.stringify([{ hello: 'world' }]),
      400,
      'import.unrecognized',
      /ChatGPT/,
    ],
    ['an empty list', '[]', 400, 'import.invalid', /no conversations/],
    ['a number', '42', 400, 'request.invalid', /body/],
    ['broken JSON', '[{"mapping": {', 400, 'request.invalid', /not valid JSON/],
    [
      'a ChatGPT file with a conversation that has no mapping',
      JSON.stringify([{ title: 'ok', mapping: {} }, { title: 'broken' }]),
      400,
      'import.invalid',
      /conversation 2 has no "mapping"/,
    ],
    [
      'a ChatGPT node that is not an object',
      JSON.stringify([{ title: 't', mapping: { a: 'nope' } }]),
      400,
      'import.invalid',
      /node "a"/,
    ],
    [
      'an Open WebUI chat without messages',
      JSON.stringify([
        { title: 'ok', chat: { history: { messages: {} } } },
        { title: 'x', chat: {} },
      ]),
      400,
      'import.invalid',
      /chat 2 has neither/,
    ],
    [
      'an archive of another version',
      JSON.stringify({ format: 'ai-workspace-export', version: 2, conversations: [] }),
      400,
      'import.invalid',
      /version 2/,
    ],
    [
      'an archive with a wrong role',
      JSON.stringify({
        format: 'ai-workspace-export',
        version: 1,
        exportedAt: '2024-01-01T00:00:00.000Z',
        conversations: [
          {
            id: 'c',
            title: 't',
            model: null,
            fallbackModels: [],
            createdAt: '2024-01-01T00:00:00.000Z',
            updatedAt: '2024-01-01T00:00:00.000Z',
            messages: [
              {
                id: 'm',
                parentId: null,
                role: 'wizard',
                content: 'x',
                reasoning: null,
                model: null,
                status: 'complete',
                error: null,
                createdAt: '2024-01-01T00:00:00.000Z',
                updatedAt: '2024-01-01T00:00:00.000Z',
                generation: null,
              },
            ],
          },
        ],
      }),
      400,
      'import.invalid',
      /conversations\.0\.messages\.0\.role/,
    ],
  ];

  for (const [what, payload, status, code, message] of cases) {
    it(`refuses ${what} with ${status} ${code} and writes nothing`, async () => {
      const before = await rowCounts();
      const response = await importText(alice, payload);
      expect(response.statusCode).toBe(status);
      expect(response.json().error.code).toBe(code);
      expect(response.json().error.message).toMatch(message);
      expect(await rowCounts()).toEqual(before);
    });
  }

  it('refuses an archive whose parent links leave the conversation or loop', async () => {
    const archive = (messages: Array<{ id: string; parentId: string | null }>) =>
      JSON.stringify({
        format: 'ai-workspace-export',
        version: 1,
        exportedAt: '2024-01-01T00:00:00.000Z',
        conversations: [
          {
            id: 'c',
            title: 't',
            model: null,
            fallbackModels: [],
            createdAt: '2024-01-01T00:00:00.000Z',
            updatedAt: '2024-01-01T00:00:00.000Z',
            messages: messages.map((m) => ({
              ...m,
              role: 'user',
              content: 'x',
              reasoning: null,
              model: null,
              status: 'complete',
              error: null,
              createdAt: '2024-01-01T00:00:00.000Z',
              updatedAt: '2024-01-01T00:00:00.000Z',
              generation: null,
            })),
          },
        ],
      });
    const before = await rowCounts();
    const outside = await importText(alice, archive([{ id: 'a', parentId: 'elsewhere' }]));
    expect(outside.statusCode).toBe(400);
    expect(outside.json().error.message).toMatch(/parent "elsewhere" that is not in it/);
    const loop = await importText(
      alice,
      archive([
        { id: 'root', parentId: null },
        { id: 'a', parentId: 'b' },
        { id: 'b', parentId: 'a' },
      ]),
    );
    expect(loop.statusCode).toBe(400);
    expect(loop.json().error.message).toMatch(/loop/);
    expect(await rowCounts()).toEqual(before);
  });

  it('refuses a file over IMPORT_MAX_MB with 413 before reading it', async () => {
    const big = JSON.stringify([{ title: 'x', mapping: {}, pad: 'x'.repeat(3 * 1024 * 1024) }]);
    const response = await importText(alice, big);
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('request.too_large');
  });

  it('refuses more conversations than one import may hold, writing none of them', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => ({
      title: `c${i}`,
      mapping: {
        [`n${i}`]: {
          message: {
            author: { role: 'user' },
            content: { content_type: 'text', parts: ['hi'] },
            create_time: 1722000000,
          },
          parent: null,
        },
      },
    }));
    const before = await rowCounts();
    const response = await importText(alice, JSON.stringify(many));
    expect(response.statusCode).toBe(413);
    expect(response.json().error).toEqual({
      code: 'import.too_large',
      message: 'The file holds more than 10,000 conversations: import it in parts.',
    });
    expect(await rowCounts()).toEqual(before);
  });

  it('imports for the signed-in user only', async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const response = await importText(bob, await fixture('open-webui-export.json'));
    expect(response.statusCode).toBe(201);
    const list = async (user: SignedInUser) =>
      (await ctx.app.inject({ url: '/api/conversations', headers: { cookie: user.cookie } })).json()
        .conversations.length;
    expect(await list(bob)).toBe(2);
    expect(await list(alice)).toBe(0);
    const owners = await ctx.db.all<{ user_id: string }>(
      'SELECT DISTINCT user_id FROM messages UNION SELECT DISTINCT user_id FROM generations',
    );
    expect(owners).toEqual([{ user_id: bob.id }]);
  });
});
