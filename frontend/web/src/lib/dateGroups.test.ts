import { describe, expect, it } from 'vitest';
import { groupByDate, groupLabel } from './dateGroups';

// Local times: the groups follow the user's calendar days.
const now = new Date(2025, 5, 15, 10, 0, 0); // 15 June 2025, 10:00
const at = (y: number, m: number, d: number, h = 12) => new Date(y, m, d, h).toISOString();

describe('groupLabel', () => {
  it('names the day of last activity relative to today', () => {
    expect(groupLabel(at(2025, 5, 15, 0), now)).toBe('Today');
    expect(groupLabel(at(2025, 5, 14, 23), now)).toBe('Yesterday');
    expect(groupLabel(at(2025, 5, 13), now)).toBe('Previous 7 days');
    expect(groupLabel(at(2025, 5, 8), now)).toBe('Previous 7 days');
    expect(groupLabel(at(2025, 5, 7), now)).toBe('Previous 30 days');
    expect(groupLabel(at(2025, 4, 16), now)).toBe('Previous 30 days');
    expect(groupLabel(at(2025, 4, 15), now)).toBe('May');
    expect(groupLabel(at(2025, 0, 2), now)).toBe('January');
    expect(groupLabel(at(2024, 11, 31), now)).toBe('December 2024');
  });
});

describe('groupByDate', () => {
  it('puts pinned ones first and keeps the order inside each group', () => {
    const items = [
      { id: 'p1', pinned: true, updatedAt: at(2024, 1, 1) },
      { id: 'p2', pinned: true, updatedAt: at(2023, 1, 1) },
      { id: 't1', pinned: false, updatedAt: at(2025, 5, 15, 9) },
      { id: 't2', pinned: false, updatedAt: at(2025, 5, 15, 1) },
      { id: 'y', pinned: false, updatedAt: at(2025, 5, 14) },
      { id: 'w', pinned: false, updatedAt: at(2025, 5, 10) },
      { id: 'm', pinned: false, updatedAt: at(2025, 4, 20) },
      { id: 'a', pinned: false, updatedAt: at(2025, 3, 2) },
      { id: 'a2', pinned: false, updatedAt: at(2025, 3, 1) },
      { id: 'old', pinned: false, updatedAt: at(2024, 3, 1) },
    ];
    expect(groupByDate(items, now).map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ['Pinned', ['p1', 'p2']],
      ['Today', ['t1', 't2']],
      ['Yesterday', ['y']],
      ['Previous 7 days', ['w']],
      ['Previous 30 days', ['m']],
      ['April', ['a', 'a2']],
      ['April 2024', ['old']],
    ]);
  });
});
