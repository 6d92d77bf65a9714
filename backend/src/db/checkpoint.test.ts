import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
