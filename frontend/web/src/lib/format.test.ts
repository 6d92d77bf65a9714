import { describe, expect, it } from 'vitest';
import type { Model } from '../api/types';
import {
  fileSize,
  formatCost,
  formatTokens,
  modelPriceLabel,
  pricePerMillion,
  titleFrom,
} from './format';

function model(prompt: string, completion: string): Model {
  return {
    id: 'x/y',
    name: 'Y',
    description: '',
    contextLength: null,
    pricing: { prompt, completion },
    inputModalities: [],
    outputModalities: [],
    supportedParameters: [],
  };
}

describe('format', () => {
  it('shows prices per million tokens', () => {
    expect(pricePerMillion('0.000003')).toBe('$3');
    expect(pricePerMillion('0.000015')).toBe('$15');
    expect(pricePerMillion('0.00000015')).toBe('$0.15');
    expect(pricePerMillion('0.0000025')).toBe('$2.5');
    expect(pricePerMillion('0.000000075')).toBe('$0.075');
    expect(pricePerMillion('0')).toBe('free');
    expect(pricePerMillion('-1')).toBe('—');
    expect(pricePerMillion('')).toBe('—');
    expect(modelPriceLabel(model('0.000003', '0.000015'))).toBe('$3 in · $15 out /M');
    expect(modelPriceLabel(model('0', '0'))).toBe('free');
  });

  it('formats costs', () => {
    expect(formatCost(null)).toBeNull();
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(0.00001)).toBe('<$0.0001');
    expect(formatCost(0.001234)).toBe('$0.0012');
    expect(formatCost(2.5)).toBe('$2.50');
  });

  it('formats token counts', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(1234567)).toBe('1,234,567');
  });

  it('makes titles from the first line', () => {
    expect(titleFrom('  Hello there\nmore')).toBe('Hello there');
    expect(titleFrom('   ')).toBe('New chat');
    expect(titleFrom('a'.repeat(100))).toHaveLength(58);
  });

  it('shows file sizes', () => {
    expect(fileSize(68)).toBe('68 B');
    expect(fileSize(1536)).toBe('1.5 KB');
    expect(fileSize(10 * 1024 * 1024)).toBe('10 MB');
    expect(fileSize(150 * 1024)).toBe('150 KB');
  });
});
