import { describe, expect, it } from 'vitest';
import { defaultParentId } from './branch.js';
import type { ContextRow } from './repo.js';

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000Z`;

function row(
  id: string,
  parent: string | null,
  second: number,
  comparison: string | null = null,
): ContextRow {
  return {
    id,
    parent_id: parent,
    role: parent === null || id.startsWith('q') ? 'user' : 'assistant',
    content: id,
    created_at: at(second),
    ...(comparison ? { comparison_id: comparison } : {}),
  };
}

// q1 → a1 → q2 (compared: x, y, z) ; y → q3 → a3 ; z is the newest answer of the comparison.
const rows = [
  row('q1', null, 1),
  row('a1', 'q1', 2),
  row('q2', 'a1', 3),
  row('x', 'q2', 4, 'c1'),
  row('y', 'q2', 5, 'c1'),
  row('z', 'q2', 6, 'c1'),
  row('q3', 'y', 7),
  row('a3', 'q3', 8),
];

describe('defaultParentId', () => {
  it('is the newest message without comparisons, or with none chosen', () => {
    expect(defaultParentId([])).toBeNull();
    expect(defaultParentId(rows)).toBe('a3');
    expect(defaultParentId(rows.slice(0, 6))).toBe('z');
    expect(
      defaultParentId(rows.slice(0, 6), [{ id: 'c1', questionId: 'q2', chosenId: null }]),
    ).toBe('z');
  });

  it('follows the chosen answer of a comparison down to the newest message of its branch', () => {
    const chose = (chosenId: string) => [{ id: 'c1', questionId: 'q2', chosenId }];
    expect(defaultParentId(rows, chose('x'))).toBe('x');
    expect(defaultParentId(rows, chose('y'))).toBe('a3');
    expect(defaultParentId(rows, chose('z'))).toBe('z');
    // A chosen answer that is gone: the newest message again.
    expect(defaultParentId(rows, chose('gone'))).toBe('a3');
  });

  it('survives a (corrupt) cycle', () => {
    const cycle = [row('q1', 'a1', 1), row('a1', 'q1', 2), row('q9', null, 3)];
    expect(defaultParentId(cycle, [{ id: 'c', questionId: 'q1', chosenId: 'a1' }])).toBe('q9');
  });
});
