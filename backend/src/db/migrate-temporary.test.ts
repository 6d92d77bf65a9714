import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseBefore } from '../test-support/migrations.js';
import { openDatabase, type Database } from './connection.js';

const TEMPORARY = '013_temporary_generations.sql';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-migrate-013-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const byMessage = (db: Database, messageId: string) =>
  db.all<{ id: string }>('SELECT id FROM generations WHERE message_id = $1', [messageId]);

async function insertGeneration(db: Database, id: string, messageId: string | null) {
  await db.run(
    `INSERT INTO generations (id, message_id, user_id, conversation_id, model, created_at, purpose)
     VALUES ($1, $2, 'u1', $3, 'fake/echo', CAST($4 AS TIMESTAMPTZ), $5)`,
    [
      id,
      messageId,
      messageId === null ? null : 'c1',
      new Date().toISOString(),
      messageId === null ? 'temporary' : 'answer',
    ],
  );
}

describe(`migration ${TEMPORARY}`, () => {
  it('lets a generation row have no message and no conversation, keeping the rows and their index', async () => {
    // A database as the migrations before this one left it, with an answer's generation.
    const before = await databaseBefore(dir, TEMPORARY);
    let db = before.db;
    await insertGeneration(db, 'g-answer', 'm1');
    await expect(insertGeneration(db, 'g-refused', null)).rejects.toThrow(/NOT NULL/);
    await db.close();

    await before.addMigration();
    const migrated = await before.reopenAndMigrate();
    db = migrated.db;
    expect(migrated.applied).toEqual([TEMPORARY]);
    const nullable = await db.all<{ column_name: string; is_nullable: string }>(
      `SELECT column_name, is_nullable FROM information_schema.columns
       WHERE table_name = 'generations' AND column_name IN ('message_id', 'conversation_id', 'user_id')
       ORDER BY column_name`,
    );
    expect(nullable).toEqual([
      { column_name: 'conversation_id', is_nullable: 'YES' },
      { column_name: 'message_id', is_nullable: 'YES' },
      { column_name: 'user_id', is_nullable: 'NO' },
    ]);
    const indexes = await db.all<{ index_name: string }>(
      "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'generations'",
    );
    expect(indexes.map((i) => i.index_name)).toEqual(['generations_by_message']);
    expect(await byMessage(db, 'm1')).toEqual([{ id: 'g-answer' }]);

    // A temporary answer's row, and another answer's, left in the WAL: the index finds the
    // answers' rows after the reopen replays it.
    await insertGeneration(db, 'g-temporary', null);
    await insertGeneration(db, 'g-second', 'm2');
    await db.close();
    db = await openDatabase(before.file);
    expect(await byMessage(db, 'm1')).toEqual([{ id: 'g-answer' }]);
    expect(await byMessage(db, 'm2')).toEqual([{ id: 'g-second' }]);
    expect(
      await db.all(
        "SELECT id, message_id, conversation_id FROM generations WHERE purpose = 'temporary'",
      ),
    ).toEqual([{ id: 'g-temporary', message_id: null, conversation_id: null }]);
    await db.close();
  });
});
