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

describe('chat service send', () => {
  it('aborts the upstream call and saves nothing when the turn cannot be saved', async () => {
    const conversationId = await createConversation(ctx.app, admin, { model: 'fake/slow' });
    const chat = createChatService({
      db: failingWrites(ctx.db),
      openrouter: createOpenRouterClient({
        baseUrl: ctx.fake.url,
        apiKey: 'sk-or-test-key',
        appUrl: 'https://ai.example.test',
        appTitle: 'AI test',
      }),
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
