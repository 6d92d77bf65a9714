import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/connection.js';
import { appliedMigrations } from '../db/migrate.js';
import { writeManifest, type Manifest } from './manifest.js';
import { folderLiteral, prepareEmptyFolder } from './paths.js';
import { createOpsRepo } from './repo.js';

/**
 * Writes a consistent copy of the database into `dir` (absolute; new or empty): DuckDB's
 * EXPORT DATABASE as Parquet, plus manifest.json with the migrations and row counts, and the
 * attached files of its attachment rows under `dir/attachments/` (from `attachmentsDir`).
 *
 * Safe while answers stream: the export, the counts and the copy of the files run in one
 * transaction on the one serialized connection, so they see a single snapshot and no write
 * interleaves (partial saves wait in the queue meanwhile): a file is removed only after its
 * row's deletion has committed, so every row of the snapshot still has its file. The
 * checkpoint before only keeps the WAL short.
 */
export async function backupDatabase(
  db: Database,
  dir: string,
  options: { now?: () => Date; attachmentsDir?: string } = {},
): Promise<Manifest> {
  const now = options.now ?? (() => new Date());
  const folder = folderLiteral(dir);
  await prepareEmptyFolder(dir);
  try {
    await db.checkpoint();
    const snapshot = await db.transaction(async (tx) => {
      const repo = createOpsRepo(tx);
      await repo.exportTo(folder);
      const files =
        options.attachmentsDir === undefined
          ? undefined
          : await copyAttachments(await repo.attachmentFiles(), options.attachmentsDir, dir);
      return {
        tables: await repo.tableCounts(),
        migrations: await appliedMigrations(tx),
        engine: await repo.engineVersion(),
        ...(files === undefined ? {} : { attachmentFiles: files }),
      };
    });
    const manifest: Manifest = {
      format: 'ai-backup/1',
      createdAt: now().toISOString(),
      ...snapshot,
    };
    await writeManifest(dir, manifest);
    return manifest;
  } catch (error) {
    // Leave no half-written backup behind that could later be mistaken for a good one.
    for (const entry of await readdir(dir).catch(() => [])) {
      await rm(path.join(dir, entry), { recursive: true, force: true });
    }
    throw error;
  }
}

/**
 * Copies each attachment row's file into `dir/attachments/<user>/<id>` (the folder is made
 * only when there is a file); returns how many were copied.
 */
async function copyAttachments(
  rows: ReadonlyArray<{ id: string; user_id: string }>,
  from: string,
  dir: string,
): Promise<number> {
  const made = new Set<string>();
  for (const row of rows) {
    const target = path.join(dir, 'attachments', row.user_id);
    if (!made.has(target)) {
      await mkdir(target, { recursive: true });
      made.add(target);
    }
    await copyFile(path.join(from, row.user_id, row.id), path.join(target, row.id));
  }
  return rows.length;
}
