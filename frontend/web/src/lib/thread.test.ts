import { describe, expect, it } from 'vitest';
import { activePath, branchOf, choicesShowing } from './thread';

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

describe('branchOf', () => {
  // u1 → a1 → u2 → a2, a regenerated a2b (newer), and an edited u2e with its answer a2e.
  const tree = [
    m('u1', null, '2025-01-01T00:00:00Z'),
    m('a1', 'u1', '2025-01-01T00:00:01Z'),
    m('u2', 'a1', '2025-01-01T00:00:02Z'),
    m('a2', 'u2', '2025-01-01T00:00:03Z'),
    m('a2b', 'u2', '2025-01-01T00:00:04Z'),
    m('u2e', 'a1', '2025-01-01T00:00:05Z'),
    m('a2e', 'u2e', '2025-01-01T00:00:06Z'),
  ];

  it('tells each shown message with siblings its place among them', () => {
    const { path, siblings } = branchOf(tree);
    expect(path.map((x) => x.id)).toEqual(['u1', 'a1', 'u2e', 'a2e']);
    expect(siblings.get('u2e')).toEqual({
      index: 1,
      count: 2,
      previous: 'u2',
      next: null,
      fork: 'a1',
    });
    expect(siblings.has('a2e')).toBe(false);
  });

  it('follows the chosen children, defaulting below them to the newest message', () => {
    const { path, siblings } = branchOf(tree, { a1: 'u2' });
    expect(path.map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2b']);
    expect(siblings.get('a2b')).toMatchObject({ index: 1, count: 2, previous: 'a2' });
    const older = branchOf(tree, { a1: 'u2', u2: 'a2' });
    expect(older.path.map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2']);
    expect(older.siblings.get('a2')).toMatchObject({ index: 0, next: 'a2b' });
  });

  it('ignores a choice that is no longer a child (deleted)', () => {
    expect(activePath(tree, { a1: 'gone' }).map((x) => x.id)).toEqual(['u1', 'a1', 'u2e', 'a2e']);
  });

  it('continues a chosen older branch that has newer replies below it', () => {
    const grown = [...tree, m('u3', 'a2', '2025-01-01T00:00:07Z')];
    expect(activePath(grown).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3']);
  });

  it('chooses, at each fork above a message on another branch, the way down to it', () => {
    const choices = choicesShowing(tree, 'a2');
    expect(choices).toEqual({ a1: 'u2', u2: 'a2' }); // the forks with a choice to make
    expect(activePath(tree, choices!).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2']);
    // Over earlier choices: those below the message still hold, those above give way.
    const grown = [
      ...tree,
      m('u3', 'a2', '2025-01-01T00:00:07Z'),
      m('u3b', 'a2', '2025-01-01T00:00:08Z'),
    ];
    const merged = { a1: 'u2e', a2: 'u3', ...choicesShowing(grown, 'u2') };
    // u2's newest answer is a2 (u3b below it); at a2 the earlier choice u3 holds, not u3b.
    expect(activePath(grown, merged).map((x) => x.id)).toEqual(['u1', 'a1', 'u2', 'a2', 'u3']);
    expect(choicesShowing(tree, 'missing')).toBeNull();
    // A message whose parent is gone hangs at the root fork, as branchOf places it.
    const roots = [m('x', 'gone', '2025-01-01T00:00:00Z'), m('y', null, '2025-01-01T00:00:01Z')];
    expect(choicesShowing(roots, 'x')).toEqual({ '': 'x' });
    expect(activePath(roots, { '': 'x' }).map((r) => r.id)).toEqual(['x']);
  });
});
