import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await startTestApp();
});
afterEach(() => ctx.close());

const EVIL = 'https://evil.example';

function expectCrossOriginRefusal(response: { statusCode: number; json(): unknown }) {
  expect(response.statusCode).toBe(403);
  expect(response.json()).toEqual({
    error: { code: 'request.cross_origin', message: expect.any(String) },
  });
}

describe('CSRF: a state-changing request from another origin', () => {
  let alice: SignedInUser;
  let conversationId: string;

  beforeEach(async () => {
    alice = await setupAdmin(ctx.app, 'alice');
    conversationId = await createConversation(ctx.app, alice, {
      title: 'Mine',
      model: 'fake/echo',
    });
  });

  const list = async () =>
    (await ctx.app.inject({ url: '/api/conversations', headers: { cookie: alice.cookie } })).json()
      .conversations as Array<{ id: string; title: string }>;

  it('is refused with 403 request.cross_origin and changes nothing, whatever the route', async () => {
    const attempts = [
      { method: 'POST', url: '/api/conversations', payload: { title: 'Planted' } },
      { method: 'PATCH', url: `/api/conversations/${conversationId}`, payload: { title: 'Owned' } },
      { method: 'DELETE', url: `/api/conversations/${conversationId}` },
      {
        method: 'POST',
        url: `/api/conversations/${conversationId}/messages`,
        payload: { content: 'hi' },
      },
      { method: 'POST', url: '/api/auth/logout' },
    ] as const;
    for (const attempt of attempts) {
      for (const origin of [EVIL, 'null', 'http://localhost.evil.example', 'https://localhost']) {
        const response = await ctx.app.inject({
          ...attempt,
          headers: { cookie: alice.cookie, origin },
        });
        expectCrossOriginRefusal(response);
      }
    }
    expect(await list()).toEqual([expect.objectContaining({ id: conversationId, title: 'Mine' })]);
    expect(ctx.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
    // The session still works: logout was refused too.
    const me = await ctx.app.inject({ url: '/api/auth/me', headers: { cookie: alice.cookie } });
    expect(me.statusCode).toBe(200);
  });

  it('refuses sign-in from another origin (login CSRF) before checking anything', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: EVIL },
      payload: { username: 'alice', password: 'correct horse battery' },
    });
    expectCrossOriginRefusal(response);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a form posted without Origin but with a cross-site Sec-Fetch-Site or Referer', async () => {
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { referer: `${EVIL}/page` },
      { referer: 'not a url' },
    ]) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie: alice.cookie, 'content-type': 'application/json', ...headers },
        payload: '{}',
      });
      expectCrossOriginRefusal(response);
    }
    expect(await list()).toHaveLength(1);
  });

  it('lets reads from anywhere through: they change nothing', async () => {
    const response = await ctx.app.inject({
      url: '/api/conversations',
      headers: { cookie: alice.cookie, origin: EVIL, 'sec-fetch-site': 'cross-site' },
    });
    expect(response.statusCode).toBe(200);
  });
});

describe('CSRF: same-origin requests', () => {
  it('accept the request’s own origin, Sec-Fetch-Site same-origin/none, a same-origin Referer, and non-browser clients', async () => {
    const admin = await setupAdmin(ctx.app, 'alice');
    const variants: Array<Record<string, string>> = [
      // inject's Host is localhost:80.
      { origin: 'http://localhost' },
      { origin: 'http://localhost:80' },
      { 'sec-fetch-site': 'same-origin' },
      { 'sec-fetch-site': 'none' },
      { referer: 'http://localhost/c/123' },
      // APP_URL (https://ai.example.test in the test config) is accepted too.
      { origin: 'https://ai.example.test' },
      // curl, the ops CLI, scripts: no browser headers at all.
      {},
    ];
    for (const headers of variants) {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie: admin.cookie, ...headers },
        payload: {},
      });
      expect(response.statusCode, JSON.stringify(headers)).toBe(201);
    }
  });

  it('takes the origin from X-Forwarded-Host and -Proto only when a trusted proxy sent them', async () => {
    await setupAdmin(ctx.app, 'alice');
    // Sign-in needs no session, so the Origin check alone decides (200 or 403).
    const signIn = { username: 'alice', password: 'correct horse battery' };
    const forwarded = {
      origin: 'https://chat.example.org',
      'x-forwarded-host': 'chat.example.org',
      'x-forwarded-proto': 'https',
    };
    const viaProxy = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: forwarded,
      payload: signIn,
    });
    expect(viaProxy.statusCode).toBe(200);
    // The same headers from an address that is not a trusted proxy are ignored.
    const direct = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: forwarded,
      payload: signIn,
      remoteAddress: '203.0.113.7',
    });
    expectCrossOriginRefusal(direct);
    // The protocol is part of the origin.
    const downgraded = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { ...forwarded, origin: 'http://chat.example.org' },
      payload: signIn,
    });
    expectCrossOriginRefusal(downgraded);
  });

  it('applies to the first-run setup too', async () => {
    const refused = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      headers: { origin: EVIL },
      payload: { username: 'mallory', password: 'correct horse battery' },
    });
    expectCrossOriginRefusal(refused);
    const state = await ctx.app.inject({ url: '/api/auth/state' });
    expect(state.json()).toMatchObject({ needsSetup: true });
  });
});

describe('security headers on every API response', () => {
  const expectHeaders = (headers: Record<string, unknown>, what: string) => {
    expect(headers['content-security-policy'], what).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(headers['x-content-type-options'], what).toBe('nosniff');
    expect(headers['referrer-policy'], what).toBe('same-origin');
    expect(headers['x-frame-options'], what).toBe('DENY');
  };

  it('on JSON answers, errors, 404s, refusals and router errors', async () => {
    const responses = {
      health: await ctx.app.inject({ url: '/api/health' }),
      unauthenticated: await ctx.app.inject({ url: '/api/conversations' }),
      notFound: await ctx.app.inject({ url: '/api/nothing-here' }),
      invalid: await ctx.app.inject({ method: 'POST', url: '/api/auth/setup', payload: {} }),
      crossOrigin: await ctx.app.inject({
        method: 'POST',
        url: '/api/auth/setup',
        headers: { origin: EVIL },
        payload: {},
      }),
      badUrl: await ctx.app.inject({ url: '/api/conversations/%E0%A4%A' }),
    };
    expect(responses.unauthenticated.statusCode).toBe(401);
    expect(responses.notFound.statusCode).toBe(404);
    expect(responses.invalid.statusCode).toBe(400);
    expect(responses.badUrl.statusCode).toBe(400);
    for (const [what, response] of Object.entries(responses)) expectHeaders(response.headers, what);
  });

  it('on a streamed answer over a real socket', async () => {
    const admin = await setupAdmin(ctx.app, 'alice');
    const id = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = httpRequest(
        `${ctx.baseUrl}/api/conversations/${id}/messages`,
        { method: 'POST', headers: { cookie: admin.cookie, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ content: 'hello' }));
    });
    expect(headers['content-type']).toMatch(/^text\/event-stream/);
    expectHeaders(headers, 'sse');
  });

  it('gives the API docs page a policy of their own: own scripts only, no framing', async () => {
    const response = await ctx.app.inject({ url: '/api/docs/' });
    expect(response.statusCode).toBe(200);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.body).not.toMatch(/<script>(?!\s*<\/script>)/);
  });
});
