import type { Database, Queryable } from './connection.js';

export interface GroupCommitOptions {
  /** Most items in one transaction; more wait for the next one. */
  maxBatch?: number;
}

/**
 * Group commit: items submitted while an earlier write waits for (or holds) the database
 * join one batch, written by `write` in one transaction. A DuckDB commit costs ~1–3 ms of
 * CPU here whatever it holds, and the database is one connection behind a FIFO queue
 * (connection.ts), so under load many answers share one commit; alone, an item is written
 * at once, as it would be without batching.
 *
 * The promise of each item settles when its batch commits. When a batch fails, each of its
 * items is retried alone, so one bad item fails only its own caller.
 */
export function createGroupCommit<T>(
  db: Database,
  write: (tx: Queryable, items: T[]) => Promise<void>,
  { maxBatch = 200 }: GroupCommitOptions = {},
): (item: T) => Promise<void> {
  type Waiter = { item: T; resolve: () => void; reject: (error: unknown) => void };
  /** The batch queued and not yet started: new items join it. */
  let open: Waiter[] | null = null;

  const writeAlone = async (waiter: Waiter): Promise<void> => {
    try {
      await db.transaction((tx) => write(tx, [waiter.item]));
      waiter.resolve();
    } catch (error) {
      waiter.reject(error);
    }
  };

  const start = (batch: Waiter[]): void => {
    db.transaction((tx) => {
      // From here the batch is fixed: later items start the next one, queued behind it.
      if (open === batch) open = null;
      return write(
        tx,
        batch.map((w) => w.item),
      );
    }).then(
      () => {
        for (const waiter of batch) waiter.resolve();
      },
      async (error: unknown) => {
        // Failed before its work ran (BEGIN refused, the database closed): the batch never
        // closed itself, and later items must not join a batch that will never run.
        if (open === batch) open = null;
        if (batch.length === 1) {
          batch[0]!.reject(error);
          return;
        }
        for (const waiter of batch) await writeAlone(waiter);
      },
    );
  };

  return (item) =>
    new Promise<void>((resolve, reject) => {
      if (open === null || open.length >= maxBatch) {
        open = [];
        start(open);
      }
      open.push({ item, resolve, reject });
    });
}
