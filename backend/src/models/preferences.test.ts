import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';

let ctx: TestContext;
let admin: SignedInUser;
let bob: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  bob = await buildUser(ctx.app, ctx.db, 'bob');
});
afterEach(() => ctx.close());

function put(user: SignedInUser, url: string, payload: unknown) {
  return ctx.app.inject({
    method: 'PUT',
    url,
    headers: { cookie: user.cookie },
    payload: payload as object,
  });
}
const preferences = async (user: SignedInUser) =>
  (
    await ctx.app.inject({ url: '/api/models/preferences', headers: { cookie: user.cookie } })
  ).json();

describe('model preferences', () => {
  it('stars and unstars models, idempotently, oldest star first', async () => {
    expect(await preferences(bob)).toEqual({ favorites: [], defaultModel: null });
    await put(bob, '/api/models/favorites', { modelId: 'openai/gpt-4o-mini', favorite: true });
    await put(bob, '/api/models/favorites', { modelId: 'fake/echo', favorite: true });
    const again = await put(bob, '/api/models/favorites', { modelId: 'fake/echo', favorite: true });
    expect(again.statusCode).toBe(200);
    expect(again.json().favorites).toEqual(['openai/gpt-4o-mini', 'fake/echo']);
    const removed = await put(bob, '/api/models/favorites', {
      modelId: 'openai/gpt-4o-mini',
      favorite: false,
    });
    expect(removed.json()).toEqual({ favorites: ['fake/echo'], defaultModel: null });
    // Removing a star that is not there changes nothing.
    const none = await put(bob, '/api/models/favorites', { modelId: 'x/y', favorite: false });
    expect(none.json().favorites).toEqual(['fake/echo']);
  });

  it("keeps each user's favourites and default to that user", async () => {
    await put(bob, '/api/models/favorites', { modelId: 'fake/echo', favorite: true });
    await put(bob, '/api/models/default', { modelId: 'fake/slow' });
    expect(await preferences(admin)).toEqual({ favorites: [], defaultModel: null });
    expect(await preferences(bob)).toEqual({ favorites: ['fake/echo'], defaultModel: 'fake/slow' });
  });

  it('gives new conversations the default model; an explicit model wins', async () => {
    const set = await put(bob, '/api/models/default', { modelId: 'fake/reasoning' });
    expect(set.json().defaultModel).toBe('fake/reasoning');
    const create = (payload: object) =>
      ctx.app.inject({
        method: 'POST',
        url: '/api/conversations',
        headers: { cookie: bob.cookie },
        payload,
      });
    expect((await create({})).json().model).toBe('fake/reasoning');
    expect((await create({ model: 'fake/echo' })).json().model).toBe('fake/echo');
    // Another user's conversations are not affected.
    const admins = await ctx.app.inject({
      method: 'POST',
      url: '/api/conversations',
      headers: { cookie: admin.cookie },
      payload: {},
    });
    expect(admins.json().model).toBeNull();
    // Clearing it: new conversations have no model again.
    expect((await put(bob, '/api/models/default', { modelId: null })).json().defaultModel).toBe(
      null,
    );
    expect((await create({})).json().model).toBeNull();
  });

  it("refuses a default model outside the admin's allow-list, and bad input", async () => {
    await ctx.app.inject({
      method: 'PATCH',
      url: '/api/admin/settings',
      headers: { cookie: admin.cookie },
      payload: { allowedModels: ['fake/echo'] },
    });
    const refused = await put(bob, '/api/models/default', { modelId: 'fake/slow' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('model.not_allowed');
    expect((await put(bob, '/api/models/default', { modelId: 'fake/echo' })).statusCode).toBe(200);

    for (const [url, payload] of [
      ['/api/models/favorites', { modelId: 'fake/echo' }],
      ['/api/models/favorites', { modelId: '', favorite: true }],
      ['/api/models/favorites', { modelId: 'has space', favorite: true }],
      ['/api/models/favorites', { modelId: 'fake/echo', favorite: 'yes' }],
      ['/api/models/favorites', { modelId: 'fake/echo', favorite: true, extra: 1 }],
      ['/api/models/default', {}],
      ['/api/models/default', { modelId: 'x'.repeat(201) }],
    ] as const) {
      const response = await put(bob, url, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
    }
    expect(await preferences(bob)).toEqual({ favorites: [], defaultModel: 'fake/echo' });
  });

  it('caps the favourites at 100', async () => {
    for (let i = 0; i < 100; i++) {
      expect(
        (await put(bob, '/api/models/favorites', { modelId: `m/${i}`, favorite: true })).statusCode,
      ).toBe(200);
    }
    const over = await put(bob, '/api/models/favorites', { modelId: 'm/100', favorite: true });
    expect(over.statusCode).toBe(400);
    expect((await preferences(bob)).favorites).toHaveLength(100);
    // Starring one already starred is still fine.
    expect(
      (await put(bob, '/api/models/favorites', { modelId: 'm/5', favorite: true })).statusCode,
    ).toBe(200);
  });

  it('needs a session', async () => {
    const response = await ctx.app.inject({ url: '/api/models/preferences' });
    expect(response.statusCode).toBe(401);
  });
});
