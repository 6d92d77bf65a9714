import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../db/connection.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { createChatService } from './service.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

/**
 * The test's database, except that transactions fail (as on a full disk) — once the fake
 * upstream has the request, so the test sees that call aborted.
 */
function failingWrites(db: Database): Database {
  return {
    ...db,
    transaction: async () => {
      while (ctx.fake.streams.length === 0) await new Promise((r) => setTimeout(r, 5));
      throw new Error('IO Error: No space left on device');
    },
  };
}

const upstreamClient = () =>
  createOpenRouterClient({
    baseUrl: ctx.fake.url,
    apiKey: 'sk-or-test-key',
    appUrl: 'https://ai.example.test',
    appTitle: 'AI test',
  });

describe('chat service send', () => {
  it('keeps each chunk that came while the turn committed as its own event for the first listener', async () => {
    const conversationId = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    // The turn's commit waits until the whole answer has come from upstream.
    const held: Database = {
      ...ctx.db,
      transaction: async (work) => {
        await ctx.fake.waitForStreamClosed(0, 5000);
        return ctx.db.transaction(work);
      },
    };
    const chat = createChatService({
      db: held,
      openrouter: upstreamClient(),
      log: pino({ level: 'silent' }),
    });
    const { generation } = await chat.send(admin.id, conversationId, {
      content: 'count [fake chunks=30 delay=0]',
    });
    expect(ctx.fake.streams[0]?.endedBy).toBe('complete');

    const live: string[] = [];
    const attached = generation.attach((event) => live.push(event.event));
    const past = attached?.past ?? [];
    expect(past.filter((e) => e.event === 'delta')).toHaveLength(30);
    // A later listener gets the text so far at once.
    const later = generation.attach(() => undefined)?.past ?? [];
    expect(later.filter((e) => e.event === 'delta')).toHaveLength(1);
    expect(later.find((e) => e.event === 'delta')?.data).toEqual({
      content: past
        .filter((e) => e.event === 'delta')
        .map((e) => (e.data as { content: string }).content)
        .join(''),
    });
    await generation.done;
    expect(live.at(-1)).toBe('done');
  });

  it('aborts the upstream call and saves nothing when the turn cannot be saved', async () => {
    const conversationId = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    const chat = createChatService({
      db: failingWrites(ctx.db),
      openrouter: upstreamClient(),
      log: pino({ level: 'silent' }),
    });

    await expect(
      chat.send(admin.id, conversationId, { content: 'is this kept? [fake chunks=100 delay=20]' }),
    ).rejects.toThrow(/No space left/);

    // The upstream call had started (it overlaps the save) and is closed at once.
    const closed = await ctx.fake.waitForStreamClosed(0, 1000);
    expect(closed.chunksSent).toBeLessThan(100);
    expect(await ctx.db.all('SELECT id FROM messages')).toEqual([]);
    expect(await ctx.db.all('SELECT id FROM generations')).toEqual([]);
    await expect.poll(() => chat.registry.size).toBe(0);
  });
});
