import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import type { ExportConversation } from './schemas.js';

let ctx: TestContext;
let alice: SignedInUser;
let bob: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
  bob = await buildUser(ctx.app, ctx.db, 'bob');
});
afterEach(() => ctx.close());

const params = { temperature: 0.3, topP: 0.9, maxTokens: 400, reasoningEffort: 'low' };
const systemPrompt = 'Answer as a travel agent.\nAlways give prices in euros.';

async function importText(user: SignedInUser, payload: string) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/import',
    headers: { cookie: user.cookie, 'content-type': 'application/json' },
    payload,
  });
}

async function conversationOf(user: SignedInUser, id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  return response.json().conversation;
}

/** A minimal archive of one conversation with one message, and `extra` on the conversation. */
function archive(extra: Record<string, unknown>): string {
  const at = '2024-01-01T00:00:00.000Z';
  return JSON.stringify({
    format: 'ai-workspace-export',
    version: 1,
    exportedAt: at,
    conversations: [
      {
        id: 'c',
        title: 'From an archive',
        model: 'fake/echo',
        fallbackModels: [],
        createdAt: at,
        updatedAt: at,
        ...extra,
        messages: [
          {
            id: 'm',
            parentId: null,
            role: 'user',
            content: 'hello',
            reasoning: null,
            model: null,
            status: 'complete',
            error: null,
            createdAt: at,
            updatedAt: at,
            generation: null,
          },
        ],
      },
    ],
  });
}

describe('the system prompt and parameters in export and import', () => {
  it('are exported (JSON and Markdown) and restored by importing the archive', async () => {
    const id = await createConversation(ctx.app, alice, {
      title: 'Lisbon',
      model: 'fake/reasoning',
      systemPrompt,
      params,
    });
    const events = await collect(
      postMessage(ctx.baseUrl, alice.cookie, id, { content: 'A weekend in Lisbon?' }),
    );
    expect(events.at(-1)?.event).toBe('done');

    const json = await fetch(`${ctx.baseUrl}/api/export/conversations/${id}/json`, {
      headers: { cookie: alice.cookie },
    });
    const text = await json.text();
    const [exported] = (JSON.parse(text) as { conversations: ExportConversation[] }).conversations;
    expect(exported).toMatchObject({ systemPrompt, params });

    const markdown = await ctx.app.inject({
      url: `/api/export/conversations/${id}/markdown`,
      headers: { cookie: alice.cookie },
    });
    expect(markdown.body).toContain(
      '_Parameters: temperature 0.3 · top-p 0.9 · max tokens 400 · reasoning effort low_',
    );
    expect(markdown.body).toContain(
      '> **System prompt**\n>\n> Answer as a travel agent.\n> Always give prices in euros.\n',
    );

    const imported = await importText(bob, text);
    expect(imported.statusCode, imported.body).toBe(201);
    const copy = await conversationOf(bob, imported.json().conversations[0].id);
    expect(copy).toMatchObject({ title: 'Lisbon', systemPrompt, params });

    // The everything-archive carries them too.
    const all = await fetch(`${ctx.baseUrl}/api/export`, { headers: { cookie: alice.cookie } });
    const everything = (await all.json()) as { conversations: ExportConversation[] };
    expect(everything.conversations[0]).toMatchObject({ systemPrompt, params });
  });

  it('exports none as null and {}, and an archive without them imports with none', async () => {
    const id = await createConversation(ctx.app, alice, { title: 'Plain', model: 'fake/echo' });
    await collect(postMessage(ctx.baseUrl, alice.cookie, id, { content: 'hi' }));
    const json = await ctx.app.inject({
      url: `/api/export/conversations/${id}/json`,
      headers: { cookie: alice.cookie },
    });
    expect(json.json().conversations[0]).toMatchObject({ systemPrompt: null, params: {} });
    expect(
      (
        await ctx.app.inject({
          url: `/api/export/conversations/${id}/markdown`,
          headers: { cookie: alice.cookie },
        })
      ).body,
    ).not.toContain('System prompt');

    // An archive written before prompts existed.
    const old = await importText(bob, archive({}));
    expect(old.statusCode, old.body).toBe(201);
    expect(await conversationOf(bob, old.json().conversations[0].id)).toMatchObject({
      systemPrompt: null,
      params: {},
    });
  });

  it('refuses an archive with parameters out of range, writing nothing', async () => {
    for (const [bad, where] of [
      [{ params: { temperature: 5 } }, 'conversations.0.params.temperature'],
      [{ params: { reasoningEffort: 'extreme' } }, 'conversations.0.params.reasoningEffort'],
      [{ systemPrompt: 42 }, 'conversations.0.systemPrompt'],
    ] as const) {
      const response = await importText(bob, archive(bad));
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
      expect(response.json().error.code).toBe('import.invalid');
      expect(response.json().error.message).toContain(where);
    }
    const list = await ctx.app.inject({
      url: '/api/conversations',
      headers: { cookie: bob.cookie },
    });
    expect(list.json().conversations).toEqual([]);
  });
});
