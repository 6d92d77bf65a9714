import { describe, expect, it } from 'vitest';
import { providerBody } from './provider.js';

describe('providerBody', () => {
  it("writes OpenRouter's snake_case provider object, with only what is set", () => {
    expect(
      providerBody({
        sort: 'latency',
        order: ['openai', 'deepinfra'],
        only: ['openai', 'deepinfra', 'together'],
        ignore: ['azure'],
        allowFallbacks: false,
        dataCollection: 'deny',
        zdr: true,
        maxPrice: { prompt: 1.5, completion: 0 },
      }),
    ).toEqual({
      sort: 'latency',
      order: ['openai', 'deepinfra'],
      only: ['openai', 'deepinfra', 'together'],
      ignore: ['azure'],
      allow_fallbacks: false,
      data_collection: 'deny',
      zdr: true,
      max_price: { prompt: 1.5, completion: 0 },
    });
    expect(providerBody({ maxPrice: { completion: 2 } })).toEqual({ max_price: { completion: 2 } });
  });

  it('sends nothing for the default routing', () => {
    expect(providerBody(null)).toBeUndefined();
    expect(providerBody(undefined)).toBeUndefined();
    expect(providerBody({})).toBeUndefined();
    expect(providerBody({ only: [], ignore: [], maxPrice: {} })).toBeUndefined();
  });
});
