/**
 * Reads of the database benchmark's file through the backend's HTTP API, side by side for two
 * or more backend variants (variants.ts): the backend's CPU per call (all its threads,
 * /proc/<pid>/stat) and the latency of each call, for a change to how the backend reads rows.
 *
 *   cd bench && npx tsx src/read-ab.ts --variant NAME[:OPTION;…]… [--rounds 6] [--calls 250]
 *                                      [--reads open,list,search] [--file ../data/bench.db]
 *
 * The file is the one `bash bench/run.sh --full --only db` generates (data/bench.db). Reads,
 * each as user 0 (the admin) whose first conversation has the 500 messages: `open` (that
 * conversation, GET /api/conversations/:id), `list` (the first page, limit 30) and `search`
 * (the rare word, GET /api/search?q=zeppelin). Each round starts each variant's backend in
 * turn on the file, the order reversed every other round, makes 10 warm-up calls of each read
 * and then `calls` timed ones, one after another. Reported: every run, then per variant and
 * read the medians over rounds and the median of the rounds' CPU ratios to the first variant.
 */
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Agent, request } from 'undici';
import { conversationIds, sessionToken } from './db.js';
import { cpuMs } from './procs.js';
import { prepareRelease, root } from './services.js';
import { fmt, log, optionValues, percentile, summarize, table } from './util.js';
import { parseVariant, withVariantBackend, type Variant } from './variants.js';

const option = (name: string): string | undefined => optionValues(name)[0];
const variants = optionValues('--variant').map(parseVariant);
if (variants.length === 0) variants.push({ name: 'release', options: {} });
const rounds = Number(option('--rounds') ?? 6);
const calls = Number(option('--calls') ?? 250);
const file = path.resolve(option('--file') ?? path.join(root, 'data', 'bench.db'));
const readNames = (option('--reads') ?? 'open,list').split(',');
const WARM_UP = 10;

interface Read {
  name: string;
  path: string;
}

interface Run {
  variant: string;
  round: number;
  reads: Record<string, { cpuMs: number; p50: number; p99: number }>;
}

/** The paths of the reads, from the file (the generated conversations' ids). */
async function readsOf(): Promise<Read[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const idOf = await conversationIds(connection);
    const all: Read[] = [
      { name: 'open', path: `/api/conversations/${idOf(0)}` },
      { name: 'list', path: '/api/conversations?limit=30' },
      { name: 'search', path: '/api/search?q=zeppelin' },
    ];
    return readNames.map((name) => {
      const read = all.find((r) => r.name === name);
      if (!read) throw new Error(`--reads: no read "${name}" (open, list, search)`);
      return read;
    });
  } finally {
    // Both, or the file stays locked for the backends this starts.
    connection.closeSync();
    instance.closeSync();
  }
}

async function runVariant(variant: Variant, round: number, reads: Read[]): Promise<Run> {
  return withVariantBackend(
    variant,
    () => file,
    async (backend) => {
      const agent = new Agent({ connections: 1 });
      const cookie = `ai_session=${sessionToken(0)}`;
      const call = async (read: Read): Promise<number> => {
        const started = performance.now();
        const response = await request(`${backend.url}${read.path}`, {
          headers: { cookie },
          dispatcher: agent,
        });
        await response.body.arrayBuffer();
        if (response.statusCode !== 200)
          throw new Error(`${read.path}: HTTP ${response.statusCode}`);
        return performance.now() - started;
      };
      try {
        const run: Run = { variant: variant.name, round, reads: {} };
        for (const read of reads) {
          for (let i = 0; i < WARM_UP; i++) await call(read);
          const before = cpuMs(backend.service.pid);
          const ms: number[] = [];
          for (let i = 0; i < calls; i++) ms.push(await call(read));
          const cpu = (cpuMs(backend.service.pid) - before) / calls;
          const { p50, p99 } = summarize(ms);
          run.reads[read.name] = { cpuMs: cpu, p50, p99 };
        }
        return run;
      } finally {
        await agent.close();
      }
    },
  );
}

async function main(): Promise<void> {
  await prepareRelease();
  const reads = await readsOf();
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? variants : [...variants].reverse();
    for (const variant of order) {
      const run = await runVariant(variant, round, reads);
      log(
        `round ${round} ${variant.name}: ` +
          reads
            .map((r) => {
              const m = run.reads[r.name]!;
              return `${r.name} ${fmt(m.cpuMs, 2)} ms CPU/call, p50 ${fmt(m.p50, 2)}, p99 ${fmt(m.p99, 2)} ms`;
            })
            .join('; '),
      );
      runs.push(run);
    }
  }
  const base = variants[0]!.name;
  const of = (name: string, round: number) =>
    runs.find((r) => r.variant === name && r.round === round)!;
  const rows: string[][] = [];
  for (const read of reads) {
    for (const variant of variants) {
      const mine = runs.filter((r) => r.variant === variant.name).map((r) => r.reads[read.name]!);
      const ratios = runs
        .filter((r) => r.variant === variant.name)
        .map((r) => r.reads[read.name]!.cpuMs / of(base, r.round).reads[read.name]!.cpuMs);
      rows.push([
        read.name,
        variant.name,
        fmt(
          percentile(
            mine.map((m) => m.cpuMs),
            50,
          ),
          2,
        ),
        `×${fmt(percentile(ratios, 50), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})`,
        fmt(
          percentile(
            mine.map((m) => m.p50),
            50,
          ),
          2,
        ),
        fmt(
          percentile(
            mine.map((m) => m.p99),
            50,
          ),
          2,
        ),
      ]);
    }
  }
  console.log(`\nMedians over ${rounds} rounds of ${calls} calls (${path.basename(file)}):\n`);
  console.log(
    table(
      [
        'read',
        'variant',
        'backend CPU ms/call',
        'ratio to the first (median of rounds; range)',
        'p50 ms',
        'p99 ms',
      ],
      rows,
    ),
  );
}

await main();
process.exit(0);
