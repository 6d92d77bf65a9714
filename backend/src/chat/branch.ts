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
