import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, sessionCookie, setupAdmin } from '../test-support/factories.js';

const DAY = 24 * 3600 * 1000;
const PASSWORD = 'correct horse battery';

let ctx: TestContext;
let time: number;
afterEach(() => ctx.close());

/** The app on a clock the test moves: `advance(ms)` instead of waiting. */
async function start(env: Record<string, string> = {}) {
  time = Date.parse('2026-06-01T12:00:00Z');
  ctx = await startTestApp({ now: () => new Date(time), env });
}
const advance = (ms: number) => (time += ms);

function login(
  username: string,
  password: string,
  options: { cookie?: string; remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  return ctx.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    headers: { ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
    ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
  });
}

const me = (cookie: string) => ctx.app.inject({ url: '/api/auth/me', headers: { cookie } });

describe('sessions', () => {
  it('rotate at sign-in: the session presented is revoked and a new token issued', async () => {
    await start();
    const admin = await setupAdmin(ctx.app);
    const again = await login('admin', PASSWORD, { cookie: admin.cookie });
    expect(again.statusCode).toBe(200);
    const fresh = sessionCookie(again.headers['set-cookie']);
    expect(fresh).not.toBe(admin.cookie);
    expect((await me(admin.cookie)).statusCode).toBe(401);
    expect((await me(fresh)).statusCode).toBe(200);
  });

  it('expire after 7 idle days and 30 days after sign-in, however used', async () => {
    await start();
    const t0 = time;
    const at = (ms: number) => (time = t0 + ms);
    const admin = await setupAdmin(ctx.app);
    at(7 * DAY - 60_000);
    expect((await me(admin.cookie)).statusCode).toBe(200);
    // Used a minute before its idle expiry: the idle window started again.
    at(13 * DAY);
    expect((await me(admin.cookie)).statusCode).toBe(200);
    const unused = sessionCookie((await login('admin', PASSWORD)).headers['set-cookie']);
    for (const day of [19, 25]) {
      at(day * DAY);
      expect((await me(admin.cookie)).statusCode).toBe(200);
    }
    at(30 * DAY - 60_000);
    expect((await me(admin.cookie)).statusCode).toBe(200);
    // Used every 6 days, it still ends 30 days after sign-in.
    at(30 * DAY);
    expect((await me(admin.cookie)).statusCode).toBe(401);
    // The session signed in at day 13 and never used idled out at day 20.
    expect((await me(unused)).statusCode).toBe(401);
  });

  it('honour SESSION_IDLE_DAYS and SESSION_MAX_DAYS', async () => {
    await start({ SESSION_IDLE_DAYS: '1', SESSION_MAX_DAYS: '2' });
    const admin = await setupAdmin(ctx.app);
    const cookie = String((await login('admin', PASSWORD)).headers['set-cookie'] ?? admin.cookie);
    expect(cookie).toContain('Max-Age=172800');
    advance(DAY - 1000);
    expect((await me(sessionCookie(cookie))).statusCode).toBe(200);
    advance(DAY + 2000);
    expect((await me(sessionCookie(cookie))).statusCode).toBe(401);
  });

  it('are listed ("this device" marked) and revoked one by one, at once', async () => {
    await start();
    const admin = await setupAdmin(ctx.app);
    const phone = sessionCookie(
      (await login('admin', PASSWORD, { headers: { 'user-agent': 'Phone/1.0' } })).headers[
        'set-cookie'
      ],
    );
    // The phone's session is now in the session cache.
    expect((await me(phone)).statusCode).toBe(200);
    const list = await ctx.app.inject({
      url: '/api/auth/sessions',
      headers: { cookie: admin.cookie },
    });
    expect(list.statusCode).toBe(200);
    const sessions = list.json().sessions as Array<Record<string, unknown>>;
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current);
    expect(other).toMatchObject({ userAgent: 'Phone/1.0' });
    expect(Object.keys(other ?? {}).sort()).toEqual(
      ['createdAt', 'current', 'expiresAt', 'id', 'lastSeenAt', 'userAgent'].sort(),
    );

    const revoke = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/auth/sessions/${String(other?.id)}`,
      headers: { cookie: admin.cookie },
    });
    expect(revoke.statusCode).toBe(204);
    expect((await me(phone)).statusCode).toBe(401);
    expect((await me(admin.cookie)).statusCode).toBe(200);

    // Another user's session id is not found, as a missing one.
    const bob = await buildUser(ctx.app, ctx.db);
    const bobs = await ctx.app.inject({
      url: '/api/auth/sessions',
      headers: { cookie: bob.cookie },
    });
    const bobSession = (bobs.json().sessions as Array<{ id: string }>)[0]?.id;
    const foreign = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/auth/sessions/${String(bobSession)}`,
      headers: { cookie: admin.cookie },
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('session.not_found');
    expect((await me(bob.cookie)).statusCode).toBe(200);
  });

  it('sign out everywhere ends every session, this one too', async () => {
    await start();
    const admin = await setupAdmin(ctx.app);
    const other = sessionCookie((await login('admin', PASSWORD)).headers['set-cookie']);
    expect((await me(other)).statusCode).toBe(200);
    const all = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/logout-all',
      headers: { cookie: admin.cookie },
    });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toEqual({ sessionsRevoked: 2 });
    expect((await me(other)).statusCode).toBe(401);
    expect((await me(admin.cookie)).statusCode).toBe(401);
  });
});

