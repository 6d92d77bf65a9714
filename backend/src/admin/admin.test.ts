import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  sessionCookie,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import {
  collect,
  postMessage,
  readEvents,
  type ReceivedEvent,
} from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;
beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
function call(method: Method, url: string, cookie: string, payload?: Record<string, unknown>) {
  return ctx.app.inject({ method, url, headers: { cookie }, ...(payload ? { payload } : {}) });
}
const me = (cookie: string) => call('GET', '/api/auth/me', cookie);
async function signIn(username: string, password: string) {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
  });
  return {
    response,
    cookie: response.statusCode === 200 ? sessionCookie(response.headers['set-cookie']) : '',
  };
}
async function createUser(username: string, role: 'user' | 'admin' = 'user') {
  const created = await call('POST', '/api/admin/users', admin.cookie, {
    username,
    password: 'a fine long password',
    role,
  });
  expect(created.statusCode).toBe(201);
  const { cookie } = await signIn(username, 'a fine long password');
  return { id: created.json().id as string, cookie };
}

const adminRoutes: Array<[Method, string, Record<string, unknown>?]> = [
  ['GET', '/api/admin/users'],
  ['POST', '/api/admin/users', { username: 'mallory', password: 'a fine long password' }],
  ['PATCH', '/api/admin/users/ID', { role: 'admin' }],
  ['DELETE', '/api/admin/users/ID'],
  ['POST', '/api/admin/users/ID/password', { password: 'a fine long password' }],
  ['GET', '/api/admin/settings'],
  ['PATCH', '/api/admin/settings', { registrationOpen: true }],
  ['GET', '/api/admin/audit'],
];

