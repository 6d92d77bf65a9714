import type { ComparisonState } from '../conversations/cache.js';
import type { ContextRow } from './repo.js';

export type PathMessage = Pick<ContextRow, 'id' | 'role' | 'content' | 'attachments'>;

/** The newest message (by created_at, then id), where a new question goes by default. */
export function newestId(rows: readonly ContextRow[]): string | null {
  let newest: ContextRow | undefined;
  for (const row of rows) {
    // ISO-8601 UTC timestamps of one format compare as strings.
    if (
      newest === undefined ||
      row.created_at > newest.created_at ||
      (row.created_at === newest.created_at && row.id > newest.id)
    ) {
      newest = row;
    }
  }
  return newest?.id ?? null;
}

/**
 * Where a new question goes when the client names no parent: the end of the current branch.
 * From the first messages down, at each fork the chosen answer of a comparison (when the fork is
 * a compared question whose choice still exists), else the child whose subtree holds the newest
 * message. Without comparisons that is the newest message (a reply is newer than what it
 * answers); choosing an answer makes its branch the one the conversation continues.
 */
export function defaultParentId(
  rows: readonly ContextRow[],
  comparisons: readonly ComparisonState[] = [],
): string | null {
  if (comparisons.length === 0) return newestId(rows);
  const children = new Map<string | null, ContextRow[]>();
  const ids = new Set(rows.map((row) => row.id));
  for (const row of rows) {
    const fork = row.parent_id !== null && ids.has(row.parent_id) ? row.parent_id : null;
    const list = children.get(fork);
    if (list) list.push(row);
    else children.set(fork, [row]);
  }
  const chosen = new Map(
    comparisons.flatMap((c) => (c.chosenId !== null ? [[c.questionId, c.chosenId] as const] : [])),
  );
  // The newest message of each subtree (the row itself or below), computed once per row.
  const newest = new Map<string, ContextRow>();
  const newestBelow = (row: ContextRow): ContextRow => {
    const known = newest.get(row.id);
    if (known) return known;
    // Iterative post-order: a branch can be thousands of messages deep.
    const stack: Array<{ row: ContextRow; done: boolean }> = [{ row, done: false }];
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (newest.has(top.row.id)) continue;
      const below = children.get(top.row.id) ?? [];
      if (!top.done) {
        stack.push({ row: top.row, done: true });
        for (const child of below)
          if (!newest.has(child.id)) stack.push({ row: child, done: false });
        continue;
      }
      let best = top.row;
      for (const child of below) {
        const candidate = newest.get(child.id);
        if (candidate && isNewer(candidate, best)) best = candidate;
      }
      newest.set(top.row.id, best);
    }
    return newest.get(row.id)!;
  };
  let at: ContextRow | undefined;
  const seen = new Set<string>();
  for (let fork: string | null = null; ;) {
    const options: ContextRow[] = children.get(fork) ?? [];
    if (options.length === 0) break;
    const choice = fork === null ? undefined : chosen.get(fork);
    const pick: ContextRow =
      options.find((row) => row.id === choice) ??
      options.reduce((best, row) => (isNewer(newestBelow(row), newestBelow(best)) ? row : best));
    if (seen.has(pick.id)) break; // a (corrupt) cycle
    seen.add(pick.id);
    at = pick;
    fork = pick.id;
  }
  return at?.id ?? null;
}

/** Later created_at, then the larger id (ISO-8601 UTC timestamps of one format compare as strings). */
function isNewer(a: ContextRow, b: ContextRow): boolean {
  return a.created_at > b.created_at || (a.created_at === b.created_at && a.id > b.id);
}

/** The branch from the root down to `leafId`, root first: the context sent upstream. */
export function pathTo(rows: readonly ContextRow[], leafId: string | null): PathMessage[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const path: PathMessage[] = [];
  // The size bound also stops a (corrupt) cycle.
  for (
    let row = leafId === null ? undefined : byId.get(leafId);
    row && path.length < rows.length;
    row = row.parent_id === null ? undefined : byId.get(row.parent_id)
  ) {
    path.push({ id: row.id, role: row.role, content: row.content, attachments: row.attachments });
  }
  return path.reverse();
}

/** The message and every message below it (replies, their replies…), the message first. */
export function subtreeOf(rows: readonly ContextRow[], rootId: string): string[] {
  const children = new Map<string, string[]>();
  for (const row of rows) {
    if (row.parent_id === null) continue;
    const list = children.get(row.parent_id);
    if (list) list.push(row.id);
    else children.set(row.parent_id, [row.id]);
  }
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const stack = [rootId]; stack.length > 0;) {
    const id = stack.pop()!;
    if (seen.has(id)) continue; // a (corrupt) cycle
    seen.add(id);
    ids.push(id);
    stack.push(...(children.get(id) ?? []));
  }
  return ids;
}
