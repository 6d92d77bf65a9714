/**
 * Side-by-side micro-benchmark of the backend's upstream client (backend/src/openrouter/) and
 * its SSE writer (backend/src/http/sse.ts), without the database: what one streamed answer
 * costs the process that reads OpenRouter's stream and writes the browser's.
 *
 *   cd bench && npm run upstream-client -- [options]     (or: npx tsx src/upstream-client.ts)
 *
 * Variants (run in one run, alternating, each round in fresh child processes):
 *   old        client + SSE writer as of --baseline (default bc68bb3, before the undici client),
 *              taken from git into a temp folder;
 *   new        client + SSE writer of the work tree (backend/src);
 *   new-client the work tree's client with the baseline's SSE writer (to split the gain).
 *
 * Each child is a small relay: a node:http server whose handler streams one answer from the fake
 * OpenRouter (`fake/slow`, `[fake chunks=50 delay=10]`, in a process of its own) through the
 * client and writes every event to its response through the SSE writer, as chat/relay.ts does
 * (`--mode client`: the events are only counted, nothing written; `--mode writer`: no upstream,
 * the SSE writer alone sends 50 deltas 10 ms apart from a timer). This process is the load
 * client: at each level it runs `concurrency` slots of answers one after another (slots
 * started spread over one answer's length), checks every answer (50 deltas, then `done`), and
 * reads from the child its process.cpuUsage() (all threads), its JS thread's CPU
 * (/proc/self/task/<pid>/stat) and its memory before and after the batch (peak RSS via
 * VmHWM, reset before each batch, and the heap sampled every 100 ms).
 *
 * The children run under tsx, which alone holds ~100 MB of RSS: compare the growth columns
 * (RSS and heap over the batch) for memory per open stream, not the peaks. A level of 1,000
 * needs `ulimit -n` above 4,000; the fake saturates a core there, so read its memory, not its CPU.
 *
 * Options: --rounds N (5), --levels 1x20,100x400 (concurrency × answers), --variants old,new,
 * --mode relay|client|writer, --baseline REV, --cpu-prof DIR (profiles each child), --json FILE.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

import { root, startFake, stopService } from './services.js';
import { fmt, log, sleep, table } from './util.js';

type Variant = 'old' | 'new' | 'new-client';
type Mode = 'relay' | 'client' | 'writer';

interface Level {
  concurrency: number;
  answers: number;
}

interface ChildResult {
  level: Level;
  answers: number;
  /** process.cpuUsage() over the batch, user + system, all threads: ms per answer. */
  cpuMs: number;
  /** Of which in the kernel (syscalls): ms per answer. */
  cpuSystemMs: number;
  /** The main (JS) thread only, from /proc: ms per answer. */
  jsThreadMs: number;
  jsSystemMs: number;
  /** The JS thread's context switches (wake-ups) per answer. */
  switches: number;
  /** RSS after warm-up and a GC, before the batch. */
  rssBeforeMb: number;
  /** VmHWM over the batch (reset at its start). */
  peakRssMb: number;
  /** The largest heapUsed + external sampled during the batch, less the value before it. */
  heapGrowthMb: number;
  wallMs: number;
}

const CHUNKS = 50;
const ANSWER_MS = 550;

// ---------------------------------------------------------------- child: one variant's relay

interface ClientModule {
  createOpenRouterClient(options: Record<string, unknown>): {
    streamChat(
      request: { model: string; messages: { role: 'user'; content: string }[] },
      options: { signal: AbortSignal; requestId?: string },
    ): AsyncGenerator<{ type: string } & Record<string, unknown>>;
  };
  createUpstreamAgent?: () => unknown;
}

interface SseModule {
  openSse(
    res: ServerResponse,
    headers?: Record<string, string>,
  ): { send(event: string, data: unknown): boolean; close(): void };
}

