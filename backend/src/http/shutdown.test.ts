import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { postMessage, type ReceivedEvent } from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp({ shutdownGraceMs: 1000 });
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

describe('shutdown', () => {
  it('refuses new requests with 503 in our error shape while answers drain, then interrupts them', async () => {
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { cookie: admin.cookie },
      payload: { model: 'fake/slow' },
    });
    const id = created.json().id;
    const events: ReceivedEvent[] = [];
    let closing: Promise<void> | undefined;
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'long [fake chunks=1000 delay=20]',
    })) {
      events.push(event);
      if (event.event !== 'delta' || closing) continue;
      closing = ctx.app.close();

      // Readiness says so at once, so load balancers stop sending.
      await expect
        .poll(async () => (await fetch(`${ctx.baseUrl}/api/ready`)).status, { timeout: 500 })
        .toBe(503);
      const ready = await fetch(`${ctx.baseUrl}/api/ready`);
      expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'shutting down' });

      const refused = await fetch(`${ctx.baseUrl}/api/auth/me`, {
        headers: { cookie: admin.cookie },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('connection')).toBe('close');
      expect(refused.headers.get('x-request-id')).toBeTruthy();
      expect(await refused.json()).toEqual({
        error: {
          code: 'server.shutting_down',
          message: 'The server is shutting down; try again in a moment.',
        },
      });
      // Liveness still answers: the process is alive, only leaving.
      expect((await fetch(`${ctx.baseUrl}/api/health`)).status).toBe(200);
    }
    await closing;

    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'error', data: { code: 'server.shutting_down' } });
    const partial = events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.content)
      .join('');
    const saved = await ctx.db.one<{ status: string; content: string }>(
      "SELECT status, content FROM messages WHERE role = 'assistant'",
    );
    expect(saved).toEqual({ status: 'interrupted', content: partial });
  });
});
