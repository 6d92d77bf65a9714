import type { Database } from './connection.js';

export type DbCallKind = 'query' | 'transaction';

/** Told the duration of every database call, in seconds. */
export type DbObserver = (kind: DbCallKind, seconds: number) => void;

/**
 * The same database, timing each call as its caller sees it: the wait for the one
 * connection included, since under load that queue is where latency shows. Queries run
 * inside a transaction count towards the transaction, not on their own.
 */
export function instrumentDatabase(db: Database, observe: DbObserver): Database {
  const timed = async <T>(kind: DbCallKind, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      observe(kind, (performance.now() - start) / 1000);
    }
  };
  return {
    all: (sql, params) => timed('query', () => db.all(sql, params)),
    one: (sql, params) => timed('query', () => db.one(sql, params)),
    run: (sql, params) => timed('query', () => db.run(sql, params)),
    transaction: (work) => timed('transaction', () => db.transaction(work)),
    checkpoint: () => db.checkpoint(),
    close: () => db.close(),
  };
}
