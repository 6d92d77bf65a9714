/**
 * Conversations hold a tree of messages (every message has a parentId). The chat shows one
 * branch: the path from the root to the newest message.
 */
export interface TreeMessage {
  id: string;
  parentId: string | null;
  createdAt: string;
}

export function activePath<T extends TreeMessage>(messages: readonly T[]): T[] {
  if (messages.length === 0) return [];
  const byId = new Map(messages.map((m) => [m.id, m]));
  let leaf: T | undefined;
  let leafTime = -Infinity;
  for (const m of messages) {
    const t = Date.parse(m.createdAt);
    const time = Number.isNaN(t) ? -Infinity : t;
    // Ties go to the later message in the list (the list is oldest first).
    if (leaf === undefined || time >= leafTime) {
      leaf = m;
      leafTime = time;
    }
  }
  const path: T[] = [];
  const seen = new Set<string>();
  let current = leaf;
  while (current !== undefined && !seen.has(current.id)) {
    path.push(current);
    seen.add(current.id);
    current = current.parentId === null ? undefined : byId.get(current.parentId);
  }
  return path.reverse();
}
