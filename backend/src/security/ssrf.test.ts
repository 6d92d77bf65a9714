import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { sendMessage } from '../test-support/sse-client.js';

/**
 * OPENROUTER_BASE_URL is server configuration: no request parameter may make the backend
 * fetch anything else. An attacker's "server" listens here and must never be contacted; the
 * fake upstream must only ever see its own API paths.
 */
let ctx: TestContext;
let admin: SignedInUser;
let attacker: Server;
let attackerHost: string;
const attackerSaw: IncomingMessage[] = [];

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  attackerSaw.length = 0;
  attacker = createServer((req, res) => {
    attackerSaw.push(req);
    res.end('{}');
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerHost = `127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await ctx.close();
  await new Promise((resolve) => attacker.close(resolve));
});

/** The paths the upstream client may call, under the configured base URL's path. */
const UPSTREAM_PATHS = new Set(['/api/v1/chat/completions', '/api/v1/models', '/api/v1/key']);

function hostileModelIds(): string[] {
  return [
    `http://${attackerHost}/v1`,
    `https://${attackerHost}`,
    `//${attackerHost}/x`,
    `@${attackerHost}`,
    `fake/echo@${attackerHost}`,
    `user:pass@${attackerHost}/x`,
    '../../../etc/passwd',
    '..%2F..%2Fmodels',
    `../../..//${attackerHost}/`,
    'fake/echo/../../../key',
    'fake/echo?x=1#frag',
    `fake/echo#@${attackerHost}`,
    `\\\\${attackerHost}\\share`,
    'file:///etc/passwd',
    `gopher://${attackerHost}/_x`,
  ];
}

describe('no request parameter reaches another host (SSRF)', () => {
  it('model ids, fallback models and headers never change where the backend connects', async () => {
    const cookie = admin.cookie;
    const statuses: number[] = [];
    for (const model of hostileModelIds()) {
      // As the conversation's model, as a per-message model, and as a fallback model.
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie },
        payload: { model, fallbackModels: [model] },
      });
      statuses.push(created.statusCode);
      if (created.statusCode !== 201) continue;
      const id = created.json().id as string;
      const sent = await sendMessage(ctx.baseUrl, cookie, id, { content: 'hello', model });
      statuses.push(sent.status);
    }
    // Requests whose Host and X-Forwarded-* name the attacker.
    for (const headers of [
      { host: attackerHost },
      { 'x-forwarded-host': attackerHost, 'x-forwarded-proto': 'http' },
      { forwarded: `host=${attackerHost}` },
    ]) {
      const created = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie, ...headers },
        payload: { model: 'fake/echo' },
      });
      expect(created.statusCode).toBe(201);
      const models = await ctx.app.inject({
        url: '/api/models',
        headers: { cookie, ...headers },
      });
      expect(models.statusCode).toBe(200);
    }
    // Every attempt was answered (accepted and failed upstream, or refused), none crashed.
    expect(statuses.every((s) => s === 200 || s === 201 || (s >= 400 && s < 500))).toBe(true);

    expect(attackerSaw).toEqual([]);
    const upstreamHost = new URL(ctx.fake.url).host;
    expect(ctx.fake.requests.length).toBeGreaterThan(0);
    for (const request of ctx.fake.requests) {
      expect(UPSTREAM_PATHS.has(request.path), request.path).toBe(true);
      expect(request.headers.host).toBe(upstreamHost);
    }
    // The hostile ids went upstream as data in the JSON body, where they belong.
    const sentModels = ctx.fake.requests
      .filter((r) => r.path.endsWith('/chat/completions'))
      .map((r) => (r.body as { model?: string }).model);
    expect(sentModels).toContain(`http://${attackerHost}/v1`);
  });
});