describe('changing your password', () => {
  it('needs the current one, checks the policy, and signs out the other sessions at once', async () => {
    await start();
    const admin = await setupAdmin(ctx.app);
    const other = sessionCookie((await login('admin', PASSWORD)).headers['set-cookie']);
    expect((await me(other)).statusCode).toBe(200);
    const change = (currentPassword: string, newPassword: string) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/auth/password',
        headers: { cookie: admin.cookie },
        payload: { currentPassword, newPassword },
      });

    const wrong = await change('not my password', 'a brand new password');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('auth.wrong_password');
    const common = await change(PASSWORD, 'iloveyou');
    expect(common.statusCode).toBe(400);
    expect(common.json().error.code).toBe('password.common');
    expect((await me(other)).statusCode).toBe(200);

    const done = await change(PASSWORD, 'a brand new password');
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ sessionsRevoked: 1 });
    expect((await me(other)).statusCode).toBe(401);
    expect((await me(admin.cookie)).statusCode).toBe(200);
    expect((await login('admin', PASSWORD)).statusCode).toBe(401);
    expect((await login('admin', 'a brand new password')).statusCode).toBe(200);
  });
});

describe('sign-in', () => {
  it('answers an unknown user, a wrong password and an unknown user with a wrong password identically', async () => {
    await start();
    await setupAdmin(ctx.app);
    const answers = [
      await login('admin', 'a wrong password'),
      await login('nobody', 'a wrong password'),
      await login('nobody', PASSWORD),
    ];
    for (const answer of answers) {
      expect(answer.statusCode).toBe(401);
      expect(answer.headers['set-cookie']).toBeUndefined();
      expect(answer.json()).toEqual({
        error: { code: 'auth.invalid_credentials', message: 'Wrong username or password.' },
      });
    }
  });

  it('brute force: the 11th wrong password within a minute is refused with 429 and Retry-After; the right one works after the window', async () => {
    await start();
    await setupAdmin(ctx.app);
    for (let i = 0; i < 10; i++) {
      advance(1000);
      expect((await login('admin', `wrong password ${i}`)).statusCode).toBe(401);
    }
    advance(1000);
    const eleventh = await login('admin', 'wrong password 11');
    expect(eleventh.statusCode).toBe(429);
    expect(eleventh.json().error.code).toBe('auth.rate_limited');
    // The first failure was 10 s ago: it leaves the one-minute window in 50 s.
    expect(eleventh.headers['retry-after']).toBe('50');
    // Even the right password waits: a guess that is right must not be told apart.
    const right = await login('admin', PASSWORD);
    expect(right.statusCode).toBe(429);
    // The same account with another case is the same account.
    expect((await login('ADMIN', PASSWORD)).statusCode).toBe(429);

    advance(50_000);
    const later = await login('admin', PASSWORD);
    expect(later.statusCode).toBe(200);
    expect((await me(sessionCookie(later.headers['set-cookie']))).statusCode).toBe(200);
  });

  it('limits failures per client address across accounts, and ignores X-Forwarded-For from untrusted addresses', async () => {
    await start({ SIGNIN_FAILURES_PER_ADDRESS: '3' });
    await setupAdmin(ctx.app);
    const spoofed = (n: number) => ({ 'x-forwarded-for': `198.51.100.${n}` });
    // An attacker at 203.0.113.9 (not a trusted proxy) tries a new username and a new
    // X-Forwarded-For each time: the header is ignored, its own address counts.
    for (let i = 0; i < 3; i++) {
      const answer = await login(`user${i}`, 'a wrong password', {
        remoteAddress: '203.0.113.9',
        headers: spoofed(i),
      });
      expect(answer.statusCode).toBe(401);
    }
    const refused = await login('user3', 'a wrong password', {
      remoteAddress: '203.0.113.9',
      headers: spoofed(3),
    });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await login('admin', PASSWORD, { remoteAddress: '203.0.113.10' })).statusCode).toBe(
      200,
    );
    // Behind the trusted proxy (loopback), X-Forwarded-For names the client: each is apart.
    for (let i = 0; i < 5; i++) {
      const answer = await login(`user${i}`, 'a wrong password', {
        remoteAddress: '127.0.0.1',
        headers: spoofed(100 + i),
      });
      expect(answer.statusCode).toBe(401);
    }
  });

  it('the audit log records sign-ins, failures and sign-outs, without passwords or tokens', async () => {
    await start();
    const admin = await setupAdmin(ctx.app);
    await login('admin', 'a wrong password', { remoteAddress: '203.0.113.7' });
    const signedIn = await login('admin', PASSWORD);
    const cookie = sessionCookie(signedIn.headers['set-cookie']);
    await ctx.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    const rows = await ctx.db.all<{
      action: string;
      actor_id: string | null;
      detail: string | null;
      ip: string | null;
    }>('SELECT action, actor_id, detail, ip FROM audit_log ORDER BY created_at, action');
    expect(rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['auth.sign_in_failed', 'auth.sign_in', 'auth.sign_out']),
    );
    const failed = rows.find((r) => r.action === 'auth.sign_in_failed');
    expect(failed).toMatchObject({ actor_id: null, ip: '203.0.113.7' });
    expect(JSON.parse(failed?.detail ?? '{}')).toEqual({ username: 'admin' });
    const everything = JSON.stringify(await ctx.db.all('SELECT * FROM audit_log'));
    for (const secret of [PASSWORD, 'a wrong password', cookie.split('=')[1] ?? '', admin.cookie]) {
      expect(everything).not.toContain(secret);
    }
  });
});
