import { mkdir, rename, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  BOOLEAN,
  DOUBLE,
  DuckDBInstance,
  LIST,
  VARCHAR,
  listValue,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBValue,
} from '@duckdb/node-api';
import { rowsOf, type Row } from './rows.js';

export type SqlScalar = string | number | bigint | boolean | null;
/**
 * A list bound as one parameter, cast in the SQL (`CAST($1 AS TEXT[])`): a column of a batch
 * (db/values.ts, keyedRows). Its items are bound as text (TEXT, TIMESTAMPTZ, … cast in SQL),
 * numbers (DOUBLE, cast to INTEGER or BIGINT in SQL) or booleans.
 */
export interface SqlList {
  readonly list: readonly (string | number | boolean | null)[];
  readonly items: 'text' | 'number' | 'boolean';
}
export type SqlParam = SqlScalar | SqlList;
export type { Row };

/** What repositories see: parameterized SQL (`$1`, `$2`, …), plain JS values back. */
export interface Queryable {
  all<T extends object = Row>(sql: string, params?: SqlParam[]): Promise<T[]>;
  one<T extends object = Row>(sql: string, params?: SqlParam[]): Promise<T | undefined>;
  run(sql: string, params?: SqlParam[]): Promise<void>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction; other queries wait until it commits or rolls back. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A snapshot of the connection's queue, read without entering it: what a health check
 * needs to tell a busy queue that makes progress from a stuck or closed one.
 */
export interface QueueState {
  /** Calls waiting for the connection, not yet started. */
  waiting: number;
  /** How long the call holding the connection has been running, in ms; null when none runs. */
  runningForMs: number | null;
  /** How long ago the last call finished (succeeded or failed), in ms; null before the first. */
  lastCompletedMsAgo: number | null;
  /** True once close() has run: every later call fails. */
  closed: boolean;
}

/** The database as openDatabase returns it: its queue can also be observed. */
export interface ObservableDatabase extends Database {
  /** Reads the queue's state synchronously; never waits and never enters the queue. */
  queueState(): QueueState;
}

export class DatabaseLockedError extends Error {
  constructor(file: string, cause: unknown) {
    super(
      `The database file ${file} is already opened by another process (another backend is running on it). ` +
        'Stop that process or point DATABASE_PATH at another file.',
      { cause },
    );
    this.name = 'DatabaseLockedError';
  }
}

/**
 * Opens the DuckDB file with two connections. A DuckDB connection runs one statement at a
 * time, so each has a FIFO queue. Every write — `run`, `transaction`, and any `all`/`one`
 * that is not a plain SELECT (`UPDATE … RETURNING`) — goes through the writer's queue; a
 * transaction holds it from BEGIN to COMMIT, so two writers can never conflict inside this
 * process. Plain SELECTs outside a transaction go to the reader, so a page load or a send's
 * lookups never wait behind the chat's commits (DuckDB's MVCC: a read sees what was
 * committed when it started, which includes every write whose caller was answered).
 */
export async function openDatabase(
  file: string,
  options: {
    checkpointThreshold?: string;
    memoryLimit?: string;
    /**
     * Given: a file DuckDB died creating is moved aside and created anew, and this is told
     * where it went (see setAsideUnfinishedFile). The backend's start asks for it; a tool
     * that only looks at a file (ops restore's lock check) does not.
     */
    onUnfinishedFile?: (movedTo: string) => void;
  } = {},
): Promise<ObservableDatabase> {
  keepLeadingByteOrderMarks();
  if (file !== ':memory:') {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    if (options.onUnfinishedFile) {
      const movedTo = await setAsideUnfinishedFile(file);
      if (movedTo !== null) options.onUnfinishedFile(movedTo);
    }
  }
  let instance: DuckDBInstance;
  try {
    // DuckDB turns an IN list of five or more items into a hash join (its "in_clause"
    // optimizer), and every hash join leaves native memory in its buffer pool until a late
    // purge (db/values.ts); without it `id IN ($1, …)` reads the rows through the key's index.
    // A long list to match against many rows is written as a subquery instead
    // (`IN (SELECT unnest(…))`), which stays a join (usage/repo.ts).
    const settings: Record<string, string> = { disabled_optimizers: 'in_clause' };
    if (options.checkpointThreshold !== undefined) {
      settings['checkpoint_threshold'] = options.checkpointThreshold;
    }
    if (options.memoryLimit !== undefined) settings['memory_limit'] = options.memoryLimit;
    instance = await DuckDBInstance.create(file, settings);
  } catch (error) {
    if (error instanceof Error && /Could not set lock on file/i.test(error.message)) {
      throw new DatabaseLockedError(file, error);
    }
    throw error;
  }
  const connection = await instance.connect();
  const readerConnection = await instance.connect();
  if (file !== ':memory:') await checkpointReplayedLog(connection);
  let closed = false;
  const writer = createQueue(() => closed);
  const reader = createQueue(() => closed);

  const direct = queryable(connection);
  const readDirect = queryable(readerConnection);
  return {
    all: (sql, params) =>
      isPlainSelect(sql)
        ? reader.exclusive(() => readDirect.all(sql, params))
        : writer.exclusive(() => direct.all(sql, params)),
    one: (sql, params) =>
      isPlainSelect(sql)
        ? reader.exclusive(() => readDirect.one(sql, params))
        : writer.exclusive(() => direct.one(sql, params)),
    run: (sql, params) => writer.exclusive(() => direct.run(sql, params)),
    transaction: (work) =>
      writer.exclusive(async () => {
        await connection.run('BEGIN TRANSACTION');
        try {
          const result = await work(direct);
          await connection.run('COMMIT');
          return result;
        } catch (error) {
          await connection.run('ROLLBACK');
          throw error;
        }
      }),
    checkpoint: () => writer.exclusive(() => direct.run('CHECKPOINT')),
    close: async () => {
      // Both queues drain first; whatever comes later fails with "closed".
      const readerDone = reader.exclusive(async () => undefined);
      await writer.exclusive(async () => {
        await readerDone;
        closed = true;
        readerConnection.closeSync();
        connection.closeSync();
        instance.closeSync();
      });
    },
    // The writer's queue: the one where work can pile up behind long commits.
    queueState: () => writer.state(),
  };
}

/** A DuckDB file starts with three 4 KiB headers, all written before anything is committed. */
const DUCKDB_HEADERS_BYTES = 3 * 4096;

/**
 * A process killed while DuckDB creates a new file (a first start that dies) leaves it 0 or
 * 4096 bytes long, and DuckDB then refuses to open it ("not a valid DuckDB database file",
 * "Could not read enough bytes"): the app could never start again. Such a file holds nothing
 * (a commit needs the headers, and with no WAL nothing is pending), so it is renamed aside and
 * the open creates a new one. Returns where it went, or null when there was nothing to do.
 */
async function setAsideUnfinishedFile(file: string): Promise<string | null> {
  const size = await stat(file).then(
    (s) => s.size,
    () => null,
  );
  if (size === null || size >= DUCKDB_HEADERS_BYTES) return null;
  const walExists = await stat(`${file}.wal`).then(
    () => true,
    () => false,
  );
  if (walExists) return null;
  const movedTo = `${file}.unfinished-${Date.now()}`;
  await rename(file, movedTo);
  return movedTo;
}

/**
 * The first statement on every open file. After a crash DuckDB (1.4–1.5.6) replays the WAL
 * into "unbound" secondary indexes; a checkpoint that runs before a statement has touched
 * such a table (the automatic one of a commit to another table, or the one at close) writes
 * those indexes without the replayed rows: lookups through them then miss rows and a
 * DELETE of such a row fails FATAL. An explicit CHECKPOINT first writes them correctly
 * (duckdb/duckdb#23788, #23848; reproduced and tested in checkpoint.test.ts). On a file
 * without a WAL it does nothing.
 */
async function checkpointReplayedLog(connection: DuckDBConnection): Promise<void> {
  await connection.run('CHECKPOINT');
}

/**
 * A statement that only reads the database: SELECT, WITH … SELECT (DuckDB has no
 * data-modifying CTEs), or COPY (SELECT …) TO a file (the usage page's downloads).
 */
function isPlainSelect(sql: string): boolean {
  return /^\s*(?:SELECT|WITH|COPY\s*\(\s*(?:SELECT|WITH))\b/i.test(sql);
}

/** A FIFO queue in front of one connection, and the bookkeeping queueState() reads. */
function createQueue(isClosed: () => boolean) {
  let queue: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  let runningSince: number | null = null;
  let lastCompletedAt: number | null = null;
  const settled = () => {
    runningSince = null;
    lastCompletedAt = performance.now();
  };

  return {
    exclusive<T>(work: () => Promise<T>): Promise<T> {
      waiting += 1;
      const next = queue.then(() => {
        waiting -= 1;
        if (isClosed()) throw new Error('The database is closed.');
        runningSince = performance.now();
        let running: Promise<T>;
        try {
          running = work();
        } catch (error) {
          settled();
          throw error;
        }
        return running.finally(settled);
      });
      // Keep the chain alive whatever this job's outcome; the caller gets the real result.
      queue = next.catch(() => undefined);
      return next;
    },
    state(): QueueState {
      const now = performance.now();
      return {
        waiting,
        runningForMs: runningSince === null ? null : now - runningSince,
        lastCompletedMsAgo: lastCompletedAt === null ? null : now - lastCompletedAt,
        closed: isClosed(),
      };
    },
  };
}

/**
 * @duckdb/node-api turns every VARCHAR into a JS string with one shared `new TextDecoder()`,
 * which drops a leading U+FEFF (a byte-order mark): text starting with one would be stored
 * whole but read back without it. Its decoder is swapped, once, for one that keeps it.
 * text.test.ts fails if a new version of the library moves or renames it.
 */
function keepLeadingByteOrderMarks(): void {
  const accessors = createRequire(import.meta.url)(
    '@duckdb/node-api/lib/vectors/dataAccessors.js',
  ) as { textDecoder?: TextDecoder };
  if (accessors.textDecoder && !accessors.textDecoder.ignoreBOM) {
    accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
  }
}

/** Prepared statements kept per connection, least recently used dropped first. */
const PREPARED_READS_PER_CONNECTION = 256;
/**
 * Batched writes (db/values.ts) differ in their number of rows, so their SQL varies with the
 * batch size: a cache of their own keeps them from pushing the reads' plans out.
 */
const PREPARED_WRITES_PER_CONNECTION = 64;
/**
 * A prepared statement costs ~10 KB of native memory per row of a batched write (2 MB for 200
 * rows: the plan holds every parameter). Kept, the large batches of heavy load would hold
 * ~100 MB (64 sizes); they are prepared for one run instead, which costs little next to
 * writing that many rows. The small batches of ordinary load stay cached.
 */
const MAX_CACHED_WRITE_PARAMS = 256;

/** A small LRU of prepared statements on one connection. */
function preparedCache(connection: DuckDBConnection, capacity: number) {
  const prepared = new Map<string, DuckDBPreparedStatement>();
  return async (sql: string): Promise<DuckDBPreparedStatement> => {
    const cached = prepared.get(sql);
    if (cached) {
      prepared.delete(sql);
      prepared.set(sql, cached);
      return cached;
    }
    const created = await connection.prepare(sql);
    prepared.set(sql, created);
    if (prepared.size > capacity) {
      const [oldestSql, oldest] = prepared.entries().next().value!;
      prepared.delete(oldestSql);
      oldest.destroySync();
    }
    return created;
  };
}

function queryable(connection: DuckDBConnection): Queryable {
  // Parsing and planning cost ~0.3–0.6 ms a statement here, as much as running a primary-key
  // lookup or a small insert: a parameterized statement seen before is bound and run again
  // (a turn's commit: 4.8 → 3.2 ms). Only parameterized ones: a migration file holds several
  // statements, which cannot be prepared, and has no parameters.
  const reads = preparedCache(connection, PREPARED_READS_PER_CONNECTION);
  const writes = preparedCache(connection, PREPARED_WRITES_PER_CONNECTION);
  const execute = async (sql: string, params: SqlParam[]): Promise<DuckDBMaterializedResult> => {
    if (params.length === 0) return connection.run(sql);
    const read = isPlainSelect(sql);
    if (!read && params.length > MAX_CACHED_WRITE_PARAMS) {
      const once = await connection.prepare(sql);
      try {
        bind(once, params);
        return await once.run();
      } finally {
        once.destroySync();
      }
    }
    const stmt = await (read ? reads : writes)(sql);
    bind(stmt, params);
    return stmt.run();
  };

  const all = async <T extends object>(sql: string, params: SqlParam[] = []): Promise<T[]> =>
    rowsOf(await execute(sql, params)) as T[];
  return {
    all,
    one: async <T extends object>(sql: string, params?: SqlParam[]): Promise<T | undefined> =>
      (await all<T>(sql, params))[0],
    run: async (sql, params = []) => {
      await execute(sql, params);
    },
  };
}

const LIST_TYPES = { text: LIST(VARCHAR), number: LIST(DOUBLE), boolean: LIST(BOOLEAN) };

/**
 * Binds scalars as the library infers them; a list with its items' type given, since the
 * library would infer it from the first item (a NULL first would make every item NULL).
 */
function bind(stmt: DuckDBPreparedStatement, params: readonly SqlParam[]): void {
  for (let index = 0; index < params.length; index += 1) {
    const param = params[index]!;
    if (param !== null && typeof param === 'object') {
      stmt.bindValue(index + 1, listValue(param.list), LIST_TYPES[param.items]);
    } else {
      stmt.bindValue(index + 1, param as DuckDBValue);
    }
  }
}
