import { statSync } from 'node:fs';

/** The DuckDB file and its write-ahead log, as they are on disk right now. */
export interface DatabaseFiles {
  db: { mtimeMs: number; size: number } | null;
  wal: { mtimeMs: number; size: number } | null;
}

function stat(file: string): { mtimeMs: number; size: number } | null {
  try {
    const s = statSync(file);
    return { mtimeMs: s.mtimeMs, size: s.size };
  } catch {
    return null;
  }
}

export function databaseFiles(databasePath: string): DatabaseFiles {
  return { db: stat(databasePath), wal: stat(`${databasePath}.wal`) };
}

/**
 * Whether a checkpoint is under way (or was, when the process died): DuckDB appends a commit
 * to the WAL, and a checkpoint then writes the database file and removes the WAL last. So a
 * WAL still present while the database file was written after the WAL's last append means a
 * checkpoint started and did not finish. File times tick coarsely (a few ms): an equal time
 * counts as "no", so this can miss a checkpoint but not invent one.
 */
export function checkpointUnfinished(files: DatabaseFiles): boolean {
  return files.db !== null && files.wal !== null && files.db.mtimeMs > files.wal.mtimeMs;
}

/**
 * Polls the files every millisecond until a checkpoint is under way (true), or until
 * `timeoutMs` passes or `cancelled()` says so (false).
 */
export async function waitForCheckpoint(
  databasePath: string,
  timeoutMs: number,
  cancelled: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !cancelled()) {
    if (checkpointUnfinished(databaseFiles(databasePath))) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

/** Waits until the database file's time moves past `since` (the process writes it). */
export async function waitForDatabaseWrite(
  databasePath: string,
  since: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const files = databaseFiles(databasePath);
    if ((files.db?.mtimeMs ?? 0) > since || (files.wal?.mtimeMs ?? 0) > since) return true;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return false;
}