describe('the admin API', () => {
  it('answers 403 auth.admin_only to users and 401 without a session, changing nothing', async () => {
    const user = await buildUser(ctx.app, ctx.db);
    for (const [method, url, payload] of adminRoutes) {
      const target = url.replace('ID', admin.id);
      const asUser = await call(method, target, user.cookie, payload);
      expect(asUser.statusCode, `${method} ${url}`).toBe(403);
      expect(asUser.json().error.code).toBe('auth.admin_only');
      const anonymous = await call(method, target, '', payload);
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
    }
    const users = (await call('GET', '/api/admin/users', admin.cookie)).json().users;
    expect(users.map((u: { username: string }) => u.username).sort()).toEqual(
      ['admin', user.username].sort(),
    );
    expect(users.find((u: { id: string }) => u.id === admin.id).role).toBe('admin');
    expect((await call('GET', '/api/admin/settings', admin.cookie)).json().registrationOpen).toBe(
      false,
    );
  });

  it('creates users: policy checked, usernames unique regardless of case', async () => {
    const weak = await call('POST', '/api/admin/users', admin.cookie, {
      username: 'bob',
      password: 'password1',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.code).toBe('password.common');
    const short = await call('POST', '/api/admin/users', admin.cookie, {
      username: 'bob',
      password: 'short',
    });
    expect(short.json().error.code).toBe('password.too_short');
    const long = await call('POST', '/api/admin/users', admin.cookie, {
      username: 'bob',
      password: 'x'.repeat(257),
    });
    expect(long.json().error).toEqual({
      code: 'password.too_long',
      message: 'The password must have at most 256 characters.',
    });

    const bob = await createUser('bob');
    expect((await me(bob.cookie)).json().user).toMatchObject({ username: 'bob', role: 'user' });
    const taken = await call('POST', '/api/admin/users', admin.cookie, {
      username: 'BOB',
      password: 'a fine long password',
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('user.username_taken');
    const list = (await call('GET', '/api/admin/users', admin.cookie)).json().users;
    expect(list).toHaveLength(2);
    expect(list[1]).toMatchObject({ username: 'bob', role: 'user', disabled: false, sessions: 1 });
    expect(JSON.stringify(list)).not.toMatch(/hash|argon/i);
  });

  it('disabling signs the user out at once and refuses their sign-in; enabling lets them back', async () => {
    const bob = await createUser('bob');
    expect((await me(bob.cookie)).statusCode).toBe(200); // cached now
    const disabled = await call('PATCH', `/api/admin/users/${bob.id}`, admin.cookie, {
      disabled: true,
    });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ disabled: true, sessions: 0 });
    expect((await me(bob.cookie)).statusCode).toBe(401);
    const refused = await signIn('bob', 'a fine long password');
    expect(refused.response.statusCode).toBe(403);
    expect(refused.response.json().error.code).toBe('auth.account_disabled');
    // A wrong password for a disabled account answers as any wrong password.
    const wrong = await signIn('bob', 'not the password');
    expect(wrong.response.json().error.code).toBe('auth.invalid_credentials');

    await call('PATCH', `/api/admin/users/${bob.id}`, admin.cookie, { disabled: false });
    expect((await signIn('bob', 'a fine long password')).response.statusCode).toBe(200);
  });

  it('a role change applies from the next request', async () => {
    const bob = await createUser('bob');
    expect((await call('GET', '/api/admin/users', bob.cookie)).statusCode).toBe(403);
    await call('PATCH', `/api/admin/users/${bob.id}`, admin.cookie, { role: 'admin' });
    expect((await call('GET', '/api/admin/users', bob.cookie)).statusCode).toBe(200);
    await call('PATCH', `/api/admin/users/${bob.id}`, bob.cookie, { role: 'user' });
    expect((await call('GET', '/api/admin/users', bob.cookie)).statusCode).toBe(403);
    expect((await me(bob.cookie)).json().user.role).toBe('user');
  });

  it('never leaves the workspace without an active admin', async () => {
    for (const [method, url, payload] of [
      ['PATCH', `/api/admin/users/${admin.id}`, { role: 'user' }],
      ['PATCH', `/api/admin/users/${admin.id}`, { disabled: true }],
      ['DELETE', `/api/admin/users/${admin.id}`, undefined],
    ] as const) {
      const refused = await call(method, url, admin.cookie, payload);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('user.last_admin');
    }
    expect((await me(admin.cookie)).json().user.role).toBe('admin');
    // A disabled admin does not count.
    const carol = await createUser('carol', 'admin');
    await call('PATCH', `/api/admin/users/${carol.id}`, admin.cookie, { disabled: true });
    expect(
      (await call('PATCH', `/api/admin/users/${admin.id}`, admin.cookie, { role: 'user' }))
        .statusCode,
    ).toBe(409);
    await call('PATCH', `/api/admin/users/${carol.id}`, admin.cookie, { disabled: false });
    // With another active admin, an admin may step down.
    const down = await call('PATCH', `/api/admin/users/${admin.id}`, admin.cookie, {
      role: 'user',
    });
    expect(down.statusCode).toBe(200);
    expect((await call('GET', '/api/admin/users', admin.cookie)).statusCode).toBe(403);
  });

  it('deleting a user removes their data and sessions; other users keep theirs', async () => {
    const bob = await createUser('bob');
    const bobs = await createConversation(
      ctx.app,
      { ...bob, username: 'bob' },
      { model: 'fake/echo' },
    );
    await collect(postMessage(ctx.baseUrl, bob.cookie, bobs, { content: 'hello' }));
    for (const [url, payload] of [
      ['/api/models/favorites', { modelId: 'fake/echo', favorite: true }],
      ['/api/models/default', { modelId: 'fake/echo' }],
    ] as const) {
      expect((await call('PUT', url, bob.cookie, payload)).statusCode).toBe(200);
      expect((await call('PUT', url, admin.cookie, payload)).statusCode).toBe(200);
    }
    const mine = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    await collect(postMessage(ctx.baseUrl, admin.cookie, mine, { content: 'mine' }));

    const deleted = await call('DELETE', `/api/admin/users/${bob.id}`, admin.cookie);
    expect(deleted.statusCode).toBe(204);
    expect((await me(bob.cookie)).statusCode).toBe(401);
    const owned = ['sessions', 'conversations', 'messages', 'generations'];
    const preferences = ['user_model_favorites', 'user_model_defaults'];
    for (const table of ['users', ...owned, ...preferences]) {
      const column = table === 'users' ? 'id' : 'user_id';
      const rows = await ctx.db.all(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [bob.id]);
      expect(rows, table).toHaveLength(0);
    }
    for (const table of preferences) {
      const rows = await ctx.db.all(`SELECT 1 FROM ${table} WHERE user_id = $1`, [admin.id]);
      expect(rows, table).toHaveLength(1);
    }
    const left = await ctx.db.all('SELECT 1 FROM messages WHERE user_id = $1', [admin.id]);
    expect(left).toHaveLength(2);
    expect((await call('DELETE', `/api/admin/users/${bob.id}`, admin.cookie)).statusCode).toBe(404);
    // Their username is free again.
    expect((await signIn('bob', 'a fine long password')).response.statusCode).toBe(401);
  });

  it("resets a password: the policy applies, the user's sessions end", async () => {
    const bob = await createUser('bob');
    expect((await me(bob.cookie)).statusCode).toBe(200);
    const weak = await call('POST', `/api/admin/users/${bob.id}/password`, admin.cookie, {
      password: 'bob',
    });
    expect(weak.statusCode).toBe(400);
    const reset = await call('POST', `/api/admin/users/${bob.id}/password`, admin.cookie, {
      password: 'a second fine password',
    });
    expect(reset.statusCode).toBe(200);
    expect((await me(bob.cookie)).statusCode).toBe(401);
    expect((await signIn('bob', 'a fine long password')).response.statusCode).toBe(401);
    expect((await signIn('bob', 'a second fine password')).response.statusCode).toBe(200);
    // Resetting their own password keeps the admin's current session.
    await call('POST', `/api/admin/users/${admin.id}/password`, admin.cookie, {
      password: 'the admin new password',
    });
    expect((await me(admin.cookie)).statusCode).toBe(200);
  });
});

describe('self-registration', () => {
  const register = (username: string, password = 'a fine long password') =>
    ctx.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password } });

  it('is closed by default; once opened, creates a user and signs them in', async () => {
    const closed = await register('dave');
    expect(closed.statusCode).toBe(403);
    expect(closed.json().error.code).toBe('auth.registration_closed');

    await call('PATCH', '/api/admin/settings', admin.cookie, { registrationOpen: true });
    expect((await ctx.app.inject({ url: '/api/auth/state' })).json()).toEqual({
      needsSetup: false,
      registrationOpen: true,
    });
    const weak = await register('dave', 'qwertyuiop');
    expect(weak.json().error.code).toBe('password.common');
    const open = await register('dave');
    expect(open.statusCode).toBe(201);
    expect(open.json().user).toMatchObject({ username: 'dave', role: 'user' });
    expect((await me(sessionCookie(open.headers['set-cookie']))).statusCode).toBe(200);
    expect((await register('Dave')).json().error.code).toBe('user.username_taken');

    await call('PATCH', '/api/admin/settings', admin.cookie, { registrationOpen: false });
    expect((await register('erin')).statusCode).toBe(403);
  });
});

