import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { sessionCookie } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { loggerOptions } from './logging.js';

/** Log lines kept in memory, as the JSON text pino writes. */
function memoryLog() {
  const lines: string[] = [];
  return {
    lines,
    stream: { write: (line: string) => void lines.push(line) },
    text: () => lines.join(''),
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const password = 'correct horse battery staple';

describe('request ids', () => {
  it("carries the caller's X-Request-Id to the upstream call, the logs and the response", async () => {
    const log = memoryLog();
    ctx = await startTestApp({ logger: { level: 'info', stream: log.stream } });
    const setup = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: { username: 'admin', password },
    });
    const cookie = sessionCookie(setup.headers['set-cookie']);
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { cookie, 'x-request-id': 'req-conversation-1' },
      payload: { model: 'fake/echo' },
    });
    expect(created.headers['x-request-id']).toBe('req-conversation-1');

    const response = await fetch(`${ctx.baseUrl}/api/conversations/${created.json().id}/messages`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-request-id': 'req-chat-42' },
      body: JSON.stringify({ content: 'hello' }),
    });
    expect(response.headers.get('x-request-id')).toBe('req-chat-42');
    await response.text();

    const upstream = ctx.fake.requests.find((r) => r.path === '/api/v1/chat/completions');
    expect(upstream?.headers['x-request-id']).toBe('req-chat-42');
    const ofRequest = log.parsed().filter((l) => l.reqId === 'req-chat-42');
    expect(ofRequest.length).toBeGreaterThan(0);
    expect(ofRequest[0]).toMatchObject({ msg: 'incoming request' });
    expect(log.parsed().filter((l) => l.reqId === 'req-conversation-1')).toHaveLength(2);
  });

  it('replaces a missing or malformed id with a fresh UUID', async () => {
    ctx = await startTestApp();
    const missing = await ctx.app.inject({ url: '/api/health' });
    expect(missing.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const malformed = await ctx.app.inject({
      url: '/api/health',
      headers: { 'x-request-id': 'has spaces and "quotes"' },
    });
    expect(malformed.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const tooLong = await ctx.app.inject({
      url: '/api/health',
      headers: { 'x-request-id': 'x'.repeat(201) },
    });
    expect(tooLong.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('logs', () => {
  it('hold no password, session token, OpenRouter key or message text, even at debug', async () => {
    const log = memoryLog();
    ctx = await startTestApp({
      apiKey: 'sk-or-v1-very-secret-key',
      logger: { level: 'debug', stream: log.stream },
    });
    const setup = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: { username: 'admin', password },
    });
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password },
    });
    const cookie = sessionCookie(login.headers['set-cookie']);
    const tokens = [cookie, sessionCookie(setup.headers['set-cookie'])].map(
      (c) => c.split('=')[1] ?? '',
    );
    await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'a wrong password' },
    });
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { cookie, authorization: 'Bearer not-a-real-header' },
      payload: { model: 'fake/echo' },
    });
    const id = created.json().id;
    const content = 'my very private question about zebras';
    await collect(postMessage(ctx.baseUrl, cookie, id, { content }));
    await collect(
      postMessage(ctx.baseUrl, cookie, id, { content: `${content} [fake status=401]` }),
    );

    const text = log.text();
    expect(log.lines.length).toBeGreaterThan(10);
    expect(text).toContain('"level":20'); // debug lines were written
    for (const secret of [
      password,
      'a wrong password',
      ...tokens,
      'sk-or-v1-very-secret-key',
      'not-a-real-header',
      'zebras',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('censor secret fields wherever a log call puts them', () => {
    const log = memoryLog();
    const logger = pino(loggerOptions({ level: 'info' }), log.stream);
    logger.info(
      {
        req: { headers: { authorization: 'Bearer s1', cookie: 'ai_session=s2' } },
        res: { headers: { 'set-cookie': 'ai_session=s3' } },
        config: { openrouterApiKey: 's4', apiKey: 's5' },
        body: { username: 'admin', password: 's6' },
        apiKey: 's7',
      },
      'everything at once',
    );
    const text = log.text();
    for (const secret of ['s1', 's2', 's3', 's4', 's5', 's6', 's7'])
      expect(text).not.toContain(`${secret}"`);
    expect(text).toContain('[redacted]');
    expect(text).toContain('"username":"admin"');
  });
});
