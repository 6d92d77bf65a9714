import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { snippet } from './snippet.js';

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
});
afterEach(() => ctx.close());

type Hit = {
  conversationId: string;
  conversationTitle: string;
  archived: boolean;
  messageId: string | null;
  role: string | null;
  snippet: { text: string; match: boolean }[];
};

async function search(user: SignedInUser, q: string) {
  return ctx.app.inject({
    url: `/api/search?q=${encodeURIComponent(q)}`,
    headers: { cookie: user.cookie },
  });
}

async function conversation(user: SignedInUser, title: string): Promise<string> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: user.cookie },
    payload: { title, model: 'fake/echo' },
  });
  return response.json().id;
}

async function say(user: SignedInUser, id: string, content: string) {
  const events = await collect(postMessage(ctx.baseUrl, user.cookie, id, { content }));
  expect(events.at(-1)?.event).toBe('done');
  return events.find((e) => e.event === 'user_message')?.data.id as string;
}

const marked = (hit: Hit) =>
  hit.snippet
    .filter((s) => s.match)
    .map((s) => s.text)
    .join('|');

describe('GET /api/search', () => {
  it('finds titles and message text of my conversations, with the matches marked', async () => {
    const trip = await conversation(alice, 'Zeppelin trip plans');
    const other = await conversation(alice, 'Groceries');
    const question = await say(alice, other, 'Is a ZEPPELIN faster than a train? zeppelins!');
    await say(alice, trip, 'nothing to see');

    const response = await search(alice, 'zeppelin');
    expect(response.statusCode).toBe(200);
    const { results } = response.json() as { results: Hit[] };
    // The title first, then the messages, newest first: the question and its echoed answer.
    expect(results[0]).toMatchObject({
      conversationId: trip,
      conversationTitle: 'Zeppelin trip plans',
      messageId: null,
      role: null,
    });
    expect(marked(results[0]!)).toBe('Zeppelin');
    const messages = results.filter((r) => r.messageId !== null);
    expect(messages.map((m) => m.role)).toEqual(['assistant', 'user']);
    const user = messages[1]!;
    expect(user).toMatchObject({
      conversationId: other,
      conversationTitle: 'Groceries',
      messageId: question,
    });
    expect(user.snippet.map((s) => s.text).join('')).toBe(
      'Is a ZEPPELIN faster than a train? zeppelins!',
    );
    expect(marked(user)).toBe('ZEPPELIN|zeppelin');
  });

  it("never returns another user's conversations", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const bobs = await conversation(bob, 'Bob secret zeppelin');
    await say(bob, bobs, 'my zeppelin secret');
    const mine = await conversation(alice, 'mine');
    await say(alice, mine, 'about a zeppelin');

    const { results } = (await search(alice, 'zeppelin')).json() as { results: Hit[] };
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => r.conversationId === mine)).toBe(true);
    expect(JSON.stringify(results)).not.toContain('secret');
  });

  it('takes % _ and \\ literally, and marks archived conversations', async () => {
    const c = await conversation(alice, '100% sure');
    await say(alice, c, 'a_b and a\\b');
    await ctx.app.inject({
      method: 'PATCH',
      url: `/api/conversations/${c}`,
      headers: { cookie: alice.cookie },
      payload: { archived: true },
    });
    const percent = (await search(alice, '0%')).json().results as Hit[];
    expect(percent.map((r) => r.messageId)).toEqual([null]);
    expect(percent[0]!.archived).toBe(true);
    const underscore = (await search(alice, 'a_b')).json().results as Hit[];
    expect(underscore.length).toBe(2); // the question and its echo
    expect(underscore.every((r) => marked(r) === 'a_b')).toBe(true);
    expect((await search(alice, 'a%b')).json().results).toEqual([]);
    expect(((await search(alice, 'a\\b')).json().results as Hit[]).length).toBe(2);
  });

  it('finds text in any case, accented letters included', async () => {
    const c = await conversation(alice, 'Été à Paris');
    await say(alice, c, 'Die STRASSE und die Straße');
    const title = (await search(alice, 'éTÉ')).json().results as Hit[];
    expect(title.map((r) => [r.messageId, marked(r)])).toEqual([[null, 'Été']]);
    const word = (await search(alice, 'STRAßE')).json().results as Hit[];
    expect(word.length).toBe(2); // the question and its echo
    expect(word.every((r) => marked(r) === 'Straße')).toBe(true);
  });

  it('refuses an empty, blank or too long query with 400', async () => {
    for (const q of ['', '   ', 'x'.repeat(201)]) {
      const response = await search(alice, q);
      expect(response.statusCode, JSON.stringify(q)).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
    }
    const missing = await ctx.app.inject({ url: '/api/search', headers: { cookie: alice.cookie } });
    expect(missing.statusCode).toBe(400);
  });
});

describe('snippet', () => {
  it('keeps the text around the first match and marks every match in it', () => {
    const text = `${'word '.repeat(40)}the Needle is here, and another needle${' tail'.repeat(60)}`;
    const parts = snippet(text, 'needle');
    expect(parts[0]).toEqual({ text: '…', match: false });
    expect(parts.at(-1)).toEqual({ text: '…', match: false });
    expect(parts.filter((p) => p.match).map((p) => p.text)).toEqual(['Needle', 'needle']);
    const joined = parts.map((p) => p.text).join('');
    expect(joined.length).toBeLessThan(260);
    expect(joined).toContain('the Needle is here');
  });

  it('collapses whitespace, never splits an emoji, and falls back to the start unmarked', () => {
    expect(snippet('a\n\n  b needle', 'needle')).toEqual([
      { text: 'a b ', match: false },
      { text: 'needle', match: true },
    ]);
    const emoji = `${'😀'.repeat(100)}needle`;
    for (const part of snippet(emoji, 'needle')) {
      expect(part.text).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    }
    expect(snippet('no match here', 'zzz')).toEqual([{ text: 'no match here', match: false }]);
  });
});
