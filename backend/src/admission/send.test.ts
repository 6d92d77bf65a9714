import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createKeyring } from '../keys/crypto.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  createConversation,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

// The admission gate on the real send route: rate limit, budget and the user's own key, all
// decided before any upstream call (the fake records every request it gets).

let ctx: TestContext | undefined;
afterEach(async () => {
  await ctx?.close();
  ctx = undefined;
});

const USER_KEY = 'sk-or-v1-users-own-key-0123456789abcdefWXYZ';

const completions = () =>
  ctx!.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').length;

/** A send answered with JSON (a refusal): status, headers and body. */
async function refusedSend(user: SignedInUser, conversationId: string, content = 'hi') {
  return ctx!.app.inject({
    method: 'POST',
    url: `/api/conversations/${conversationId}/messages`,
    headers: { cookie: user.cookie },
    payload: { content },
  });
}

async function send(user: SignedInUser, conversationId: string, content = 'hi') {
  return collect(postMessage(ctx!.baseUrl, user.cookie, conversationId, { content }));
}

async function saveKey(user: SignedInUser, key = USER_KEY) {
  const response = await ctx!.app.inject({
    method: 'PUT',
    url: '/api/keys/openrouter',
    headers: { cookie: user.cookie },
    payload: { key },
  });
  expect(response.statusCode).toBe(200);
}

describe('budgets on the send route', () => {
  it('refuses a send at the limit with 402 budget.exceeded, before any upstream call', async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app);
    const user = await buildUser(ctx.app, ctx.db);
    await ctx.app.inject({
      method: 'PUT',
      url: `/api/admin/budgets/users/${user.id}`,
      headers: { cookie: admin.cookie },
      payload: { monthlyLimitUsd: 0 },
    });
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    const before = completions();
    const response = await refusedSend(user, conversation);
    expect(response.statusCode).toBe(402);
    expect(response.json().error).toEqual({
      code: 'budget.exceeded',
      message: expect.stringMatching(/^You have spent \$0\.00 of your \$0\.00 monthly limit\./),
    });
    expect(completions()).toBe(before);
    // Nothing was saved either.
    const detail = await ctx.app.inject({
      url: `/api/conversations/${conversation}`,
      headers: { cookie: user.cookie },
    });
    expect(detail.json().messages).toEqual([]);
    // The admin, on the default (unlimited), still sends.
    const own = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    expect((await send(admin, own)).map((e) => e.event)).toContain('done');
  });

  it("counts each saved answer's cost, so the send after the one that crossed the limit is refused", async () => {
    ctx = await startTestApp();
    const admin = await setupAdmin(ctx.app);
    const user = await buildUser(ctx.app, ctx.db);
    // Below one answer's cost: the first send starts (nothing spent yet), the second may not.
    await ctx.app.inject({
      method: 'PUT',
      url: '/api/admin/budgets/default',
      headers: { cookie: admin.cookie },
      payload: { monthlyLimitUsd: 0.000001 },
    });
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    const mine = async () =>
      (await ctx!.app.inject({ url: '/api/budgets/me', headers: { cookie: user.cookie } })).json();
    expect((await mine()).spentUsd).toBe(0);

    const events = await send(user, conversation, 'first');
    const cost = events.find((e) => e.event === 'usage')?.data.cost as number;
    expect(cost).toBeGreaterThan(0.000001);
    expect((await mine()).spentUsd).toBeCloseTo(cost, 12);

    const before = completions();
    const refused = await refusedSend(user, conversation, 'second');
    expect(refused.statusCode).toBe(402);
    expect(refused.json().error.code).toBe('budget.exceeded');
    expect(completions()).toBe(before);

    // The running total agrees with the recorded costs.
    const recorded = await ctx.db.one<{ total: number }>(
      'SELECT SUM(cost_usd) AS total FROM generations WHERE user_id = $1',
      [user.id],
    );
    expect((await mine()).spentUsd).toBeCloseTo(recorded?.total ?? -1, 12);

    // Raising the limit lets the user send again at once.
    await ctx.app.inject({
      method: 'PUT',
      url: `/api/admin/budgets/users/${user.id}`,
      headers: { cookie: admin.cookie },
      payload: { monthlyLimitUsd: 5 },
    });
    expect((await send(user, conversation, 'third')).map((e) => e.event)).toContain('done');
  });
});

