import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { sessionCookie } from '../test-support/factories.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = await startTestApp();
});
afterEach(() => ctx.close());

const credentials = { username: 'admin', password: 'correct horse battery' };

describe('first-run setup and sign-in', () => {
  it('creates the admin once, then only sign-in works', async () => {
    expect((await ctx.app.inject({ url: '/api/auth/state' })).json()).toEqual({
      needsSetup: true,
      registrationOpen: false,
    });

    const setup = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: credentials,
    });
    expect(setup.statusCode).toBe(201);
    expect(setup.json().user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(setup.json().user).not.toHaveProperty('passwordHash');
    const cookieHeader = String(setup.headers['set-cookie']);
    expect(cookieHeader).toMatch(/^ai_session=[\w-]{43};/);
    expect(cookieHeader).toContain('HttpOnly');
    expect(cookieHeader).toContain('SameSite=Lax');
    expect(cookieHeader).not.toContain('Secure');

    expect((await ctx.app.inject({ url: '/api/auth/state' })).json()).toEqual({
      needsSetup: false,
      registrationOpen: false,
    });
    const again = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: { username: 'intruder', password: 'another password' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('auth.setup_done');

    const me = await ctx.app.inject({
      url: '/api/auth/me',
      headers: { cookie: sessionCookie(setup.headers['set-cookie']) },
    });
    expect(me.json().user.username).toBe('admin');
  });

  it('behind an HTTPS proxy, names the cookie __Host-ai_session, Secure, and reads only that name', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const setup = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: credentials,
      headers: https,
      remoteAddress: '127.0.0.1',
    });
    const header = String(setup.headers['set-cookie']);
    expect(header).toMatch(/^__Host-ai_session=[\w-]{43};/);
    expect(header).toContain('Secure');
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Lax');
    expect(header).toContain('Path=/');
    expect(header).not.toContain('Domain');
    const token = sessionCookie(setup.headers['set-cookie']).split('=')[1];

    const me = (cookie: string, headers: Record<string, string>, remoteAddress: string) =>
      ctx.app.inject({ url: '/api/auth/me', headers: { cookie, ...headers }, remoteAddress });
    expect((await me(`__Host-ai_session=${token}`, https, '127.0.0.1')).statusCode).toBe(200);
    // The bare name is not read over HTTPS, nor the prefixed one over plain HTTP.
    expect((await me(`ai_session=${token}`, https, '127.0.0.1')).statusCode).toBe(401);
    expect((await me(`__Host-ai_session=${token}`, {}, '127.0.0.1')).statusCode).toBe(401);
    expect((await me(`ai_session=${token}`, {}, '127.0.0.1')).statusCode).toBe(200);
    // X-Forwarded-Proto from an untrusted address is ignored: the request is plain HTTP.
    expect((await me(`__Host-ai_session=${token}`, https, '203.0.113.5')).statusCode).toBe(401);

    const logout = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie: `__Host-ai_session=${token}`, ...https },
      remoteAddress: '127.0.0.1',
    });
    expect(String(logout.headers['set-cookie'])).toMatch(/^__Host-ai_session=;.*Secure/);
  });

  it('signs in, refuses wrong passwords and unknown users alike, and signs out', async () => {
    await ctx.app.inject({ method: 'POST', url: '/api/auth/setup', payload: credentials });
    const wrong = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { ...credentials, password: 'wrong password' },
    });
    const unknown = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { ...credentials, username: 'nobody' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());

    const login = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: credentials,
    });
    expect(login.statusCode).toBe(200);
    const cookie = sessionCookie(login.headers['set-cookie']);
    expect((await ctx.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(
      200,
    );

    const logout = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { cookie },
    });
    expect(logout.statusCode).toBe(204);
    expect((await ctx.app.inject({ url: '/api/auth/me', headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  it('finds the account whatever the case of the username, as usernames are unique regardless of it', async () => {
    await ctx.app.inject({ method: 'POST', url: '/api/auth/setup', payload: credentials });
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { ...credentials, username: credentials.username.toUpperCase() },
    });
    expect(login.statusCode).toBe(200);
    expect(login.json().user.username).toBe(credentials.username);
  });

  it('stores only hashes: no password or session token in the database', async () => {
    const setup = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/setup',
      payload: credentials,
    });
    const token = sessionCookie(setup.headers['set-cookie']).split('=')[1] ?? '';
    const users = await ctx.db.all<{ password_hash: string }>('SELECT password_hash FROM users');
    expect(users[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const sessions = await ctx.db.all<{ token_hash: string }>('SELECT token_hash FROM sessions');
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.token_hash).not.toBe(token);
    expect(sessions[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
