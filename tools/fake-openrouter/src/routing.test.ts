import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { endpointsFor, parsePreferences, route } from './routing.js';
import { startFakeOpenRouter, type FakeOpenRouter } from './server.js';
import { jsonChunks } from './testing.js';

const pricing = {
  prompt: '0.000001',
  completion: '0.000002',
  request: '0',
  image: '0',
  web_search: '0',
  internal_reasoning: '0',
};

function served(preferences: unknown): string {
  const parsed = parsePreferences(preferences);
  if ('error' in parsed) throw new Error(parsed.error.error.message);
  const routed = route('fake/echo', pricing, parsed.preferences);
  if ('status' in routed) throw new Error(routed.body.error.message);
  return routed.endpoint.name;
}

describe('route', () => {
  it("serves from the model's own provider without preferences", () => {
    expect(served(undefined)).toBe('FakeProvider');
    expect(endpointsFor('openai/gpt-4o-mini')[0]).toMatchObject({ name: 'OpenAI', slug: 'openai' });
  });

  it('sorts by price, throughput or latency', () => {
    expect(served({ sort: 'price' })).toBe('Fake Budget');
    expect(served({ sort: 'throughput' })).toBe('Fake Turbo');
    expect(served({ sort: 'latency' })).toBe('Fake Vault');
    expect(served({ sort: { by: 'throughput', partition: 'model' } })).toBe('Fake Turbo');
  });

  it('honours order, only and ignore, by slug or name', () => {
    expect(served({ order: ['fake-turbo', 'fake-vault'] })).toBe('Fake Turbo');
    expect(served({ only: ['fake-vault'] })).toBe('Fake Vault');
    expect(served({ only: ['Fake Turbo', 'fake-budget'], sort: 'price' })).toBe('Fake Budget');
    expect(served({ ignore: ['fakeprovider', 'fake-budget'], sort: 'price' })).toBe('Fake Vault');
  });

  it('keeps only endpoints that store nothing for data_collection deny and zdr', () => {
    expect(served({ data_collection: 'deny' })).toBe('Fake Vault');
    expect(served({ zdr: true, sort: 'price' })).toBe('Fake Vault');
  });

  it('drops endpoints dearer than max_price (USD per million tokens)', () => {
    expect(served({ max_price: { prompt: 0.6, completion: 1 } })).toBe('Fake Budget');
    expect(served({ max_price: { prompt: '1' } })).toBe('FakeProvider');
    const routed = route('fake/echo', pricing, { max_price: { prompt: 0.1 } });
    expect(routed).toMatchObject({ status: 404 });
  });

  it("answers OpenRouter's 404s when nothing is left", () => {
    expect(route('fake/echo', pricing, { only: ['nobody'] })).toEqual({
      status: 404,
      body: {
        error: {
          code: 404,
          message: 'No allowed providers are available for the selected model.',
          metadata: {
            available_providers: ['fakeprovider', 'fake-budget', 'fake-turbo', 'fake-vault'],
            requested_providers: ['nobody'],
          },
        },
      },
    });
    expect(route('fake/echo', pricing, { only: ['fake-turbo'], zdr: true })).toMatchObject({
      status: 404,
      body: {
        error: { message: expect.stringMatching(/^No endpoints found matching your data policy/) },
      },
    });
    expect(
      route('fake/echo', pricing, { order: ['nobody'], allow_fallbacks: false }),
    ).toMatchObject({ status: 404 });
  });

  it('refuses malformed preferences', () => {
    for (const bad of [
      [],
      'price',
      { sort: 'cheapest' },
      { only: 'openai' },
      { zdr: 'yes' },
      { data_collection: 'never' },
      { max_price: { prompt: -1 } },
    ]) {
      expect(parsePreferences(bad)).toHaveProperty('error');
    }
  });
});

describe('POST /chat/completions with provider', () => {
  let fake: FakeOpenRouter;
  beforeAll(async () => {
    fake = await startFakeOpenRouter();
  });
  afterAll(() => fake.close());

  const chat = (body: Record<string, unknown>) =>
    fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-or-v1-fake', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'fake/echo',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        ...body,
      }),
    });

  it('names the routed provider in every chunk and prices usage at its rates', async () => {
    const plain = jsonChunks(await (await chat({})).text());
    const routed = jsonChunks(await (await chat({ provider: { sort: 'throughput' } })).text());
    expect(new Set(routed.map((c) => c.provider))).toEqual(new Set(['Fake Turbo']));
    const cost = (chunks: Record<string, unknown>[]) =>
      (chunks.at(-1)?.usage as { cost: number }).cost;
    expect(cost(routed)).toBeCloseTo(cost(plain) * 2, 12);
    expect(fake.streams.at(-1)?.provider).toBe('Fake Turbo');
  });

  it('falls back to the next model when no endpoint of the first matches', async () => {
    const res = await chat({
      model: 'fake/echo',
      models: ['openai/gpt-4o-mini'],
      provider: { only: ['openai'] },
    });
    const chunks = jsonChunks(await res.text());
    expect(chunks[0]).toMatchObject({ model: 'openai/gpt-4o-mini', provider: 'OpenAI' });
  });

  it('answers 404 when no endpoint matches, and 400 for malformed preferences', async () => {
    const refused = await chat({ provider: { data_collection: 'deny', only: ['fake-budget'] } });
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual({
      error: {
        code: 404,
        message:
          'No endpoints found matching your data policy. Check your settings: https://openrouter.ai/settings/privacy',
      },
    });
    const malformed = await chat({ provider: { sort: 'cheapest' } });
    expect(malformed.status).toBe(400);
  });
});
