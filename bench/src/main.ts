/**
 * The benchmark suite. `--short` (the default; CI's smoke run: fails on errors, never on
 * timings) or `--full` (the figures in docs/benchmarks.md).
 *
 *   tsx src/main.ts [--short | --full] [--only relay,db,ui,soak,usage] [--no-build]
 *                   [--relay-levels 1x60/6,100x5,1000x2] [--relay-variants direct,backend,…]
 *                   [--soak-seconds N] [--soak-streams N]
 *                   [--soak-answer CHUNKSxMS] [--soak-backend-env KEY=VALUE,…]
 *                   [--node BIN] [--backend-env KEY=VALUE,…] [--db-ids time|random]
 *                   [--json FILE] [--report-json FILE]
 *
 * --node runs the services under test (backend, frontend, the bare hops) on another Node
 * binary, e.g. Node 24 as the containers run them; the fake and the load client stay on this
 * one. --backend-env sets every backend's environment; run.sh passes the container's C allocator
 * (backend/Dockerfile: jemalloc with its MALLOC_CONF) unless given one.
 * --db-ids random generates the database part's rows with random-looking ids, as the backend
 * made them before 2026-12-05 (default: time-ordered, as it makes them now).
 * --json writes every figure; --report-json writes a vitest-like summary (checks passed and
 * failed) that scripts/test.sh adds to its closing line. Results are also written to
 * bench/.results/<mode>-<time>.{json,md}.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dbBench, dbMarkdown, type DbOptions, type DbReport } from './db.js';
import { machineInfo, machineMarkdown } from './machine.js';
import {
  relayBench,
  relayMarkdown,
  VARIANTS,
  type RelayOptions,
  type RelayReport,
  type Variant,
} from './relay.js';
import {
  benchRoot,
  buildAll,
  prepareRelease,
  root,
  useBackendEnv,
  useServiceNode,
} from './services.js';
import { soakBench, soakMarkdown, type SoakReport } from './soak.js';
import { uiBench, uiMarkdown, type UiReport } from './ui.js';
import { usageBench, usageMarkdown, type UsageOptions, type UsageReport } from './usage.js';
import { log } from './util.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const mode: 'short' | 'full' = flag('--full') ? 'full' : 'short';
const only = new Set((value('--only') ?? 'relay,db,ui,soak,usage').split(','));
const full = mode === 'full';
const serviceNode = value('--node');
if (serviceNode) useServiceNode(serviceNode);
/**
 * `KEY=VALUE,KEY=VALUE` into an environment. A comma splits only before the next `KEY=`, so a
 * value may hold commas (MALLOC_CONF=narenas:2,dirty_decay_ms:1000).
 */
