import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring } from './crypto.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, createConversation, setupAdmin } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const USER_KEY = 'sk-or-v1-users-own-key-0123456789abcdefWXYZ';

function memoryLog() {
  const lines: string[] = [];
  return { stream: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
}

describe('/api/keys/openrouter', () => {
  it('saves a key after OpenRouter accepted it and shows only its last four characters', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    ctx.fake.setKey(USER_KEY, { limit: 25, usage: 4 });

    const empty = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
    });
    expect(empty.json()).toEqual({ key: null, serverKeyConfigured: true });

    const saved = await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
      payload: { key: USER_KEY },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.body).not.toContain(USER_KEY.slice(0, -4));
    expect(saved.json()).toEqual({
      serverKeyConfigured: true,
      key: {
        lastFour: 'WXYZ',
        addedAt: expect.any(String),
        updatedAt: expect.any(String),
        readable: true,
        lastCheck: {
          status: 'valid',
          checkedAt: expect.any(String),
          message: null,
          limitUsd: 25,
          usageUsd: 4,
          limitRemainingUsd: 21,
          isFreeTier: false,
        },
      },
    });
    const check = ctx.fake.requests.filter((r) => r.path === '/api/v1/key').at(-1);
    expect(check?.headers.authorization).toBe(`Bearer ${USER_KEY}`);

    const viewed = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
    });
    expect(viewed.json()).toEqual(saved.json());

    // Stored sealed: the row holds neither the key nor anything that decodes to it.
    const row = await ctx.db.one('SELECT * FROM user_api_keys WHERE user_id = $1', [user.id]);
    expect(JSON.stringify(row)).not.toContain(USER_KEY);
    expect(JSON.stringify(row)).not.toContain(
      Buffer.from(USER_KEY).toString('base64').slice(0, 20),
    );
  });

  it('refuses a key OpenRouter rejects, saving nothing', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    const bad = 'sk-or-v1-invalid-key-typo-1234';
    const response = await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
      payload: { key: bad },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({
      code: 'api_key.rejected',
      message:
        'OpenRouter refused this key. OpenRouter answered 401: the key is unknown, disabled or revoked. Check that you copied all of it; nothing was saved.',
    });
    expect(response.body).not.toContain(bad);
    const after = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
    });
    expect(after.json().key).toBeNull();
  });

  it('saves a key when OpenRouter cannot be reached, marked unreachable', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    await ctx.stopUpstream();
    const response = await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
      payload: { key: USER_KEY },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().key.lastCheck).toMatchObject({
      status: 'unreachable',
      message: expect.stringContaining('Could not connect'),
      limitUsd: null,
    });
  });

  it('refuses malformed keys with a 400 that does not repeat them', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    for (const key of ['short', 'has a space in it', `sk-or-${'x'.repeat(300)}`, 'naïve-key-123']) {
      const response = await ctx.app.inject({
        method: 'PUT',
        url: '/api/keys/openrouter',
        headers: { cookie: user.cookie },
        payload: { key },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
      expect(response.body).not.toContain(key);
    }
  });

  it('checks the saved key again on demand, recording an invalid result', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    const headers = { cookie: user.cookie };
    await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers,
      payload: { key: USER_KEY },
    });
    ctx.fake.revokeKey(USER_KEY);
    const checked = await ctx.app.inject({
      method: 'POST',
      url: '/api/keys/openrouter/check',
      headers,
    });
    expect(checked.statusCode).toBe(200);
    expect(checked.json().key.lastCheck).toMatchObject({
      status: 'invalid',
      message: expect.any(String),
    });
    const viewed = await ctx.app.inject({ url: '/api/keys/openrouter', headers });
    expect(viewed.json().key.lastCheck.status).toBe('invalid');
  });

  it('deletes the key; a second delete or a check answers 404', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    const headers = { cookie: user.cookie };
    await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers,
      payload: { key: USER_KEY },
    });
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: '/api/keys/openrouter',
      headers,
    });
    expect(deleted.statusCode).toBe(204);
    expect((await ctx.app.inject({ url: '/api/keys/openrouter', headers })).json().key).toBeNull();
    const again = await ctx.app.inject({ method: 'DELETE', url: '/api/keys/openrouter', headers });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('api_key.not_found');
    const check = await ctx.app.inject({
      method: 'POST',
      url: '/api/keys/openrouter/check',
      headers,
    });
    expect(check.statusCode).toBe(404);

    // Both changes are in the audit log, by their last four characters only.
    const audit = await ctx.db.all<{ action: string; actor_id: string; detail: string }>(
      "SELECT action, actor_id, detail FROM audit_log WHERE action LIKE 'api_key.%' ORDER BY created_at",
    );
    expect(audit.map((a) => a.action)).toEqual(['api_key.saved', 'api_key.deleted']);
    expect(audit.every((a) => a.actor_id === user.id)).toBe(true);
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toEqual({
      provider: 'openrouter',
      lastFour: 'WXYZ',
      check: 'valid',
    });
    expect(JSON.stringify(audit)).not.toContain(USER_KEY);
  });

  it("is each user's own: another user sees none and cannot delete it", async () => {
    ctx = await startTestApp();
    const owner = await setupAdmin(ctx.app);
    const other = await buildUser(ctx.app, ctx.db);
    await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: owner.cookie },
      payload: { key: USER_KEY },
    });
    const seen = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: other.cookie },
    });
    expect(seen.json().key).toBeNull();
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: '/api/keys/openrouter',
      headers: { cookie: other.cookie },
    });
    expect(deleted.statusCode).toBe(404);
    const kept = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: owner.cookie },
    });
    expect(kept.json().key.lastFour).toBe('WXYZ');
    const anonymous = await ctx.app.inject({ url: '/api/keys/openrouter' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('checks with OpenRouter', () => {
  it('are limited to 10 a minute per user (429 with Retry-After), so keys cannot be tested in bulk', async () => {
    let clock = new Date('2026-03-10T12:00:00.000Z');
    ctx = await startTestApp({ now: () => clock });
    const user = await setupAdmin(ctx.app);
    const other = await buildUser(ctx.app, ctx.db);
    const put = (who: typeof user, key: string) =>
      ctx!.app.inject({
        method: 'PUT',
        url: '/api/keys/openrouter',
        headers: { cookie: who.cookie },
        payload: { key },
      });
    for (let i = 0; i < 10; i++) {
      expect((await put(user, `sk-or-v1-invalid-guess-${i}`)).statusCode).toBe(400);
    }
    const before = ctx.fake.requests.length;
    const limited = await put(user, USER_KEY);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('60');
    expect(limited.json().error.code).toBe('api_key.too_many_checks');
    expect(ctx.fake.requests.length).toBe(before);
    expect((await put(other, USER_KEY)).statusCode).toBe(200);
    clock = new Date(clock.getTime() + 60_000);
    expect((await put(user, USER_KEY)).statusCode).toBe(200);
  });
});

describe('a key sealed by another SECRET_KEY', () => {
  it('shows a key sealed by another SECRET_KEY as unreadable', async () => {
    ctx = await startTestApp({ keyring: createKeyring(randomBytes(32)) });
    const user = await setupAdmin(ctx.app);
    await ctx.app.inject({
      method: 'PUT',
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
      payload: { key: USER_KEY },
    });
    // As if the data folder's key were lost: the row says another key sealed it.
    await ctx.db.run("UPDATE user_api_keys SET key_id = 'ffffffffffffffff'");
    const viewed = await ctx.app.inject({
      url: '/api/keys/openrouter',
      headers: { cookie: user.cookie },
    });
    expect(viewed.json().key.readable).toBe(false);
  });
});

describe('secrecy', () => {
  it('never writes a key into a response or a log line, even at trace level', async () => {
    const log = memoryLog();
    ctx = await startTestApp({ logger: { level: 'trace', stream: log.stream } });
    const user = await setupAdmin(ctx.app);
    const headers = { cookie: user.cookie };
    const bodies: string[] = [];
    const call = async (
      method: 'GET' | 'PUT' | 'POST' | 'DELETE',
      url: string,
      payload?: object,
    ) => {
      const response = await ctx!.app.inject({ method, url, headers, payload });
      bodies.push(response.body, JSON.stringify(response.headers));
      return response;
    };
    await call('PUT', '/api/keys/openrouter', { key: USER_KEY });
    await call('GET', '/api/keys/openrouter');
    await call('POST', '/api/keys/openrouter/check');
    await call('PUT', '/api/keys/openrouter', { key: 'sk-or-v1-invalid-secret-typo-9876' });
    await call('PUT', '/api/keys/openrouter', { key: 'bad key with spaces' });
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    bodies.push(
      JSON.stringify(
        await collect(postMessage(ctx.baseUrl, user.cookie, conversation, { content: 'hi' })),
      ),
    );
    ctx.fake.revokeKey(USER_KEY);
    bodies.push(
      JSON.stringify(
        await collect(
          await postMessage(ctx.baseUrl, user.cookie, conversation, { content: 'again' }),
        ),
      ),
    );
    await call('DELETE', '/api/keys/openrouter');

    const secrets = [
      USER_KEY,
      'sk-or-v1-invalid-secret-typo-9876',
      'bad key with spaces',
      'sk-or-test-key',
    ];
    const everything = bodies.join('\n') + log.text();
    expect(log.text().length).toBeGreaterThan(0);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});
