import { describe, expect, it } from 'vitest';
import type { Model } from '../api/types';
import {
  activeFilterCount,
  contextLabel,
  matchesFilters,
  NO_FILTERS,
  pickerList,
} from './modelFilter';

function model(id: string, over: Partial<Model> = {}): Model {
  return {
    id,
    name: id,
    description: '',
    contextLength: 32768,
    pricing: { prompt: '0.000001', completion: '0.000002' },
    inputModalities: ['text'],
    outputModalities: ['text'],
    supportedParameters: ['temperature'],
    ...over,
  };
}

const free = model('meta/llama:free', { pricing: { prompt: '0', completion: '0' } });
const vision = model('openai/mini', {
  name: 'OpenAI mini',
  inputModalities: ['text', 'image', 'file'],
  supportedParameters: ['tools'],
  contextLength: 128000,
  pricing: { prompt: '0.00000015', completion: '0.0000006' },
});
const thinker = model('deep/r1', { supportedParameters: ['reasoning'], contextLength: 163840 });
const all = [free, vision, thinker];
const ids = (models: Model[]) => models.map((m) => m.id);

describe('model filters', () => {
  it('searches name and id by every word', () => {
    expect(ids(pickerList(all, { ...NO_FILTERS, query: 'openai MINI' }, []))).toEqual([
      'openai/mini',
    ]);
    expect(ids(pickerList(all, { ...NO_FILTERS, query: 'r1 deep' }, []))).toEqual(['deep/r1']);
  });

  it('filters by price, modality, parameters and context', () => {
    const only = (f: Partial<typeof NO_FILTERS>) =>
      ids(pickerList(all, { ...NO_FILTERS, ...f }, []));
    expect(only({ freeOnly: true })).toEqual(['meta/llama:free']);
    expect(only({ image: true })).toEqual(['openai/mini']);
    expect(only({ file: true })).toEqual(['openai/mini']);
    expect(only({ tools: true })).toEqual(['openai/mini']);
    expect(only({ reasoning: true })).toEqual(['deep/r1']);
    expect(only({ minContext: 100_000 })).toEqual(['openai/mini', 'deep/r1']);
    expect(only({ maxPromptPrice: 0.15 })).toEqual(['meta/llama:free', 'openai/mini']);
    expect(only({ maxCompletionPrice: 0.5 })).toEqual(['meta/llama:free']);
    expect(
      matchesFilters(model('x', { pricing: { prompt: '', completion: '0' } }), {
        ...NO_FILTERS,
        maxPromptPrice: 5,
      }),
    ).toBe(false);
  });

  it('lists favourites first, each group in catalog order', () => {
    expect(ids(pickerList(all, NO_FILTERS, ['deep/r1', 'nope/gone']))).toEqual([
      'deep/r1',
      'meta/llama:free',
      'openai/mini',
    ]);
  });

  it('counts active filters and labels context lengths', () => {
    expect(activeFilterCount(NO_FILTERS)).toBe(0);
    expect(activeFilterCount({ ...NO_FILTERS, query: 'x', tools: true, minContext: 8000 })).toBe(2);
    expect(contextLabel(128000)).toBe('128K');
    expect(contextLabel(1048576)).toBe('1M');
    expect(contextLabel(null)).toBe('—');
  });
});