describe('the model allow-list', () => {
  it('filters the catalog users see; admins see every model', async () => {
    const user = await buildUser(ctx.app, ctx.db);
    const all = (await call('GET', '/api/models', user.cookie)).json().models as Array<{
      id: string;
    }>;
    expect(all.length).toBeGreaterThan(2);
    const allowed = [all[0]?.id ?? '', all[1]?.id ?? ''];
    const set = await call('PATCH', '/api/admin/settings', admin.cookie, {
      allowedModels: allowed,
    });
    expect(set.json()).toEqual({ registrationOpen: false, allowedModels: allowed });
    const seen = (await call('GET', '/api/models', user.cookie)).json().models;
    expect(seen.map((m: { id: string }) => m.id).sort()).toEqual([...allowed].sort());
    expect((await call('GET', '/api/models', admin.cookie)).json().models).toHaveLength(all.length);

    await call('PATCH', '/api/admin/settings', admin.cookie, { allowedModels: null });
    expect((await call('GET', '/api/models', user.cookie)).json().models).toHaveLength(all.length);
  });

  it('refuses a send whose model or fallback is not allowed, with 403 and before any upstream call', async () => {
    const user = await buildUser(ctx.app, ctx.db);
    await call('PATCH', '/api/admin/settings', admin.cookie, { allowedModels: ['fake/echo'] });
    const id = await createConversation(ctx.app, user, { model: 'fake/slow' });
    const send = (cookie: string, conversation: string, payload: Record<string, unknown>) =>
      call('POST', `/api/conversations/${conversation}/messages`, cookie, payload);
    const upstreamBefore = ctx.fake.streams.length;

    const refused = await send(user.cookie, id, { content: 'hello' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toEqual({
      code: 'model.not_allowed',
      message:
        'The model fake/slow is not available in this workspace: choose another or ask an administrator.',
    });
    // The model of the request is checked, and so is every fallback.
    await call('PATCH', `/api/conversations/${id}`, user.cookie, {
      fallbackModels: ['fake/error'],
    });
    const fallback = await send(user.cookie, id, { content: 'hello', model: 'fake/echo' });
    expect(fallback.statusCode).toBe(403);
    expect(fallback.json().error.message).toContain('fake/error');
    expect(ctx.fake.streams.length).toBe(upstreamBefore);
    expect(await ctx.db.all('SELECT 1 FROM messages WHERE conversation_id = $1', [id])).toEqual([]);

    await call('PATCH', `/api/conversations/${id}`, user.cookie, {
      model: 'fake/echo',
      fallbackModels: [],
    });
    const events = await collect(postMessage(ctx.baseUrl, user.cookie, id, { content: 'hello' }));
    expect(events.at(-1)?.event).toBe('done');

    // Admins may use every model.
    const mine = await createConversation(ctx.app, admin, { model: 'fake/reasoning' });
    const adminEvents = await collect(
      postMessage(ctx.baseUrl, admin.cookie, mine, { content: 'hello' }),
    );
    expect(adminEvents.at(-1)?.event).toBe('done');
  });
});

describe('taking access away from a user who is being answered', () => {
  for (const action of ['disable', 'delete'] as const) {
    it(`${action}: stops their running answer and its upstream call at once`, async () => {
      const username = `streamer-${action}`;
      const user = { ...(await createUser(username)), username };
      const id = await createConversation(ctx.app, user, { model: 'fake/stall' });
      const response = await fetch(`${ctx.baseUrl}/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: { cookie: user.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'write for a long time' }),
      });
      expect(response.status).toBe(200);
      const events: ReceivedEvent[] = [];
      const reading = (async () => {
        for await (const event of readEvents(response.body!)) events.push(event);
      })();
      // The upstream stream is open and stalled: the answer would run until a timeout.
      await expect.poll(() => ctx.fake.streams.length).toBe(1);
      const streamIndex = ctx.fake.streams.length - 1;

      const taken =
        action === 'disable'
          ? await call('PATCH', `/api/admin/users/${user.id}`, admin.cookie, { disabled: true })
          : await call('DELETE', `/api/admin/users/${user.id}`, admin.cookie);
      expect(taken.statusCode).toBe(action === 'disable' ? 200 : 204);

      const upstream = await ctx.fake.waitForStreamClosed(streamIndex, 5000);
      expect(upstream.endedBy).toBe('client-closed');
      await reading;
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
      const rows = await ctx.db.all<{ status: string }>(
        "SELECT status FROM messages WHERE conversation_id = $1 AND role = 'assistant'",
        [id],
      );
      // Disabled: the answer is kept, stopped. Deleted: nothing of the user's comes back.
      expect(rows).toEqual(action === 'disable' ? [{ status: 'stopped' }] : []);
    });
  }
});

describe('the audit log', () => {
  it('pages newest first through admin actions, with no secret in it', async () => {
    const bob = await createUser('bob');
    await call('PATCH', `/api/admin/users/${bob.id}`, admin.cookie, { role: 'admin' });
    await call('PATCH', `/api/admin/users/${bob.id}`, admin.cookie, { disabled: true });
    await call('PATCH', '/api/admin/settings', admin.cookie, { registrationOpen: true });
    await call('PATCH', '/api/admin/settings', admin.cookie, { allowedModels: ['fake/echo'] });
    await call('POST', `/api/admin/users/${bob.id}/password`, admin.cookie, {
      password: 'a second fine password',
    });
    await call('DELETE', `/api/admin/users/${bob.id}`, admin.cookie);

    const seen: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const page = await call(
        'GET',
        `/api/admin/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        admin.cookie,
      );
      expect(page.statusCode).toBe(200);
      const body = page.json();
      expect(body.entries.length).toBeLessThanOrEqual(3);
      seen.push(...body.entries);
      cursor = body.nextCursor;
    } while (cursor);

    const actions = seen.map((e) => e.action);
    expect(actions.slice(0, 7)).toEqual([
      'user.deleted',
      'user.password_reset',
      'settings.allowed_models',
      'settings.registration',
      'user.disabled',
      'user.role_changed',
      'auth.sign_in',
    ]);
    expect(actions).toContain('user.created');
    const times = seen.map((e) => Date.parse(String(e.at)));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen[0]).toMatchObject({
      actorId: admin.id,
      actorUsername: 'admin',
      targetUserId: bob.id,
      targetUsername: null, // deleted
      detail: { username: 'bob', role: 'admin' },
    });
    expect(seen.find((e) => e.action === 'user.role_changed')?.detail).toEqual({
      username: 'bob',
      from: 'user',
      to: 'admin',
    });
    expect(seen.find((e) => e.action === 'settings.allowed_models')?.detail).toEqual({
      from: null,
      to: ['fake/echo'],
    });
    const text = JSON.stringify(seen);
    for (const secret of [
      'a fine long password',
      'a second fine password',
      admin.cookie.split('=')[1],
    ]) {
      expect(text).not.toContain(secret);
    }
    const bad = await call('GET', '/api/admin/audit?cursor=nonsense', admin.cookie);
    expect(bad.statusCode).toBe(400);
  });
});