describe('the rate limit on sending', () => {
  it('answers 429 chat.rate_limited with Retry-After past the limit, per user, until the window passes', async () => {
    let clock = new Date('2026-03-10T12:00:00.000Z');
    ctx = await startTestApp({ env: { CHAT_RATE_LIMIT_PER_MINUTE: '2' }, now: () => clock });
    const admin = await setupAdmin(ctx.app);
    const other = await buildUser(ctx.app, ctx.db);
    const conversation = await createConversation(ctx.app, admin, { model: 'fake/echo' });
    await send(admin, conversation, 'one');
    clock = new Date(clock.getTime() + 20_000);
    await send(admin, conversation, 'two');
    clock = new Date(clock.getTime() + 10_000);

    const before = completions();
    const refused = await refusedSend(admin, conversation, 'three');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('30');
    expect(refused.json().error).toEqual({
      code: 'chat.rate_limited',
      message: 'You are sending messages too fast: wait a moment.',
    });
    expect(completions()).toBe(before);

    // Another user has a limit of their own.
    const theirs = await createConversation(ctx.app, other, { model: 'fake/echo' });
    expect((await send(other, theirs)).map((e) => e.event)).toContain('done');

    // Once the first send is a minute old, one more is allowed.
    clock = new Date(clock.getTime() + 30_000);
    expect((await send(admin, conversation, 'four')).map((e) => e.event)).toContain('done');
  });
});

describe("the user's own key on the send route", () => {
  it("is sent as the Authorization header instead of the server's key, only for its owner", async () => {
    ctx = await startTestApp({ apiKey: 'sk-or-v1-server-key' });
    const owner = await setupAdmin(ctx.app);
    const other = await buildUser(ctx.app, ctx.db);
    await saveKey(owner);
    for (const [user, expected] of [
      [owner, USER_KEY],
      [other, 'sk-or-v1-server-key'],
    ] as const) {
      const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
      const before = ctx.fake.requests.length;
      await send(user, conversation, 'whose key?');
      const upstream = ctx.fake.requests
        .slice(before)
        .find((r) => r.path === '/api/v1/chat/completions');
      expect(upstream?.headers.authorization).toBe(`Bearer ${expected}`);
    }
  });

  it('lets a user with a key chat when the server has none', async () => {
    ctx = await startTestApp({ apiKey: null });
    const user = await setupAdmin(ctx.app);
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    expect((await refusedSend(user, conversation)).json().error.code).toBe('upstream.no_key');
    await saveKey(user);
    expect((await send(user, conversation)).map((e) => e.event)).toContain('done');
  });

  it("says to check the key on the Account page when OpenRouter refuses the user's key", async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    await saveKey(user);
    ctx.fake.revokeKey(USER_KEY);
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    const events = await send(user, conversation);
    const error = events.find((e) => e.event === 'error');
    expect(error?.data.code).toBe('upstream.unauthorized');
    expect(error?.data.message).toContain('Check your OpenRouter key on your Account page.');
    expect(JSON.stringify(events)).not.toContain(USER_KEY);
  });

  it('refuses to send with a key the server can no longer decrypt, never using its own key instead', async () => {
    ctx = await startTestApp();
    const user = await setupAdmin(ctx.app);
    // A key sealed under another SECRET_KEY, as after the data folder's secret.key was lost.
    const sealed = createKeyring(randomBytes(32)).seal(USER_KEY, user.id);
    await ctx.db.run(
      `INSERT INTO user_api_keys (user_id, key_id, nonce, ciphertext, auth_tag, last_four, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'WXYZ', now(), now())`,
      [user.id, sealed.keyId, sealed.nonce, sealed.ciphertext, sealed.tag],
    );
    const conversation = await createConversation(ctx.app, user, { model: 'fake/echo' });
    const before = completions();
    const refused = await refusedSend(user, conversation);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('api_key.unreadable');
    expect(completions()).toBe(before);
    // Saving the key again mends it.
    await saveKey(user);
    expect((await send(user, conversation)).map((e) => e.event)).toContain('done');
  });
});
