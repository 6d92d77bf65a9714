import { describe, expect, it } from 'vitest';
import { samplingBody } from './sampling.js';

describe('samplingBody', () => {
  it('names the parameters as OpenRouter does', () => {
    expect(
      samplingBody({ temperature: 0, topP: 0.9, maxTokens: 512, reasoningEffort: 'high' }),
    ).toEqual({ temperature: 0, top_p: 0.9, max_tokens: 512, reasoning: { effort: 'high' } });
  });

  it('sends nothing for what is unset', () => {
    expect(samplingBody(undefined)).toEqual({});
    expect(samplingBody({})).toEqual({});
    expect(samplingBody({ maxTokens: 1 })).toEqual({ max_tokens: 1 });
    expect(samplingBody({ reasoningEffort: 'none' })).toEqual({ reasoning: { effort: 'none' } });
  });
});
