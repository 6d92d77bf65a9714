import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './connection.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-checkpoint-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function walAfterTwoCommits(options: { checkpointThreshold?: string }): Promise<boolean> {
  const file = path.join(dir, `${options.checkpointThreshold ?? 'default'}.db`);
  const db = await openDatabase(file, options);
  try {
    await db.run('CREATE TABLE t (s TEXT)');
    await db.checkpoint();
    // DuckDB decides at commit, from the WAL already written: the second commit checkpoints.
    for (let i = 0; i < 2; i++) {
      await db.transaction((tx) => tx.run('INSERT INTO t VALUES ($1)', ['x'.repeat(4000)]));
    }
    return (await readdir(dir)).includes(`${path.basename(file)}.wal`);
  } finally {
    await db.close();
  }
}

describe('the checkpoint threshold', () => {
  it("is DuckDB's setting, applied at open: past it a commit checkpoints and the WAL is gone", async () => {
    const db = await openDatabase(':memory:', { checkpointThreshold: '1KB' });
    expect(await db.one("SELECT current_setting('checkpoint_threshold') AS t")).toEqual({
      t: '1000 bytes',
    });
    await db.close();
    // Under the default 16 MiB both commits stay in the WAL; past a 1 KB threshold the second
    // checkpoints them into the file.
    expect(await walAfterTwoCommits({})).toBe(true);
    expect(await walAfterTwoCommits({ checkpointThreshold: '1KB' })).toBe(false);
  });
});

describe('the memory limit', () => {
  it("is DuckDB's memory_limit, applied at open", async () => {
    const db = await openDatabase(':memory:', { memoryLimit: '300MB' });
    const row = await db.one<{ limit: string }>("SELECT current_setting('memory_limit') AS limit");
    // DuckDB shows it in its own unit: 300 MB is 286.1 MiB.
    expect(row?.limit).toMatch(/^286\.\d MiB$/);
    await db.close();
  });
});

/**
 * A process that commits rows of a table with a secondary index and dies by SIGKILL before
 * any checkpoint: the rows are only in the WAL.
 */
function crashWithRowsInTheLog(file: string): void {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const instance = await DuckDBInstance.create(${JSON.stringify(file)}, { checkpoint_threshold: '1TB' });
    const c = await instance.connect();
    await c.run('CREATE TABLE messages (id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL)');
    await c.run('CREATE INDEX messages_conversation ON messages (conversation_id)');
    await c.run('CREATE TABLE other (id INTEGER)');
    await c.run('CHECKPOINT');
    for (let i = 0; i < 30; i++) {
      await c.run('INSERT INTO messages VALUES ($1, $2)', ['m' + i, 'c' + (i % 3)]);
    }
    process.kill(process.pid, 'SIGKILL');
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: path.dirname(new URL('../../package.json', import.meta.url).pathname),
    encoding: 'utf8',
  });
  expect(child.signal, child.stderr).toBe('SIGKILL');
  expect(existsSync(`${file}.wal`)).toBe(true);
}

describe('opening a file after a crash', () => {
  it('keeps the replayed rows in secondary indexes through the checkpoints that follow', async () => {
    const file = path.join(dir, 'crashed.db');
    crashWithRowsInTheLog(file);
    // The next process writes only to another table, past a tiny threshold: its commits
    // checkpoint before anything touches `messages`, and so does its close.
    const db = await openDatabase(file, { checkpointThreshold: '1KB' });
    for (let i = 0; i < 5; i++) await db.run('INSERT INTO other VALUES ($1)', [i]);
    await db.close();

    const reopened = await openDatabase(file);
    try {
      for (const conversation of ['c0', 'c1', 'c2']) {
        // Through the index, and by a scan the index cannot serve: the same ten rows.
        expect(
          await reopened.one(
            'SELECT count(*)::INTEGER AS n FROM messages WHERE conversation_id = $1',
            [conversation],
          ),
        ).toEqual({ n: 10 });
        expect(
          await reopened.one(
            "SELECT count(*)::INTEGER AS n FROM messages WHERE conversation_id || '' = $1",
            [conversation],
          ),
        ).toEqual({ n: 10 });
      }
      await reopened.run("DELETE FROM messages WHERE id = 'm1'");
    } finally {
      await reopened.close();
    }
  });
});

describe('opening a file that DuckDB died creating', () => {
  // What a first start killed while DuckDB creates the file leaves: 0 or 4096 bytes.
  for (const size of [0, 4096]) {
    it(`moves a ${size}-byte file aside and creates the database anew`, async () => {
      const file = path.join(dir, 'app.db');
      const made = await openDatabase(file);
      await made.close();
      await truncate(file, size);
      const moved: string[] = [];
      const db = await openDatabase(file, { onUnfinishedFile: (to) => moved.push(to) });
      try {
        await db.run('CREATE TABLE t (i INTEGER)');
        await db.run('INSERT INTO t VALUES (1)');
        expect(await db.one('SELECT count(*)::INTEGER AS n FROM t')).toEqual({ n: 1 });
      } finally {
        await db.close();
      }
      expect(moved).toHaveLength(1);
      expect(path.dirname(moved[0]!)).toBe(dir);
      expect((await readFile(moved[0]!)).length).toBe(size);
    });
  }

  it('leaves a damaged file of full size, or a short one with a WAL, for a person to look at', async () => {
    const file = path.join(dir, 'app.db');
    await writeFile(file, Buffer.alloc(3 * 4096, 7));
    const moved: string[] = [];
    await expect(
      openDatabase(file, { onUnfinishedFile: (to) => moved.push(to) }),
    ).rejects.toThrow();
    await writeFile(file, Buffer.alloc(4096, 7));
    await writeFile(`${file}.wal`, 'x');
    await expect(
      openDatabase(file, { onUnfinishedFile: (to) => moved.push(to) }),
    ).rejects.toThrow();
    expect(moved).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['app.db', 'app.db.wal']);
  });
});
