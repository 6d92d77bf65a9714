import { describe, expect, it } from 'vitest';
import type { Model } from '../api/types';
import { paramsForm, paramsOf, paramsSummary, unsupportedParams } from './params';

const model = (supportedParameters: string[]): Model => ({
  id: 'm',
  name: 'M',
  description: '',
  contextLength: null,
  pricing: { prompt: '0', completion: '0' },
  inputModalities: ['text'],
  outputModalities: ['text'],
  supportedParameters,
});

describe('unsupportedParams', () => {
  it('names the overrides missing from the catalog entry', () => {
    expect([...unsupportedParams(model(['temperature', 'top_p', 'max_tokens']))]).toEqual([
      'reasoningEffort',
    ]);
    expect([...unsupportedParams(model(['reasoning', 'include_reasoning']))]).toEqual([
      'temperature',
      'topP',
      'maxTokens',
    ]);
  });

  it('names none for a model the catalog says nothing of', () => {
    expect(unsupportedParams(undefined).size).toBe(0);
    expect(unsupportedParams(model([])).size).toBe(0);
  });
});

describe('paramsOf', () => {
  it('reads the form, blank fields left out', () => {
    expect(
      paramsOf({ temperature: '0.7', topP: '', maxTokens: ' 256 ', reasoningEffort: 'high' }),
    ).toEqual({ params: { temperature: 0.7, maxTokens: 256, reasoningEffort: 'high' } });
    expect(paramsOf({ temperature: '', topP: '', maxTokens: '', reasoningEffort: '' })).toEqual({
      params: {},
    });
  });

  it('refuses what the API would', () => {
    const blank = { temperature: '', topP: '', maxTokens: '', reasoningEffort: '' };
    expect(paramsOf({ ...blank, temperature: '2.5' })).toEqual({
      error: 'Temperature must be a number from 0 to 2.',
    });
    expect(paramsOf({ ...blank, temperature: 'warm' })).toHaveProperty('error');
    expect(paramsOf({ ...blank, topP: '-0.1' })).toHaveProperty('error');
    expect(paramsOf({ ...blank, maxTokens: '1.5' })).toHaveProperty('error');
    expect(paramsOf({ ...blank, maxTokens: '0' })).toHaveProperty('error');
    expect(paramsOf({ ...blank, reasoningEffort: 'extreme' })).toHaveProperty('error');
  });

  it('round-trips through the form', () => {
    const params = { temperature: 0, topP: 1, maxTokens: 1, reasoningEffort: 'none' as const };
    expect(paramsOf(paramsForm(params))).toEqual({ params });
    expect(paramsSummary(params)).toBe('temperature 0 · top P 1 · max 1 tokens · effort none');
    expect(paramsSummary({})).toBe('');
  });
});
