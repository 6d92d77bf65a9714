import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';

/**
 * Every limit the API enforces answers a 4xx in our error shape and changes nothing. (Limits
 * of sign-in and passwords are tested with auth; attachments do not exist yet.)
 */
let ctx: TestContext;
let admin: SignedInUser;
let conversationId: string;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  conversationId = await createConversation(ctx.app, admin, { title: 'Kept', model: 'fake/echo' });
});
afterEach(() => ctx.close());

async function snapshot() {
  const list = await ctx.app.inject({
    url: '/api/conversations',
    headers: { cookie: admin.cookie },
  });
  const detail = await ctx.app.inject({
    url: `/api/conversations/${conversationId}`,
    headers: { cookie: admin.cookie },
  });
  return { list: list.json(), detail: detail.json() };
}

const LIMITS = {
  body: 2 * 1024 * 1024,
  message: 200_000,
  title: 200,
  modelId: 200,
  fallbackModels: 3,
  pageSize: 100,
};

describe('limits', () => {
  it('refuses what is over a limit with a 4xx JSON error and changes nothing', async () => {
    const before = await snapshot();
    const cookie = admin.cookie;
    const json = { cookie, 'content-type': 'application/json' };
    const cases = [
      {
        what: 'a body over 2 MiB',
        status: 413,
        code: 'request.too_large',
        request: {
          method: 'POST' as const,
          url: `/api/conversations/${conversationId}/messages`,
          headers: json,
          payload: JSON.stringify({ content: 'x'.repeat(LIMITS.body) }),
        },
      },
      {
        what: 'a message over 200,000 characters',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'POST' as const,
          url: `/api/conversations/${conversationId}/messages`,
          headers: json,
          payload: JSON.stringify({ content: 'x'.repeat(LIMITS.message + 1) }),
        },
      },
      {
        what: 'an empty message',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'POST' as const,
          url: `/api/conversations/${conversationId}/messages`,
          headers: json,
          payload: JSON.stringify({ content: '' }),
        },
      },
      {
        what: 'a title over 200 characters (rename)',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'PATCH' as const,
          url: `/api/conversations/${conversationId}`,
          headers: json,
          payload: JSON.stringify({ title: 't'.repeat(LIMITS.title + 1) }),
        },
      },
      {
        what: 'a title over 200 characters (create)',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'POST' as const,
          url: '/api/conversations',
          headers: json,
          payload: JSON.stringify({ title: 't'.repeat(LIMITS.title + 1) }),
        },
      },
      {
        what: 'a model id over 200 characters',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'POST' as const,
          url: '/api/conversations',
          headers: json,
          payload: JSON.stringify({ model: 'm'.repeat(LIMITS.modelId + 1) }),
        },
      },
      {
        what: 'more than 3 fallback models',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'PATCH' as const,
          url: `/api/conversations/${conversationId}`,
          headers: json,
          payload: JSON.stringify({ fallbackModels: ['a/1', 'a/2', 'a/3', 'a/4'] }),
        },
      },
      {
        what: 'an unknown field',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'PATCH' as const,
          url: `/api/conversations/${conversationId}`,
          headers: json,
          payload: JSON.stringify({ title: 'ok', userId: 'someone-else' }),
        },
      },
      {
        what: 'a page over 100 conversations',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'GET' as const,
          url: `/api/conversations?limit=${LIMITS.pageSize + 1}`,
          headers: { cookie },
        },
      },
      {
        // Fastify parses text/plain as a string, which the body schema refuses.
        what: 'a body that is not JSON',
        status: 400,
        code: 'request.invalid',
        request: {
          method: 'POST' as const,
          url: '/api/conversations',
          headers: { cookie, 'content-type': 'text/plain' },
          payload: 'title=x',
        },
      },
      {
        what: 'a form-encoded body',
        status: 415,
        code: 'request.unsupported_media_type',
        request: {
          method: 'POST' as const,
          url: '/api/conversations',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'title=x',
        },
      },
    ];
    for (const { what, status, code, request } of cases) {
      const response = await ctx.app.inject(request);
      expect(response.statusCode, what).toBe(status);
      expect(response.headers['content-type'], what).toMatch(/^application\/json/);
      expect(response.json(), what).toEqual({ error: { code, message: expect.any(String) } });
    }
    // Exactly at the limits is accepted (so the limits are the documented ones).
    const atLimit = await ctx.app.inject({
      method: 'PATCH',
      url: `/api/conversations/${conversationId}`,
      headers: json,
      payload: JSON.stringify({ title: 't'.repeat(LIMITS.title) }),
    });
    expect(atLimit.statusCode).toBe(200);
    const after = await snapshot();
    expect(after.detail.messages).toEqual(before.detail.messages);
    expect(after.list.conversations).toHaveLength(1);
    expect(ctx.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toEqual([]);
  });

  it('answers headers over 16 KB with 431 in our shape on a real socket', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${ctx.baseUrl}/api/conversations`,
          { headers: { cookie: admin.cookie, 'x-padding': 'p'.repeat(20_000) } },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(status).toBe(431);
    expect(JSON.parse(body)).toEqual({
      error: { code: 'request.headers_too_large', message: expect.any(String) },
    });
  });
});
