/**
 * Conversations hold a tree of messages (every message has a parentId): a regenerated answer
 * is a sibling of the earlier one, an edited question a sibling of the original. The chat
 * shows one branch: at each fork the child the user chose (`Choices`), else the child whose
 * subtree holds the newest message, so without choices it is the path to the newest message.
 */
export interface TreeMessage {
  id: string;
  parentId: string | null;
  createdAt: string;
}

/** The chosen child at each fork, by parent id ('' for the first messages). */
export type Choices = Readonly<Record<string, string>>;

/** Where a shown message sits among its siblings (the answers to one question, say). */
export interface SiblingPosition {
  /** 0-based. */
  index: number;
  count: number;
  previous: string | null;
  next: string | null;
  /** The key of the fork in `Choices`. */
  fork: string;
}

export interface Branch<T> {
  path: T[];
  /** For each message of the path that has siblings. */
  siblings: Map<string, SiblingPosition>;
}

export const ROOT_FORK = '';

function timeOf(m: TreeMessage): number {
  const t = Date.parse(m.createdAt);
  return Number.isNaN(t) ? -Infinity : t;
}

export function branchOf<T extends TreeMessage>(
  messages: readonly T[],
  choices: Choices = {},
): Branch<T> {
  const siblings = new Map<string, SiblingPosition>();
  if (messages.length === 0) return { path: [], siblings };
  const byId = new Map(messages.map((m) => [m.id, m]));
  // Children in list order (the list is oldest first); a message whose parent is missing is a root.
  const children = new Map<string, T[]>();
  for (const m of messages) {
    const fork = m.parentId !== null && byId.has(m.parentId) ? m.parentId : ROOT_FORK;
    const list = children.get(fork);
    if (list) list.push(m);
    else children.set(fork, [m]);
  }
  // The newest time in each subtree, and its position in the list for ties (later wins).
  const order = new Map(messages.map((m, i) => [m.id, i]));
  const newest = new Map<string, [number, number]>();
  const newestOf = (m: T, depth = 0): [number, number] => {
    const known = newest.get(m.id);
    if (known) return known;
    let best: [number, number] = [timeOf(m), order.get(m.id) ?? 0];
    // The depth bound stops a (corrupt) cycle.
    if (depth < messages.length) {
      for (const child of children.get(m.id) ?? []) {
        const [t, i] = newestOf(child, depth + 1);
        if (t > best[0] || (t === best[0] && i > best[1])) best = [t, i];
      }
    }
    newest.set(m.id, best);
    return best;
  };

  const path: T[] = [];
  const seen = new Set<string>();
  for (let fork = ROOT_FORK; ;) {
    const options = children.get(fork);
    if (!options || options.length === 0) break;
    let pick = options.find((m) => m.id === choices[fork]);
    if (!pick) {
      for (const option of options) {
        if (!pick) pick = option;
        else {
          const [t, i] = newestOf(option);
          const [bt, bi] = newestOf(pick);
          if (t > bt || (t === bt && i > bi)) pick = option;
        }
      }
    }
    if (!pick || seen.has(pick.id)) break;
    seen.add(pick.id);
    path.push(pick);
    if (options.length > 1) {
      const sorted = [...options].sort((a, b) => timeOf(a) - timeOf(b));
      const index = sorted.indexOf(pick);
      siblings.set(pick.id, {
        index,
        count: sorted.length,
        previous: sorted[index - 1]?.id ?? null,
        next: sorted[index + 1]?.id ?? null,
        fork,
      });
    }
    fork = pick.id;
  }
  return { path, siblings };
}

export function activePath<T extends TreeMessage>(messages: readonly T[], choices?: Choices): T[] {
  return branchOf(messages, choices).path;
}

/**
 * The choices that show the message `id`: at each fork above it (and at its own) that has
 * more than one child, the child on its path. Null when `id` is not in `messages`. Merged
 * over the current choices, they keep what was chosen below it.
 */
export function choicesShowing<T extends TreeMessage>(
  messages: readonly T[],
  id: string,
): Record<string, string> | null {
  const byId = new Map(messages.map((m) => [m.id, m]));
  // A message whose parent is missing hangs at the root fork, as branchOf places it.
  const forkOf = (m: T) => (m.parentId !== null && byId.has(m.parentId) ? m.parentId : ROOT_FORK);
  const children = new Map<string, number>();
  for (const m of messages) children.set(forkOf(m), (children.get(forkOf(m)) ?? 0) + 1);
  const choices: Record<string, string> = {};
  const seen = new Set<string>();
  for (let m = byId.get(id); m && !seen.has(m.id);) {
    seen.add(m.id); // a (corrupt) cycle ends the walk
    const fork = forkOf(m);
    if ((children.get(fork) ?? 0) > 1) choices[fork] = m.id;
    m = fork === ROOT_FORK ? undefined : byId.get(fork);
  }
  return seen.size === 0 ? null : choices;
}
