import { describe, expect, it } from 'vitest';
import { activePath } from './thread';

const m = (id: string, parentId: string | null, createdAt: string) => ({ id, parentId, createdAt });

describe('activePath', () => {
  it('follows the branch of the newest message', () => {
    const messages = [
      m('u1', null, '2025-01-01T00:00:00Z'),
      m('a1', 'u1', '2025-01-01T00:00:01Z'),
      m('u2', 'a1', '2025-01-01T00:00:02Z'),
      m('a2', 'u2', '2025-01-01T00:00:03Z'),
      // an edited second question: a newer branch from a1
      m('u2b', 'a1', '2025-01-01T00:00:04Z'),
      m('a2b', 'u2b', '2025-01-01T00:00:05Z'),
    ];
    expect(activePath(messages).map((x) => x.id)).toEqual(['u1', 'a1', 'u2b', 'a2b']);
  });

  it('handles empty lists and missing parents', () => {
    expect(activePath([])).toEqual([]);
    expect(activePath([m('a', 'gone', '2025-01-01T00:00:00Z')]).map((x) => x.id)).toEqual(['a']);
  });
});
