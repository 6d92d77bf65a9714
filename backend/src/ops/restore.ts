import { access, cp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseLockedError, openDatabase } from '../db/connection.js';
import { appliedMigrations } from '../db/migrate.js';
import { OpsError } from '../errors.js';
import { readManifest, type Manifest } from './manifest.js';
import { folderLiteral } from './paths.js';
import { createOpsRepo } from './repo.js';

export interface RestoreResult {
  target: string;
  /** Where the replaced database (and its .wal) went, or null when there was none. */
  previous: string | null;
  /** Where the replaced attachments folder went, or null when none was replaced. */
  previousAttachments: string | null;
  manifest: Manifest;
}

/**
 * Replaces the database file `target` with the backup in `dir`. The backup is imported into
 * a new file next to the target and checked against its manifest first; only then is the old
 * file (and its WAL) moved aside as `<target>.before-restore-<time>` and the new one moved in.
 * Refused while another process (the backend) holds the target. The backup's attached files
 * (`dir/attachments/`), when it has some, replace the `attachments/` folder next to the target
 * the same way (the old one kept as `attachments.before-restore-<time>`).
 */
export async function restoreDatabase(options: {
  target: string;
  dir: string;
  now?: Date;
}): Promise<RestoreResult> {
  const target = path.resolve(options.target);
  const folder = folderLiteral(options.dir);
  const manifest = await readManifest(options.dir);
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const hadTarget = await exists(target);
  if (hadTarget) await ensureNotLocked(target);

  // The files are counted against the manifest before anything is replaced.
  const files = path.join(options.dir, 'attachments');
  const fileCount = (await exists(files)) ? await countFiles(files) : 0;
  if (manifest.attachmentFiles !== undefined && fileCount !== manifest.attachmentFiles) {
    throw new OpsError(
      `${files} holds ${fileCount} files; the manifest says ${manifest.attachmentFiles}.`,
    );
  }

  const fresh = `${target}.restoring-${stamp}`;
  if (await exists(fresh)) throw new OpsError(`${fresh} already exists: remove it first.`);
  try {
    const db = await openDatabase(fresh);
    try {
      const repo = createOpsRepo(db);
      await repo.importFrom(folder);
      compare(manifest, await repo.tableCounts(), await appliedMigrations(db));
      await db.checkpoint();
    } finally {
      await db.close();
    }
  } catch (error) {
    await removeDatabaseFiles(fresh);
    if (error instanceof OpsError) throw error;
    throw new OpsError(`Importing ${options.dir} failed: ${String(error)}`, { cause: error });
  }

  // A WAL left without its file goes aside too: DuckDB would replay it onto the new file.
  let previous: string | null = null;
  const hadWal = await exists(`${target}.wal`);
  if (hadTarget || hadWal) {
    previous = `${target}.before-restore-${stamp}`;
    if (hadTarget) await rename(target, previous);
    if (hadWal) await rename(`${target}.wal`, `${previous}.wal`);
  }
  await rename(fresh, target);
  if (await exists(`${fresh}.wal`)) await rename(`${fresh}.wal`, `${target}.wal`);

  let previousAttachments: string | null = null;
  if (fileCount > 0) {
    const live = path.join(path.dirname(target), 'attachments');
    if (await exists(live)) {
      previousAttachments = `${live}.before-restore-${stamp}`;
      await rename(live, previousAttachments);
    }
    await cp(files, live, { recursive: true });
  }
  return { target, previous, previousAttachments, manifest };
}

/** Files in the user folders of an attachments folder. */
async function countFiles(dir: string): Promise<number> {
  let count = 0;
  for (const user of await readdir(dir, { withFileTypes: true })) {
    if (user.isDirectory()) count += (await readdir(path.join(dir, user.name))).length;
  }
  return count;
}

/** A DuckDB file can be opened for writing by one process only: trying is the check. */
async function ensureNotLocked(file: string): Promise<void> {
  try {
    const db = await openDatabase(file);
    await db.close();
  } catch (error) {
    if (error instanceof DatabaseLockedError) {
      throw new OpsError(
        `${file} is locked by another process, most likely the running backend: stop it ` +
          'first (restore replaces the file, which needs it to itself), then run restore again.',
        { cause: error },
      );
    }
    // A damaged file is no reason to refuse: it is about to be replaced, and kept aside.
  }
}

function compare(manifest: Manifest, counts: Record<string, number>, migrations: string[]): void {
  const problems: string[] = [];
  for (const [table, expected] of Object.entries(manifest.tables)) {
    if (counts[table] !== expected)
      problems.push(`${table}: ${counts[table] ?? 'missing'} rows, the manifest says ${expected}`);
  }
  for (const table of Object.keys(counts)) {
    if (!(table in manifest.tables)) problems.push(`${table}: not in the manifest`);
  }
  if (migrations.join() !== manifest.migrations.join())
    problems.push(
      `migrations: ${migrations.join(', ')}; the manifest says ${manifest.migrations.join(', ')}`,
    );
  if (problems.length > 0)
    throw new OpsError(
      `The restored data does not match the manifest:\n  ${problems.join('\n  ')}`,
    );
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function removeDatabaseFiles(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(`${file}.wal`, { force: true });
}
