import { describe, expect, it } from 'vitest';
import { parseLimit, usd } from './money';

describe('usd', () => {
  it('shows cents, or two significant digits below a cent', () => {
    expect(usd(12.5)).toBe('$12.50');
    expect(usd(0)).toBe('$0.00');
    expect(usd(0.0042)).toBe('$0.0042');
  });
});

describe('parseLimit', () => {
  it('reads dollars, empty as no limit, and refuses anything else', () => {
    expect(parseLimit('')).toBeNull();
    expect(parseLimit('  ')).toBeNull();
    expect(parseLimit('12')).toBe(12);
    expect(parseLimit('$12.50')).toBe(12.5);
    expect(parseLimit('0')).toBe(0);
    expect(parseLimit('-1')).toBeUndefined();
    expect(parseLimit('ten')).toBeUndefined();
    expect(parseLimit('1e3')).toBeUndefined();
  });
});
