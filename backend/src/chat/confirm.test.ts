import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { ObservableDatabase } from '../db/connection.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

/**
 * A send's stream opens as soon as its answer runs, while its question commits: the first
 * tokens never wait for the commit, and `user_message` (the saved question) tells the commit.
 */

let ctx: TestContext;
let admin: SignedInUser;
/** What the next transaction does first (then it is cleared): the turn's commit, in these tests. */
let nextTransaction: (() => Promise<void>) | null = null;

const withHeldWrites = (db: ObservableDatabase): ObservableDatabase => ({
  ...db,
  transaction: async (work) => {
    const before = nextTransaction;
    nextTransaction = null;
    if (before) await before();
    return db.transaction(work);
  },
});

async function start() {
  ctx = await startTestApp({ wrapDb: withHeldWrites });
  admin = await setupAdmin(ctx.app);
}
afterEach(async () => {
  nextTransaction = null;
  await ctx.close();
});

async function messagesOf(id: string): Promise<Array<{ role: string; content: string }>> {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: admin.cookie },
  });
  return response.json().messages;
}

describe('a send’s stream and its commit', () => {
  it('relays the first tokens while the question commits, then tells the commit before the end', async () => {
    await start();
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    // The turn's commit waits until the fake has sent three chunks.
    nextTransaction = async () => {
      while ((ctx.fake.streams[0]?.chunksSent ?? 0) < 3) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'hold it [fake chunks=8 delay=30]' }),
    );
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('assistant_message');
    const confirmed = names.indexOf('user_message');
    // Tokens came before the question was committed…
    expect(names.slice(0, confirmed).filter((name) => name === 'delta').length).toBeGreaterThan(0);
    // …and the end only after it.
    expect(confirmed).toBeLessThan(names.indexOf('done'));
    expect(events[confirmed]!.data).toMatchObject({ role: 'user', content: expect.any(String) });
    const saved = await messagesOf(id);
    expect(saved.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(saved[1]!.content).toBe(
      events
        .filter((e) => e.event === 'delta')
        .map((e) => e.data.content as string)
        .join(''),
    );
  });

  it('ends the stream with an error, without user_message, and keeps nothing when the question cannot be saved', async () => {
    await start();
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    nextTransaction = async () => {
      while ((ctx.fake.streams[0]?.chunksSent ?? 0) < 2) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error('IO Error: No space left on device');
    };
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, {
        content: 'is this kept? [fake chunks=100 delay=20]',
      }),
    );
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('assistant_message');
    expect(names).not.toContain('user_message');
    expect(names).not.toContain('done');
    // A safe message: the database's own words stay in the log.
    expect(events.at(-1)).toEqual({
      event: 'error',
      data: { code: 'internal', message: expect.not.stringMatching(/space/) },
    });
    // The upstream call was stopped at once, and nothing was kept.
    const closed = await ctx.fake.waitForStreamClosed(0, 1000);
    expect(closed.chunksSent).toBeLessThan(100);
    expect(await messagesOf(id)).toEqual([]);
    expect(await ctx.db.all('SELECT id FROM generations')).toEqual([]);

    // The backend goes on: the same question sent again is answered and kept.
    const again = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'is this kept? [fake chunks=3]' }),
    );
    expect(again.at(-1)?.event).toBe('done');
    expect((await messagesOf(id)).map((m) => m.role)).toEqual(['user', 'assistant']);
  });
  it('sends the upstream request before the turn starts its commit, on a reused connection too', async () => {
    await start();
    // Titled: no title call in the background takes the connection between the two sends.
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo', title: 'Reuse' });
    // undici writes a request on a reused connection one event-loop turn after it is made;
    // work the send starts in that turn would delay it.
    const order: string[] = [];
    let marker = '';
    const onSendHeaders = (message: unknown): void => {
      const body = (message as { request: { body?: unknown } }).request.body;
      if (marker !== '' && String(body).includes(marker)) order.push('upstream request');
    };
    subscribe('undici:client:sendHeaders', onSendHeaders);
    try {
      // The second send goes out on the connection the first one used (kept alive).
      for (marker of ['first question', 'second question']) {
        order.length = 0;
        nextTransaction = () => {
          order.push('commit');
          return Promise.resolve();
        };
        const events = await collect(
          postMessage(ctx.baseUrl, admin.cookie, id, { content: marker }),
        );
        expect(events.at(-1)?.event).toBe('done');
        if (marker === 'second question') expect(order).toEqual(['upstream request', 'commit']);
        else expect(order.sort()).toEqual(['commit', 'upstream request']);
      }
    } finally {
      unsubscribe('undici:client:sendHeaders', onSendHeaders);
    }
  });
});
