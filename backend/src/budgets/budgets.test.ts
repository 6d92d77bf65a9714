import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

async function api(
  user: SignedInUser,
  method: 'GET' | 'PUT' | 'DELETE',
  url: string,
  payload?: object,
) {
  return ctx!.app.inject({ method, url, headers: { cookie: user.cookie }, payload });
}

/** A generation row that cost `cost` USD, started at `at`. */
async function generation(userId: string, cost: number | null, at: string) {
  await ctx!.db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, cost_usd, created_at)
     VALUES ($1, $2, $3, $4, 'fake/echo', $5, CAST($6 AS TIMESTAMPTZ))`,
    [crypto.randomUUID(), crypto.randomUUID(), userId, crypto.randomUUID(), cost, at],
  );
}

describe('GET /api/budgets/me', () => {
  it("sums this month's recorded costs (UTC), and is unlimited by default", async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app);
    const other = await buildUser(ctx.app, ctx.db);
    const month = new Date().toISOString().slice(0, 7);
    await generation(admin.id, 0.25, `${month}-01T00:00:00.000Z`);
    await generation(admin.id, 0.5, new Date().toISOString());
    await generation(admin.id, null, new Date().toISOString());
    await generation(admin.id, 100, '2001-01-31T23:59:59.999Z');
    await generation(other.id, 7, new Date().toISOString());

    const response = await api(admin, 'GET', '/api/budgets/me');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      month,
      spentUsd: 0.75,
      limitUsd: null,
      source: 'default',
      resetsAt: expect.stringMatching(/^\d{4}-\d{2}-01T00:00:00\.000Z$/),
    });
    expect(new Date(body.resetsAt).getTime()).toBeGreaterThan(Date.now());
    expect((await api(other, 'GET', '/api/budgets/me')).json().spentUsd).toBe(7);
    expect((await ctx.app.inject({ url: '/api/budgets/me' })).statusCode).toBe(401);
  });
});

describe('/api/admin/budgets', () => {
  it('sets the default and per-user limits, which users then see, and records each change', async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app);
    const alice = await buildUser(ctx.app, ctx.db, 'alice');
    await generation(alice.id, 1.5, new Date().toISOString());

    const setDefault = await api(admin, 'PUT', '/api/admin/budgets/default', {
      monthlyLimitUsd: 10,
    });
    expect(setDefault.statusCode).toBe(200);
    expect(setDefault.json()).toMatchObject({
      defaultLimitUsd: 10,
      users: [
        { username: 'admin', role: 'admin', ownLimit: false, limitUsd: 10, spentUsd: 0 },
        { username: 'alice', role: 'user', ownLimit: false, limitUsd: 10, spentUsd: 1.5 },
      ],
    });
    expect((await api(alice, 'GET', '/api/budgets/me')).json()).toMatchObject({
      limitUsd: 10,
      source: 'default',
      spentUsd: 1.5,
    });

    const own = await api(admin, 'PUT', `/api/admin/budgets/users/${alice.id}`, {
      monthlyLimitUsd: 2.5,
    });
    expect(own.json().users[1]).toMatchObject({ userId: alice.id, ownLimit: true, limitUsd: 2.5 });
    expect((await api(alice, 'GET', '/api/budgets/me')).json()).toMatchObject({
      limitUsd: 2.5,
      source: 'user',
    });

    // null on a user: unlimited for them, whatever the default.
    await api(admin, 'PUT', `/api/admin/budgets/users/${alice.id}`, { monthlyLimitUsd: null });
    expect((await api(alice, 'GET', '/api/budgets/me')).json()).toMatchObject({
      limitUsd: null,
      source: 'user',
    });

    const reset = await api(admin, 'DELETE', `/api/admin/budgets/users/${alice.id}`);
    expect(reset.statusCode).toBe(200);
    expect((await api(alice, 'GET', '/api/budgets/me')).json()).toMatchObject({
      limitUsd: 10,
      source: 'default',
    });
    await api(admin, 'PUT', '/api/admin/budgets/default', { monthlyLimitUsd: null });
    expect((await api(alice, 'GET', '/api/budgets/me')).json().limitUsd).toBeNull();

    const audit = await ctx.db.all<{
      action: string;
      actor_id: string;
      target_user_id: string | null;
      detail: string;
    }>(
      `SELECT action, actor_id, target_user_id, detail FROM audit_log
       WHERE action LIKE 'budget.%' ORDER BY created_at, id`,
    );
    expect(audit.map((a) => [a.action, a.target_user_id, JSON.parse(a.detail)])).toEqual([
      ['budget.default_changed', null, { from: null, to: 10 }],
      ['budget.user_changed', alice.id, { from: 10, fromSource: 'default', to: 2.5 }],
      ['budget.user_changed', alice.id, { from: 2.5, fromSource: 'user', to: null }],
      ['budget.user_reset', alice.id, { from: null, to: 'default' }],
      ['budget.default_changed', null, { from: 10, to: null }],
    ]);
    expect(audit.every((a) => a.actor_id === admin.id)).toBe(true);
  });

  it('answers 403 auth.admin_only to a user, changing nothing', async () => {
    ctx = await startTestApp();
    await setupAdmin(ctx.app);
    const user = await buildUser(ctx.app, ctx.db);
    const attempts = [
      await api(user, 'GET', '/api/admin/budgets'),
      await api(user, 'PUT', '/api/admin/budgets/default', { monthlyLimitUsd: 0 }),
      await api(user, 'PUT', `/api/admin/budgets/users/${user.id}`, { monthlyLimitUsd: 1000 }),
      await api(user, 'DELETE', `/api/admin/budgets/users/${user.id}`),
    ];
    for (const response of attempts) {
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('auth.admin_only');
    }
    expect((await api(user, 'GET', '/api/budgets/me')).json()).toMatchObject({
      limitUsd: null,
      source: 'default',
    });
    expect(await ctx.db.all('SELECT * FROM user_budgets')).toEqual([]);
    expect(await ctx.db.all('SELECT * FROM budget_defaults')).toEqual([]);
  });

  it('answers 404 for an unknown user and 400 for a bad limit', async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app);
    const missing = await api(admin, 'PUT', `/api/admin/budgets/users/${crypto.randomUUID()}`, {
      monthlyLimitUsd: 1,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('user.not_found');
    for (const payload of [
      { monthlyLimitUsd: -1 },
      { monthlyLimitUsd: '5' },
      { monthlyLimitUsd: 2_000_000 },
      {},
      { monthlyLimitUsd: 5, extra: true },
    ]) {
      const bad = await api(admin, 'PUT', '/api/admin/budgets/default', payload);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('request.invalid');
    }
    expect(await ctx.db.all('SELECT * FROM budget_defaults')).toEqual([]);
  });
});
