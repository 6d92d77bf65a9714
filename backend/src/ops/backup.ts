import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/connection.js';
import { appliedMigrations } from '../db/migrate.js';
import { writeManifest, type Manifest } from './manifest.js';
import { folderLiteral, prepareEmptyFolder } from './paths.js';
import { createOpsRepo } from './repo.js';

/**
 * Writes a consistent copy of the database into `dir` (absolute; new or empty): DuckDB's
 * EXPORT DATABASE as Parquet, plus manifest.json with the migrations and row counts.
 *
 * Safe while answers stream: the export and the counts run in one transaction on the one
 * serialized connection, so they see a single snapshot and no write interleaves (partial
 * saves wait in the queue meanwhile). The checkpoint before only keeps the WAL short.
 */
export async function backupDatabase(
  db: Database,
  dir: string,
  now: () => Date = () => new Date(),
): Promise<Manifest> {
  const folder = folderLiteral(dir);
  await prepareEmptyFolder(dir);
  try {
    await db.checkpoint();
    const snapshot = await db.transaction(async (tx) => {
      const repo = createOpsRepo(tx);
      await repo.exportTo(folder);
      return {
        tables: await repo.tableCounts(),
        migrations: await appliedMigrations(tx),
        engine: await repo.engineVersion(),
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
