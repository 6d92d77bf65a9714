import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseBefore } from '../test-support/migrations.js';
import { openDatabase, type Database } from './connection.js';

const DROP = '015_drop_unused_generation_index.sql';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-migrate-015-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const insertGeneration = (db: Database, id: string, messageId: string) =>
  db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at, purpose)
     VALUES ($1, $2, 'u1', 'c1', 'fake/echo', CAST($3 AS TIMESTAMPTZ), 'answer')`,
    [id, messageId, new Date().toISOString()],
  );

const indexes = async (db: Database) =>
  (
    await db.all<{ index_name: string }>(
      "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'generations'",
    )
  ).map((i) => i.index_name);

describe(`migration ${DROP}`, () => {
  it('drops the message index of generations, keeping rows in the file and in the WAL', async () => {
    // A database as the migrations before this one left it: rows checkpointed into the file
    // and one more only in the WAL, as a crash would leave them.
    const before = await databaseBefore(dir, DROP);
    let db = before.db;
    for (let i = 0; i < 50; i++) await insertGeneration(db, `g${i}`, `m${i}`);
    await db.checkpoint();
    await insertGeneration(db, 'g-wal', 'm-wal');
    expect(await indexes(db)).toEqual(['generations_by_message']);
    await db.close();

    await before.addMigration();
    const migrated = await before.reopenAndMigrate();
    db = migrated.db;
    expect(migrated.applied).toEqual([DROP]);
    expect(await indexes(db)).toEqual([]);
    await insertGeneration(db, 'g-after', 'm-after');
    await db.close();

    // Reopened: every row is there, and the primary key still refuses a duplicate id.
    db = await openDatabase(before.file);
    const count = await db.one<{ n: number }>('SELECT count(*) AS n FROM generations');
    expect(count?.n).toBe(52);
    expect(await db.all('SELECT id FROM generations WHERE message_id = $1', ['m-wal'])).toEqual([
      { id: 'g-wal' },
    ]);
    await expect(insertGeneration(db, 'g7', 'm-dup')).rejects.toThrow(/primary key|duplicate/i);
    await db.close();
  });
});
