// Standalone reproducers of the two DuckDB defects the chaos run found (docs/durability.md,
// "DuckDB findings"), with nothing of the app in them, ready to go into an upstream report.
//
//   npm run duckdb-repro -- index                 # secondary index loses WAL-replayed rows
//   npm run duckdb-repro -- kill [--rounds 3000]  # SIGKILL in a checkpoint corrupts the file
//   npm run duckdb-repro -- index-recreate        # DROP + CREATE INDEX in one transaction aborts
//
// Each child process is this script again (`child-*` modes), so both work from a clean clone.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

const self = fileURLToPath(import.meta.url);
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '3000' } },
});
const [mode, file] = positionals;

async function count(c: DuckDBConnection, sql: string, params: string[] = []): Promise<number> {
  const rows = (await c.runAndReadAll(sql, params)).getRowObjects();
  return Number(rows[0]?.['n']);
}

function runChild(childMode: string, databasePath: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', self, childMode, databasePath], {
    encoding: 'utf8',
  });
}

switch (mode) {
  // Rows committed into an indexed table, then SIGKILL: they are only in the WAL.
  case 'child-index-write': {
    const db = await DuckDBInstance.create(file!, { checkpoint_threshold: '1TB' });
    const c = await db.connect();
    await c.run('CREATE TABLE m (id TEXT PRIMARY KEY, conv TEXT NOT NULL)');
    await c.run('CREATE INDEX m_conv ON m (conv)');
    await c.run('CREATE TABLE other (i INTEGER)');
    await c.run('CHECKPOINT');
    for (let i = 0; i < 30; i++)
      await c.run('INSERT INTO m VALUES ($1, $2)', [`m${i}`, `c${i % 3}`]);
    process.kill(process.pid, 'SIGKILL');
    break;
  }
  // The next process replays the WAL, writes only to another table (its commits checkpoint
  // at this threshold), and closes.
  case 'child-index-other': {
    const db = await DuckDBInstance.create(file!, { checkpoint_threshold: '1KB' });
    const c = await db.connect();
    for (let i = 0; i < 5; i++) await c.run('INSERT INTO other VALUES ($1)', [String(i)]);
    c.closeSync();
    db.closeSync();
    break;
  }
  case 'index': {
    const databasePath = path.join(mkdtempSync(path.join(tmpdir(), 'duckdb-repro-')), 'i.db');
    runChild('child-index-write', databasePath);
    console.log(`after SIGKILL: WAL present: ${existsSync(`${databasePath}.wal`)}`);
    const other = runChild('child-index-other', databasePath);
    if (other.status !== 0) throw new Error(String(other.stderr));
    const db = await DuckDBInstance.create(databasePath);
    const c = await db.connect();
    const viaIndex = await count(c, "SELECT count(*) AS n FROM m WHERE conv = 'c1'");
    const viaScan = await count(c, "SELECT count(*) AS n FROM m WHERE conv || '' = 'c1'");
    console.log(`conv = 'c1': ${viaIndex} rows through the index, ${viaScan} by a scan`);
    try {
      await c.run("DELETE FROM m WHERE id = 'm1'");
      console.log('DELETE of a replayed row: ok');
    } catch (error) {
      console.log(`DELETE of a replayed row: ${(error as Error).message.split('\n')[0]}`);
    }
    process.exit(viaIndex === viaScan ? 0 : 1);
    break;
  }
  // Writes as fast as it can with a concurrent reader, checkpointing at nearly every commit;
  // prints "up" once open, then one line per committed transaction.
  case 'child-kill-load': {
    const db = await DuckDBInstance.create(file!, { checkpoint_threshold: '1KB' });
    const c = await db.connect();
    const reader = await db.connect();
    await c.run(
      'CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, conv TEXT NOT NULL, body TEXT, n INTEGER, status TEXT)',
    );
    await c.run('CREATE INDEX IF NOT EXISTS t_conv ON t (conv)');
    await c.run('CREATE TABLE IF NOT EXISTS s (id TEXT PRIMARY KEY, seen TIMESTAMPTZ)');
    await c.run('CHECKPOINT');
    process.stdout.write('up\n');
    void (async () => {
      for (;;) {
        await reader.run('SELECT conv, count(*), max(length(body)) FROM t GROUP BY conv');
        await reader.run("SELECT * FROM t WHERE conv = 'c3' ORDER BY n LIMIT 50");
      }
    })();
    for (let i = 0; ; i++) {
      const id = crypto.randomUUID();
      const conv = `c${i % 20}`;
      await c.run('BEGIN');
      await c.run("INSERT INTO t VALUES ($1, $2, $3, $4, 'streaming')", [
        id,
        conv,
        'x'.repeat(200 + (i % 500)),
        String(i),
      ]);
      await c.run('INSERT INTO s VALUES ($1, now())', [id]);
      await c.run('COMMIT');
      await c.run("UPDATE t SET status = 'complete', body = body || ' done' WHERE id = $1", [id]);
      if (i % 7 === 0)
        await c.run('DELETE FROM s WHERE id IN (SELECT id FROM s ORDER BY seen LIMIT 3)');
      if (i % 50 === 0)
        await c.run('DELETE FROM t WHERE conv = $1 AND n < $2', [conv, String(i - 200)]);
      process.stdout.write(`${id}\n`);
    }
  }
  case 'kill': {
    const rounds = Number(values.rounds);
    const dir = mkdtempSync(path.join(tmpdir(), 'duckdb-repro-'));
    const databasePath = path.join(dir, 'k.db');
    for (let round = 1; round <= rounds; round++) {
      const child = spawn(process.execPath, [
        '--import',
        'tsx',
        self,
        'child-kill-load',
        databasePath,
      ]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const up = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => {
          if (out.includes('up\n') || child.exitCode !== null) {
            clearInterval(poll);
            resolve(out.includes('up\n'));
          }
        }, 1);
      });
      if (!up) {
        console.log(
          `round ${round}: the file no longer opens:\n${err.trim().split('\n').slice(-3).join('\n')}`,
        );
        console.log(`kept: ${dir} (k.db and k.db.wal as the kill before left them in last-*)`);
        process.exit(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 400));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      for (const suffix of ['', '.wal']) {
        const kept = path.join(dir, `last-k.db${suffix}`);
        if (existsSync(databasePath + suffix)) copyFileSync(databasePath + suffix, kept);
        else rmSync(kept, { force: true });
      }
      if (round % 50 === 0) console.log(`round ${round}: opens fine so far`);
    }
    console.log(`${rounds} rounds, the file still opens`);
    break;
  }
  // A table with an index, written and checkpointed by one process.
  case 'child-recreate-setup': {
    const db = await DuckDBInstance.create(file!);
    const c = await db.connect();
    await c.run('CREATE TABLE g (id TEXT PRIMARY KEY, mid TEXT NOT NULL)');
    await c.run('CREATE INDEX g_mid ON g (mid)');
    await c.run("INSERT INTO g SELECT 'id' || i, 'm' || (i % 100) FROM range(5000) t(i)");
    await c.run('CHECKPOINT');
    break;
  }
  // The next process drops the index and creates it again under the same name, in one
  // transaction (as a migration runner applying two migrations at once would).
  case 'child-recreate': {
    const db = await DuckDBInstance.create(file!);
    const c = await db.connect();
    await c.run('BEGIN');
    await c.run('DROP INDEX g_mid');
    await c.run('CREATE INDEX g_mid ON g (mid)');
    await c.run('COMMIT');
    await c.run('CHECKPOINT');
    break;
  }
  case 'index-recreate': {
    const databasePath = path.join(mkdtempSync(path.join(tmpdir(), 'duckdb-repro-')), 'r.db');
    runChild('child-recreate-setup', databasePath);
    const child = runChild('child-recreate', databasePath);
    const outcome = child.signal ?? `exit code ${child.status}`;
    console.log(`DROP INDEX + CREATE INDEX of the same name in one transaction: ${outcome}`);
    console.log(String(child.stderr).trim().split('\n').slice(-2).join('\n'));
    process.exit(child.status === 0 ? 0 : 1);
    break;
  }
  default:
    console.error('usage: duckdb-repro index | kill [--rounds N] | index-recreate');
    process.exit(2);
}