/** The JS thread's CPU so far: user and system ms, and its context switches. */
function jsThread(): { userMs: number; systemMs: number; switches: number } {
  const task = `/proc/self/task/${process.pid}`;
  const stat = readFileSync(`${task}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`${task}/status`, 'utf8');
  const count = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return {
    userMs: (Number(fields[11]) * 1000) / 100, // USER_HZ is 100 on Linux
    systemMs: (Number(fields[12]) * 1000) / 100,
    switches: count('voluntary_ctxt_switches') + count('nonvoluntary_ctxt_switches'),
  };
}

function statusKb(field: string): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
}

async function child(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_CHILD ?? '{}') as {
    clientDir: string;
    sseDir: string;
    upstream: string;
    mode: Mode;
  };
  const clientModule = (await import(
    pathToFileURL(path.join(config.clientDir, 'openrouter', 'client.ts')).href
  )) as ClientModule;
  const sseModule = (await import(
    pathToFileURL(path.join(config.sseDir, 'http', 'sse.ts')).href
  )) as SseModule;
  const dispatcher = clientModule.createUpstreamAgent?.();
  const client = clientModule.createOpenRouterClient({
    baseUrl: config.upstream,
    apiKey: 'sk-or-bench-key',
    appTitle: 'AI',
    maxRetries: 0,
    ...(dispatcher ? { dispatcher } : {}),
  });

  let heapPeak = 0;
  const heapNow = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  setInterval(() => {
    heapPeak = Math.max(heapPeak, heapNow());
  }, 100).unref();

  /** --mode writer: the SSE writer alone, 50 deltas 10 ms apart from a timer, no upstream. */
  async function write(i: number, res: ServerResponse): Promise<void> {
    const sse = sseModule.openSse(res, { 'x-request-id': `bench-${i}` });
    sse.send('meta', { model: 'fake/slow', provider: 'FakeProvider' });
    for (let k = 0; k < CHUNKS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      sse.send('delta', { content: ` word${k}` });
    }
    sse.send('usage', { promptTokens: 5, completionTokens: CHUNKS, cost: 0.001 });
    sse.send('done', { status: 'completed' });
    sse.close();
  }

  async function stream(i: number, res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (config.mode === 'writer') return write(i, res);
    const events = client.streamChat(
      {
        model: 'fake/slow',
        messages: [{ role: 'user', content: `answer ${i} [fake chunks=${CHUNKS} delay=10]` }],
      },
      { signal, requestId: `bench-${i}` },
    );
    if (config.mode === 'client') {
      let deltas = 0;
      let done = false;
      try {
        for await (const event of events) {
          if (event.type === 'delta') deltas++;
          if (event.type === 'finish') done = true;
        }
      } catch (error) {
        res.writeHead(502).end(String(error));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ deltas, done }));
      return;
    }
    const sse = sseModule.openSse(res, { 'x-request-id': `bench-${i}` });
    try {
      for await (const event of events) {
        switch (event.type) {
          case 'delta':
          case 'reasoning':
            sse.send(event.type, { content: event.content });
            break;
          case 'meta':
            sse.send('meta', { model: event.model, provider: event.provider });
            break;
          case 'usage':
            sse.send('usage', event.usage);
            break;
          default:
            break;
        }
      }
      sse.send('done', { status: 'completed' });
    } catch (error) {
      sse.send('error', { message: String(error) });
    }
    sse.close();
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/stats') {
      if (url.searchParams.get('gc') === '1') globalThis.gc?.();
      const cpu = process.cpuUsage();
      const js = jsThread();
      const body = {
        cpuMs: (cpu.user + cpu.system) / 1000,
        cpuSystemMs: cpu.system / 1000,
        jsThreadMs: js.userMs + js.systemMs,
        jsSystemMs: js.systemMs,
        switches: js.switches,
        rssKb: statusKb('VmRSS'),
        hwmKb: statusKb('VmHWM'),
        heap: heapNow(),
        heapPeak,
      };
      if (url.searchParams.get('reset') === '1') {
        writeFileSync('/proc/self/clear_refs', '5');
        heapPeak = heapNow();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    void stream(Number(url.searchParams.get('i')), res, controller.signal);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`READY ${port}\n`);
  });
}

// ---------------------------------------------------------------- parent: load and report

interface Stats {
  cpuMs: number;
  cpuSystemMs: number;
  jsThreadMs: number;
  jsSystemMs: number;
  switches: number;
  rssKb: number;
  hwmKb: number;
  heap: number;
  heapPeak: number;
}

async function getStats(agent: Agent, base: string, query: Record<string, string>): Promise<Stats> {
  const response = await request(`${base}/stats?${new URLSearchParams(query)}`, {
    dispatcher: agent,
  });
  return (await response.body.json()) as Stats;
}

async function oneAnswer(agent: Agent, base: string, i: number, mode: Mode): Promise<void> {
  const response = await request(`${base}/stream?i=${i}`, { dispatcher: agent });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`answer ${i}: HTTP ${response.statusCode}`);
  if (mode === 'client') {
    const result = JSON.parse(text) as { deltas: number; done: boolean };
    if (result.deltas !== CHUNKS || !result.done) {
      throw new Error(`answer ${i}: ${result.deltas} deltas, done ${result.done}`);
    }
    return;
  }
  const deltas = text.split('event: delta\n').length - 1;
  if (deltas !== CHUNKS || !text.includes('event: done\n')) {
    throw new Error(`answer ${i}: ${deltas} deltas; ${text.slice(-300)}`);
  }
}

let counter = 0;

/** `level.answers` answers from `level.concurrency` slots, the slots spread over one answer. */
async function batch(agent: Agent, base: string, level: Level, mode: Mode): Promise<void> {
  const perSlot = Math.ceil(level.answers / level.concurrency);
  await Promise.all(
    Array.from({ length: level.concurrency }, async (_, slot) => {
      await sleep((slot * ANSWER_MS) / level.concurrency);
      for (let k = 0; k < perSlot; k++) await oneAnswer(agent, base, counter++, mode);
    }),
  );
}

async function runChild(
  variant: Variant,
  dirs: { old: string; new: string },
  upstream: string,
  levels: Level[],
  mode: Mode,
  cpuProfDir: string | null,
  round: number,
): Promise<ChildResult[]> {
  const clientDir = variant === 'old' ? dirs.old : dirs.new;
  const sseDir = variant === 'new' ? dirs.new : dirs.old;
  const args = ['--expose-gc', '--import', 'tsx'];
  if (cpuProfDir) {
    // One file per thread (tsx's loader runs on a thread of its own): the largest is the JS thread.
    args.push('--cpu-prof', '--cpu-prof-dir', path.join(cpuProfDir, `${variant}-${round}`));
  }
  args.push(path.join(import.meta.dirname, 'upstream-client.ts'), '--child');
  const proc = spawn(process.execPath, args, {
    cwd: path.join(root, 'bench'),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      BENCH_CHILD: JSON.stringify({ clientDir, sseDir, upstream, mode }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (data: Buffer) => {
      out += data.toString();
      const match = /READY (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    proc.once('exit', (code) => reject(new Error(`child ${variant} exited (${code})`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: null, keepAliveTimeout: 60_000 });
  const results: ChildResult[] = [];
  try {
    const most = Math.max(...levels.map((l) => l.concurrency));
    // Warm-up: the JIT, the upstream connections and the keep-alive sockets of the load.
    const warm = Math.max(20, Math.min(most, 200));
    await batch(agent, base, { concurrency: warm, answers: warm * 2 }, mode);
    for (const level of levels) {
      const before = await getStats(agent, base, { gc: '1', reset: '1' });
      const started = performance.now();
      await batch(agent, base, level, mode);
      const wallMs = performance.now() - started;
      const after = await getStats(agent, base, {});
      const answers = Math.ceil(level.answers / level.concurrency) * level.concurrency;
      results.push({
        level,
        answers,
        cpuMs: (after.cpuMs - before.cpuMs) / answers,
        cpuSystemMs: (after.cpuSystemMs - before.cpuSystemMs) / answers,
        jsThreadMs: (after.jsThreadMs - before.jsThreadMs) / answers,
        jsSystemMs: (after.jsSystemMs - before.jsSystemMs) / answers,
        switches: (after.switches - before.switches) / answers,
        rssBeforeMb: before.rssKb / 1024,
        peakRssMb: after.hwmKb / 1024,
        heapGrowthMb: (after.heapPeak - before.heap) / 1024 / 1024,
        wallMs,
      });
    }
  } finally {
    await agent.close();
    proc.kill('SIGTERM');
    await new Promise((resolve) => proc.once('exit', resolve));
  }
  return results;
}

/** The baseline's files, from git, in a folder laid out as backend/src. */
function materializeBaseline(rev: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `upstream-baseline-${rev}-`));
  const files = execFileSync(
    'git',
    ['-C', root, 'ls-tree', '-r', '--name-only', rev, 'backend/src/openrouter/'],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  for (const file of [...files, 'backend/src/errors.ts', 'backend/src/http/sse.ts']) {
    const text = execFileSync('git', ['-C', root, 'show', `${rev}:${file}`], { encoding: 'utf8' });
    const target = path.join(dir, path.relative('backend/src', file));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  return dir;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

async function parent(): Promise<void> {
  const rounds = Number(option('rounds', '5'));
  const levels: Level[] = option('levels', '1x20,100x400')
    .split(',')
    .map((spec) => {
      const [c, a] = spec.split('x').map(Number);
      return { concurrency: c!, answers: a! };
    });
  const variants = option('variants', 'old,new').split(',') as Variant[];
  const mode = option('mode', 'relay') as Mode;
  const rev = option('baseline', 'bc68bb3');
  const cpuProf = option('cpu-prof', '');
  const jsonFile = option('json', '');
  const oldDir = materializeBaseline(rev);
  const dirs = { old: oldDir, new: path.join(root, 'backend', 'src') };
  const work = mkdtempSync(path.join(os.tmpdir(), 'upstream-bench-'));
  const fake = await startFake(work);
  log(
    `upstream client: ${variants.join(' vs ')}, mode ${mode}, levels ${levels
      .map((l) => `${l.concurrency}x${l.answers}`)
      .join(',')}, ${rounds} rounds, baseline ${rev}`,
  );
  const all: { round: number; variant: Variant; results: ChildResult[] }[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate the order: each variant goes first in every other round.
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const results = await runChild(
          variant,
          dirs,
          fake.url,
          levels,
          mode,
          cpuProf || null,
          round,
        );
        all.push({ round, variant, results });
        log(
          `round ${round + 1} ${variant}: ${results
            .map(
              (r) =>
                `${r.level.concurrency}: ${fmt(r.cpuMs, 2)} ms/answer (sys ${fmt(r.cpuSystemMs, 2)}; JS thread ${fmt(r.jsThreadMs, 2)}, sys ${fmt(r.jsSystemMs, 2)}, ${fmt(r.switches, 0)} wake-ups), peak RSS ${fmt(r.peakRssMb)} MB`,
            )
            .join('; ')}`,
        );
      }
    }
  } finally {
    await stopService(fake.service);
    rmSync(oldDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }

  const base = variants[0]!;
  const rows: string[][] = [];
  for (const [index, level] of levels.entries()) {
    const of = (variant: Variant, pick: (r: ChildResult) => number) =>
      all.filter((a) => a.variant === variant).map((a) => pick(a.results[index]!));
    for (const variant of variants) {
      const cpu = of(variant, (r) => r.cpuMs);
      const js = of(variant, (r) => r.jsThreadMs);
      const peak = of(variant, (r) => r.peakRssMb);
      const growth = of(variant, (r) => r.peakRssMb - r.rssBeforeMb);
      const heap = of(variant, (r) => r.heapGrowthMb);
      // Ratios per round (same round, neighbouring in time), then their median.
      const ratioOf = (pick: (r: ChildResult) => number) => {
        const ratios = [];
        for (let round = 0; round < rounds; round++) {
          const mine = all.find((a) => a.round === round && a.variant === variant);
          const theirs = all.find((a) => a.round === round && a.variant === base);
          if (mine && theirs)
            ratios.push(pick(mine.results[index]!) / pick(theirs.results[index]!));
        }
        return variant === base ? '' : ` (×${median(ratios).toFixed(2)})`;
      };
      rows.push([
        `${level.concurrency} × ${level.answers}`,
        variant,
        `${fmt(median(cpu), 2)}${ratioOf((r) => r.cpuMs)}`,
        `${fmt(Math.min(...cpu), 2)}–${fmt(Math.max(...cpu), 2)}`,
        `${fmt(median(js), 2)}${ratioOf((r) => r.jsThreadMs)}`,
        `${fmt(median(peak))}${ratioOf((r) => r.peakRssMb)}`,
        fmt(median(growth)),
        fmt(median(heap)),
      ]);
    }
  }
  process.stdout.write(
    `\n${table(
      [
        'concurrency × answers',
        'variant',
        'CPU ms/answer, all threads (median; ratio)',
        'min–max',
        'JS thread ms/answer',
        'peak RSS MB',
        'RSS growth MB',
        'heap+external growth MB',
      ],
      rows,
    )}\n\nCPU: process.cpuUsage() of the relay child over the batch / answers; medians over ${rounds} rounds; ratios are per-round ratios to ${base}, then their median.\n`,
  );
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(all, null, 2));
}

if (process.argv.includes('--child')) await child();
else await parent();
