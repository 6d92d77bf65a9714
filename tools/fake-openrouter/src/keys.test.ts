import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { labelOf } from './keys.js';
import { startFakeOpenRouter, type FakeOpenRouter } from './server.js';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

function currentKey(authorization?: string): Promise<Response> {
  return fetch(`${fake.url}/key`, { headers: authorization ? { authorization } : {} });
}

function chat(key: string, content = 'hello'): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake/echo', messages: [{ role: 'user', content }] }),
  });
}

interface KeyData {
  data: Record<string, unknown> & { usage: number; limit: number | null };
}

describe('GET /api/v1/key', () => {
  it("describes any key in OpenRouter's shape, unlimited by default", async () => {
    const res = await currentKey('Bearer sk-or-v1-abcdef0123456789xyz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      data: {
        label: 'sk-or-v1-abc...xyz',
        limit: null,
        limit_reset: null,
        limit_remaining: null,
        include_byok_in_limit: false,
        usage: 0,
        usage_daily: 0,
        usage_weekly: 0,
        usage_monthly: 0,
        byok_usage: 0,
        byok_usage_daily: 0,
        byok_usage_weekly: 0,
        byok_usage_monthly: 0,
        is_free_tier: false,
        is_management_key: false,
        is_provisioning_key: false,
        creator_user_id: expect.stringMatching(/^user_/),
        expires_at: null,
        rate_limit: { requests: -1, interval: '10s', note: expect.any(String) },
      },
    });
  });

  it('answers 401 without a bearer token, as OpenRouter does', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Basic abc']) {
      const res = await currentKey(authorization);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: 401, message: 'No auth credentials found' },
      });
    }
  });

  it('answers 401 "User not found." for an sk-or-v1-invalid… key, on chat completions too', async () => {
    const key = 'sk-or-v1-invalid-0001';
    const res = await currentKey(`Bearer ${key}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 401, message: 'User not found.' } });
    const completion = await chat(key);
    expect(completion.status).toBe(401);
    expect(await completion.json()).toEqual({ error: { code: 401, message: 'User not found.' } });
  });

  it('reports what setKey sets, and a revoked key is refused until set again', async () => {
    const key = 'sk-or-v1-scripted-key-0002';
    fake.setKey(key, {
      label: 'Team key',
      limit: 10,
      usage: 2.5,
      isFreeTier: true,
      limitReset: 'monthly',
      expiresAt: '2027-12-31T23:59:59Z',
    });
    const body = (await (await currentKey(`Bearer ${key}`)).json()) as KeyData;
    expect(body.data).toMatchObject({
      label: 'Team key',
      limit: 10,
      usage: 2.5,
      limit_remaining: 7.5,
      is_free_tier: true,
      limit_reset: 'monthly',
      expires_at: '2027-12-31T23:59:59Z',
    });

    fake.revokeKey(key);
    expect((await currentKey(`Bearer ${key}`)).status).toBe(401);
    expect((await chat(key)).status).toBe(401);
    fake.setKey(key);
    expect((await currentKey(`Bearer ${key}`)).status).toBe(200);
  });

  it('adds the cost of each completion to the usage of the key it was served with', async () => {
    const key = 'sk-or-v1-usage-key-0003';
    const other = 'sk-or-v1-usage-key-0004';
    fake.setKey(key, { limit: 1 });
    const completion = (await (await chat(key, 'count my cost')).json()) as {
      usage: { cost: number };
    };
    expect(completion.usage.cost).toBeGreaterThan(0);
    const body = (await (await currentKey(`Bearer ${key}`)).json()) as KeyData;
    expect(body.data.usage).toBeCloseTo(completion.usage.cost, 12);
    expect(body.data.limit_remaining).toBeCloseTo(1 - completion.usage.cost, 12);
    const untouched = (await (await currentKey(`Bearer ${other}`)).json()) as KeyData;
    expect(untouched.data.usage).toBe(0);
  });

  it('records the request, Authorization header included, for tests to inspect', async () => {
    await currentKey('Bearer sk-or-v1-recorded-0005');
    const recorded = fake.requests.filter((r) => r.path === '/api/v1/key').at(-1);
    expect(recorded).toMatchObject({ method: 'GET', body: null });
    expect(recorded?.headers.authorization).toBe('Bearer sk-or-v1-recorded-0005');
  });
});

describe('labelOf', () => {
  it("keeps OpenRouter's prefix, three characters each side", () => {
    expect(labelOf('sk-or-v1-0123456789')).toBe('sk-or-v1-012...789');
    expect(labelOf('plainkey-abcdef')).toBe('pla...def');
    expect(labelOf('sk-or-v1-short')).toBe('sk-or-v1-...');
  });
});
