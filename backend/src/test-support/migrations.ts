import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database } from '../db/connection.js';
import { migrate, migrationFiles } from '../db/migrate.js';

const source = fileURLToPath(new URL('../db/migrations/', import.meta.url));

/** A file in `dir` as the app left it before `migration`: migrated by every earlier one. */
export interface DatabaseBefore {
  file: string;
  db: Database;
  /** Adds `migration` to the folder: the next `migrate()` applies it, and only it. */
  addMigration(): Promise<void>;
  /** Reopens the file and migrates it with what the folder holds. */
  reopenAndMigrate(): Promise<{ db: Database; applied: string[] }>;
}

/** For testing one migration on a file made before it (the file is open, migrated up to it). */
export async function databaseBefore(dir: string, migration: string): Promise<DatabaseBefore> {
  const migrations = path.join(dir, 'migrations');
  await mkdir(migrations);
  const files = await migrationFiles(source);
  if (!files.includes(migration)) throw new Error(`no migration ${migration}`);
  for (const file of files.filter((f) => f < migration)) {
    await copyFile(path.join(source, file), path.join(migrations, file));
  }
  const file = path.join(dir, 'app.db');
  const db = await openDatabase(file);
  await migrate(db, migrations);
  return {
    file,
    db,
    addMigration: () => copyFile(path.join(source, migration), path.join(migrations, migration)),
    async reopenAndMigrate() {
      const reopened = await openDatabase(file);
      const { applied } = await migrate(reopened, migrations);
      return { db: reopened, applied };
    },
  };
}
