import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { createPresetsRepo } from './repo.js';
import { MAX_PRESETS } from './schemas.js';

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
});
afterEach(() => ctx.close());

function call(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  user: SignedInUser,
  payload?: unknown,
) {
  return ctx.app.inject({
    method,
    url,
    headers: { cookie: user.cookie },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}

const list = async (user = alice) =>
  (await call('GET', '/api/presets', user)).json().presets as Array<Record<string, unknown>>;

const coding = {
  name: 'Coding',
  model: 'fake/reasoning',
  systemPrompt: 'You are a careful senior engineer.',
  params: { temperature: 0.2, topP: 0.95, maxTokens: 2000, reasoningEffort: 'medium' },
};

describe('presets', () => {
  it('are created, listed by name, changed and deleted', async () => {
    const created = await call('POST', '/api/presets', alice, coding);
    expect(created.statusCode, created.body).toBe(201);
    const preset = created.json();
    expect(preset).toMatchObject(coding);
    expect(preset.id).toMatch(/^[0-9a-f-]{36}$/);
    const bare = await call('POST', '/api/presets', alice, { name: 'bare' });
    expect(bare.json()).toMatchObject({
      name: 'bare',
      model: null,
      systemPrompt: null,
      params: {},
    });
    // By name regardless of case.
    expect((await list()).map((p) => p.name)).toEqual(['bare', 'Coding']);

    const renamed = await call('PATCH', `/api/presets/${preset.id}`, alice, {
      name: 'Careful coding',
      params: { temperature: 0 },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({
      name: 'Careful coding',
      model: 'fake/reasoning',
      systemPrompt: coding.systemPrompt,
      params: { temperature: 0 },
    });
    expect(Date.parse(renamed.json().updatedAt)).toBeGreaterThanOrEqual(
      Date.parse(preset.updatedAt),
    );
    const cleared = await call('PATCH', `/api/presets/${preset.id}`, alice, {
      model: null,
      systemPrompt: '',
    });
    expect(cleared.json()).toMatchObject({ model: null, systemPrompt: null });
    expect((await list()).find((p) => p.id === preset.id)).toEqual(cleared.json());

    expect((await call('DELETE', `/api/presets/${preset.id}`, alice)).statusCode).toBe(204);
    expect((await list()).map((p) => p.name)).toEqual(['bare']);
    const again = await call('DELETE', `/api/presets/${preset.id}`, alice);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('preset.not_found');
  });

  it('start a conversation that sends their prompt and parameters', async () => {
    const preset = (await call('POST', '/api/presets', alice, coding)).json();
    await call('GET', '/api/models', alice);
    // What the SPA does with a preset: a conversation with its model, prompt and parameters.
    const conversation = await call('POST', '/api/conversations', alice, {
      model: preset.model,
      systemPrompt: preset.systemPrompt,
      params: preset.params,
    });
    expect(conversation.statusCode).toBe(201);
    const events = await collect(
      postMessage(ctx.baseUrl, alice.cookie, conversation.json().id, { content: 'review this' }),
    );
    expect(events.at(-1)?.event).toBe('done');
    const body = ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1)
      ?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      model: 'fake/reasoning',
      messages: [
        { role: 'system', content: coding.systemPrompt },
        { role: 'user', content: 'review this' },
      ],
      temperature: 0.2,
      top_p: 0.95,
      max_tokens: 2000,
      reasoning: { effort: 'medium' },
    });
  });

  it('have names unique per user regardless of case', async () => {
    expect((await call('POST', '/api/presets', alice, coding)).statusCode).toBe(201);
    const twin = await call('POST', '/api/presets', alice, { name: 'CODING' });
    expect(twin.statusCode).toBe(409);
    expect(twin.json().error.code).toBe('preset.name_taken');
    const other = (await call('POST', '/api/presets', alice, { name: 'Writing' })).json();
    const clash = await call('PATCH', `/api/presets/${other.id}`, alice, { name: 'coding' });
    expect(clash.statusCode).toBe(409);
    // Its own name in another case is no clash.
    const recase = await call('PATCH', `/api/presets/${other.id}`, alice, { name: 'WRITING' });
    expect(recase.statusCode).toBe(200);
    // Another user may use the same name.
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    expect((await call('POST', '/api/presets', bob, { name: 'Coding' })).statusCode).toBe(201);
  });

  it('refuse bad input with a 400 naming the field, changing nothing', async () => {
    const preset = (await call('POST', '/api/presets', alice, coding)).json();
    const bad: Array<[unknown, string]> = [
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ model: 'has space' }, 'model'],
      [{ params: { temperature: 3 } }, 'params.temperature'],
      [{ params: { topP: 2 } }, 'params.topP'],
      [{ params: { maxTokens: 0 } }, 'params.maxTokens'],
      [{ params: { reasoningEffort: 'max' } }, 'params.reasoningEffort'],
      [{ systemPrompt: 'x'.repeat(100_001) }, 'systemPrompt'],
      [{ colour: 'blue' }, 'additional properties'],
    ];
    for (const [payload, field] of bad) {
      const changed = await call('PATCH', `/api/presets/${preset.id}`, alice, payload);
      expect(changed.statusCode, JSON.stringify(payload)).toBe(400);
      expect(changed.json().error.code).toBe('request.invalid');
      expect(changed.json().error.message, JSON.stringify(payload)).toContain(field);
      const created = await call('POST', '/api/presets', alice, {
        name: 'new one',
        ...(payload as object),
      });
      expect(created.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await call('PATCH', `/api/presets/${preset.id}`, alice, {})).statusCode).toBe(400);
    expect((await call('POST', '/api/presets', alice, {})).statusCode).toBe(400);
    expect(await list()).toEqual([preset]);
  });

  it('are limited per user', async () => {
    const repo = createPresetsRepo(ctx.db);
    const at = new Date().toISOString();
    for (let i = 0; i < MAX_PRESETS; i++) {
      await repo.insert(alice.id, {
        id: crypto.randomUUID(),
        name: `preset ${i}`,
        model: null,
        systemPrompt: null,
        params: {},
        createdAt: at,
        updatedAt: at,
      });
    }
    const over = await call('POST', '/api/presets', alice, { name: 'one too many' });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('preset.limit');
  });

  it("are one user's: another's ids answer 404 and their list stays theirs", async () => {
    const preset = (await call('POST', '/api/presets', alice, coding)).json();
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    expect(await list(bob)).toEqual([]);
    for (const [method, payload] of [
      ['PATCH', { name: 'mine now' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(method, `/api/presets/${preset.id}`, bob, payload);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('preset.not_found');
    }
    expect(await list()).toEqual([preset]);
  });

  it('go with their user when an admin deletes them', async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    await call('POST', '/api/presets', bob, { name: 'Bob’s' });
    await call('POST', '/api/presets', alice, { name: 'Alice’s' });
    const deleted = await call('DELETE', `/api/admin/users/${bob.id}`, alice);
    expect(deleted.statusCode, deleted.body).toBe(204);
    const left = await ctx.db.all<{ user_id: string }>('SELECT user_id FROM presets');
    expect(left.map((r) => r.user_id)).toEqual([alice.id]);
  });
});