const envList = (list: string | undefined): Record<string, string> =>
  Object.fromEntries(
    (list ?? '')
      .split(/,(?=[A-Za-z_][A-Za-z0-9_]*=)/)
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
/** `--backend-env KEY=VALUE,…`: every backend's (run.sh passes the container's allocator). */
useBackendEnv(envList(value('--backend-env')));

/** `--relay-variants direct,frontend+backend`: a subset of relay.ts's VARIANTS, in their order. */
function relayVariants(flag: string | undefined): Variant[] | undefined {
  if (flag === undefined) return undefined;
  const names = flag.split(',');
  const unknown = names.filter((name) => !(VARIANTS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `--relay-variants: unknown ${unknown.join(', ')} (one of ${VARIANTS.join(', ')})`,
    );
  }
  return VARIANTS.filter((variant) => names.includes(variant));
}

// e.g. 1x60/6,100x5: concurrency x streams per slot [/ interleaved rounds] (RelayLevel)
const levelsFlag = value('--relay-levels');
const relayOptions: Omit<RelayOptions, 'dir'> = {
  levels: levelsFlag
    ? levelsFlag.split(',').map((l) => {
        const [shape = '', rounds] = l.split('/');
        const [concurrency, perSlot] = shape.split('x').map(Number);
        return {
          concurrency: concurrency ?? 1,
          perSlot: perSlot ?? 1,
          rounds: rounds === undefined ? 1 : Number(rounds),
        };
      })
    : full
      ? [
          { concurrency: 1, perSlot: 60, rounds: 6 },
          { concurrency: 100, perSlot: 5 },
          { concurrency: 1000, perSlot: 2 },
        ]
      : [
          { concurrency: 1, perSlot: 5 },
          { concurrency: 20, perSlot: 3 },
        ],
  chunks: 50,
  delayMs: 10,
  variants: relayVariants(value('--relay-variants')),
};
const dbIds = value('--db-ids') ?? 'time';
if (dbIds !== 'time' && dbIds !== 'random') throw new Error('--db-ids: time or random');
const dbOptions: Omit<DbOptions, 'dir'> = full
  ? {
      file: path.join(root, 'data', 'bench.db'),
      users: 100,
      conversations: 50_000,
      messages: 1_000_000,
      bigConversationMessages: 500,
      calls: 300,
      slowCalls: 30,
      writeSeconds: 20,
      ids: dbIds,
    }
  : {
      file: null,
      users: 2,
      conversations: 40,
      messages: 2_000,
      bigConversationMessages: 500,
      calls: 40,
      slowCalls: 5,
      writeSeconds: 3,
      ids: dbIds,
    };
const usageOptions: Omit<UsageOptions, 'dir'> = full
  ? {
      file: path.join(root, 'data', 'bench-usage.db'),
      users: 100,
      conversations: 20_000,
      generations: 2_000_000,
      calls: 30,
    }
  : { file: null, users: 5, conversations: 50, generations: 20_000, calls: 5 };
const soakSeconds = Number(value('--soak-seconds') ?? (full ? 600 : 20));
const soakConcurrency = Number(value('--soak-streams') ?? (full ? 200 : 20));
/**
 * `--soak-answer CHUNKSxMS`: each answer's length (default 50x10, the relay's: a half-second
 * answer, so the closed loop writes ~200 answers a second); e.g. 250x20 for five-second answers.
 */
const [soakChunks, soakDelayMs] = (value('--soak-answer') ?? '50x10').split('x').map(Number);
if (!Number.isInteger(soakChunks) || !Number.isInteger(soakDelayMs) || soakChunks! < 1) {
  throw new Error('--soak-answer takes CHUNKSxMS, e.g. 250x20');
}
/** `--soak-backend-env KEY=VALUE,…`: settings of the soak's backend (e.g. DUCKDB_MEMORY_LIMIT). */
const soakBackendEnv = envList(value('--soak-backend-env'));

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function main(): Promise<number> {
  const started = new Date();
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-bench-'));
  const checks: Check[] = [];
  const report: {
    mode: string;
    startedAt: string;
    machine: Awaited<ReturnType<typeof machineInfo>>;
    relay?: RelayReport;
    db?: DbReport;
    ui?: UiReport;
    soak?: SoakReport;
    usage?: UsageReport;
  } = { mode, startedAt: started.toISOString(), machine: await machineInfo() };
  const md: string[] = [
    `# Benchmark run (${mode}), ${started.toISOString()}\n`,
    machineMarkdown(report.machine),
  ];

  const step = async (name: string, work: () => Promise<{ ok: boolean; detail: string }>) => {
    if (!only.has(name)) return;
    log(`== ${name}`);
    try {
      const { ok, detail } = await work();
      checks.push({ name, ok, detail });
    } catch (error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      checks.push({ name, ok: false, detail });
    }
    const check = checks.at(-1);
    log(`== ${name}: ${check?.ok ? 'ok' : `FAILED: ${check?.detail}`}`);
  };

  try {
    if (!flag('--no-build')) await buildAll();
    await prepareRelease();

    await step('relay', async () => {
      const relay = await relayBench({ ...relayOptions, dir: await sub(dir, 'relay') });
      report.relay = relay;
      md.push('## Streaming relay overhead\n', relayMarkdown(relay));
      const broken = relay.results.reduce((n, r) => n + r.errors, 0);
      return {
        ok: broken === 0 && relay.crashes.length === 0,
        detail: `${broken} broken streams${relay.crashes.length ? `; crashes: ${relay.crashes.join('; ')}` : ''}`,
      };
    });

    await step('db', async () => {
      const db = await dbBench({ ...dbOptions, dir: await sub(dir, 'db') });
      report.db = db;
      md.push('## Database at scale\n', dbMarkdown(db));
      return {
        ok: db.failedRequests === 0 && db.crashes.length === 0,
        detail: `${db.failedRequests} failed requests${db.crashes.length ? `; crashes: ${db.crashes.join('; ')}` : ''}`,
      };
    });

    await step('usage', async () => {
      const usage = await usageBench({ ...usageOptions, dir: await sub(dir, 'usage') });
      report.usage = usage;
      md.push('## Usage analytics at scale\n', usageMarkdown(usage));
      return {
        ok: usage.failedRequests === 0 && usage.crashes.length === 0,
        detail: `${usage.failedRequests} failed requests${usage.crashes.length ? `; crashes: ${usage.crashes.join('; ')}` : ''}`,
      };
    });

    await step('ui', async () => {
      const ui = await uiBench({
        dir: await sub(dir, 'ui'),
        full,
        databaseFile: report.db?.file ?? null,
        sample: report.db?.sample,
      });
      report.ui = ui;
      md.push('## UI\n', uiMarkdown(ui));
      return { ok: ui.errors.length === 0, detail: ui.errors.join('; ') || 'no errors' };
    });

    await step('soak', async () => {
      const soak = await soakBench({
        dir: await sub(dir, 'soak'),
        seconds: soakSeconds,
        concurrency: soakConcurrency,
        chunks: soakChunks!,
        delayMs: soakDelayMs!,
        fdWaitSeconds: full ? 90 : 5,
        backendEnv: soakBackendEnv,
      });
      report.soak = soak;
      md.push('## Soak\n', soakMarkdown(soak));
      return {
        ok: soak.broken === 0 && soak.crashes.length === 0,
        detail: `${soak.broken} broken of ${soak.streams} streams${soak.crashes.length ? `; crashes: ${soak.crashes.join('; ')}` : ''}`,
      };
    });
  } catch (error) {
    checks.push({
      name: 'setup',
      ok: false,
      detail: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  const resultsDir = path.join(benchRoot, '.results');
  await mkdir(resultsDir, { recursive: true });
  const stamp = `${mode}-${started.toISOString().replace(/[:.]/g, '-')}`;
  md.push(
    '## Checks (errors only, never timings)\n',
    ...checks.map((c) => `- ${c.ok ? 'ok' : 'FAILED'} ${c.name}: ${c.detail}`),
    '',
  );
  await writeFile(
    path.join(resultsDir, `${stamp}.json`),
    JSON.stringify({ ...report, checks }, null, 2),
  );
  await writeFile(path.join(resultsDir, `${stamp}.md`), md.join('\n'));
  const jsonOut = value('--json');
  if (jsonOut) await writeFile(jsonOut, JSON.stringify({ ...report, checks }, null, 2));
  const summaryOut = value('--report-json');
  const failed = checks.filter((c) => !c.ok).length;
  if (summaryOut) {
    await writeFile(
      summaryOut,
      JSON.stringify({
        numPassedTests: checks.length - failed,
        numFailedTests: failed,
        numPendingTests: 0,
        numTodoTests: 0,
      }),
    );
  }
  process.stdout.write(`\n${md.join('\n')}\n`);
  log(`results: bench/.results/${stamp}.md (and .json)`);
  log(`bench ${mode} finished: ${checks.length - failed} checks ok, ${failed} failed`);
  return failed === 0 && checks.length > 0 ? 0 : 1;
}

async function sub(dir: string, name: string): Promise<string> {
  const p = path.join(dir, name);
  await mkdir(p, { recursive: true });
  return p;
}

process.exitCode = await main();
