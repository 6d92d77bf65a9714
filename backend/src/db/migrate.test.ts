import { mkdtemp, rm, writeFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './connection.js';
import { migrate, migrationFiles } from './migrate.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-migrate-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('migrate', () => {
  it('applies each numbered file once and records it, creating the folder', async () => {
    const file = path.join(dir, 'nested', 'app.db');
    const db = await openDatabase(file);
    const first = await migrate(db);
    expect(first.applied[0]).toBe('001_initial.sql');
    expect((await migrate(db)).applied).toEqual([]);
    const recorded = await db.all<{ name: string }>(
      'SELECT name FROM schema_migrations ORDER BY name',
    );
    expect(recorded.map((r) => r.name)).toEqual(first.applied);
    await db.close();
    // The checkpoint leaves no schema change in the WAL.
    expect(await readdir(path.dirname(file))).toEqual(['app.db']);
  });

  it('rolls back every statement of a failing migration', async () => {
    const migrations = path.join(dir, 'migrations');
    await mkdir(migrations);
    await writeFile(path.join(migrations, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    await writeFile(
      path.join(migrations, '002_bad.sql'),
      'CREATE TABLE b (x INTEGER); SELECT nonsense FROM nowhere;',
    );
    const db = await openDatabase(path.join(dir, 'app.db'));
    await expect(migrate(db, migrations)).rejects.toThrow();
    const tables = await db.all<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_name IN ('a', 'b', 'schema_migrations')",
    );
    expect(tables).toEqual([]);
    await db.close();
  });
});

describe('the migration files', () => {
  it('never drop an index and create one of the same name again', async () => {
    // Pending migrations apply in one transaction, and DuckDB 1.5.6 aborts the whole process
    // ("pure virtual method called") when a stored table's index is dropped and created again
    // under the same name in one transaction (`npm run duckdb-repro -- index-recreate`).
    // A changed index gets a new name instead.
    const dropped = new Set<string>();
    const recreated: string[] = [];
    const dir = new URL('./migrations/', import.meta.url);
    for (const file of await migrationFiles()) {
      const sql = (await readFile(new URL(file, dir), 'utf8')).replace(/--.*$/gm, '');
      for (const [, name] of sql.matchAll(/DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?(\w+)/gi)) {
        dropped.add(name!.toLowerCase());
      }
      for (const [, name] of sql.matchAll(
        /CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi,
      )) {
        if (dropped.has(name!.toLowerCase())) recreated.push(`${file}: ${name}`);
      }
    }
    expect(recreated).toEqual([]);
  });
});
