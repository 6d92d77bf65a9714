import { readdir, readFile } from 'node:fs/promises';
import { assetPath } from '../assets.js';
import type { Database, Queryable } from './connection.js';

const migrationsDir = assetPath('db/migrations/');

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies the numbered `.sql` files not yet recorded, all in one transaction, then
 * checkpoints: schema changes left in the WAL are where DuckDB's crash recovery has
 * had bugs, so they never stay there.
 */
export async function migrate(db: Database, dir = migrationsDir): Promise<MigrationResult> {
  const files = await migrationFiles(dir);
  const applied = await db.transaction(async (tx) => {
    await tx.run(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)',
    );
    const done = new Set(
      (await tx.all<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name),
    );
    const pending = files.filter((f) => !done.has(f));
    for (const file of pending) {
      await tx.run(await readFile(`${dir}/${file}`, 'utf8'));
      await tx.run(
        'INSERT INTO schema_migrations (name, applied_at) VALUES ($1, CAST($2 AS TIMESTAMPTZ))',
        [file, new Date().toISOString()],
      );
    }
    return pending;
  });
  await db.checkpoint();
  return { applied };
}

/** The numbered `.sql` files, in the order they apply. */
export async function migrationFiles(dir = migrationsDir): Promise<string[]> {
  return (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
}

/**
 * The migration files not recorded in `schema_migrations` (all of them when the table is
 * missing). Throws when the database cannot be read, e.g. once it is closed.
 */
export async function pendingMigrations(db: Queryable, dir = migrationsDir): Promise<string[]> {
  const files = await migrationFiles(dir);
  const table = await db.one(
    "SELECT table_name FROM information_schema.tables WHERE table_name = 'schema_migrations'",
  );
  if (!table) return files;
  const done = new Set(
    (await db.all<{ name: string }>('SELECT name FROM schema_migrations')).map((r) => r.name),
  );
  return files.filter((f) => !done.has(f));
}

/** The migrations recorded in the database, oldest first. */
export async function appliedMigrations(db: Queryable): Promise<string[]> {
  const rows = await db.all<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return rows.map((r) => r.name);
}
