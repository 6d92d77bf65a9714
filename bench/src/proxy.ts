/**
 * The frontend's streaming proxy alone, side by side: what one streamed answer costs the
 * frontend process (CPU ms from /proc/<pid>/stat, peak RSS) for two or more versions of
 * frontend/server, in one run, alternating, so a noisy shared machine hits them alike.
 *
 *   cd bench && npx tsx src/proxy.ts [--variant name=spec]... [--levels 1x30,100x5]
 *                                    [--rounds 8] [--warmup 100x5] [--chunks 50] [--delay 10]
 *                                    [--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *                                    [--node BIN]
 *
 * A spec is a git ref (its frontend/server), `worktree` (the files on disk), a folder of server
 * .ts files, `tcp-floor`: a bare TCP relay in Node (one read and one write per event, no
 * HTTP), the least a Node process in between can cost, or `http-floor`: the relay benchmark's
 * bare HTTP hop (floor-hop.mjs), the least an HTTP hop in Node costs. Default: `--variant before=9df2300
 * --variant worktree=worktree` (9df2300: the proxy before the CPU work). Each variant is
 * transpiled (TypeScript, as `npm run build:server` emits it) into a temp folder that resolves
 * frontend/node_modules, and runs as production runs it: `node dist/server/main.js`,
 * NODE_ENV=production, LOG_LEVEL=info (its log to a file), with a throwaway STATIC_DIR.
 *
 * Upstream is a tiny SSE backend in a process of its own (this file with --fake-backend):
 * every POST gets the backend's SSE headers, `chunks` `event: delta` events `delay` ms apart,
 * then `event: done`; a GET gets a small JSON answer (used to open keep-alive connections
 * first). The load client is this process (stream.ts, the relay benchmark's client), so the
 * frontend's figures are its own.
 *
 * Each variant first relays `warmup` answers (a proxy that has relayed only a few thousand
 * events still runs partly unoptimized code, which a server that has been up a while does
 * not). Then, per round, each variant (order reversed every other round) runs every level; a
 * level is `concurrency` x `streams per slot` answers. Reported per variant and level: CPU ms
 * per answer (median over rounds, min–max, the kernel's share, and the median of the per-round
 * ratios to the first variant), peak RSS (VmHWM after a reset, cross-checked by sampling),
 * broken answers, TTFT p50 and gap−delay p99 as a check that nothing is held back, and the CPU
 * the rest of the machine used meanwhile. The user/system split is the kernel's tick sampling;
 * their sum is exact.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLK_TCK, PhaseMeter } from './procs.js';
import {
  benchRoot,
  crashed,
  freePort,
  root,
  startProcess,
  stopService,
  waitForHttp,
  type Service,
} from './services.js';
import { loadAgent, openConnections, runLoad, type StreamTarget } from './stream.js';
import { fmt, log, mb, percentile, sleep, table } from './util.js';

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const values = (name: string): string[] =>
  args.flatMap((a, i) => (a === name && args[i + 1] !== undefined ? [args[i + 1] as string] : []));

const CHUNKS = Number(value('--chunks') ?? 50);
const DELAY_MS = Number(value('--delay') ?? 10);

// ---------------------------------------------------------------------------------------------
// The fake backend (a child process: this file with --fake-backend).

function fakeBackend(): void {
  const deltas = Array.from(
    { length: CHUNKS },
    (_, i) => `event: delta\ndata: ${JSON.stringify({ content: `tok${i} ` })}\n\n`,
  );
  const done = `event: done\ndata: ${JSON.stringify({
    messageId: '3f1c2f43-4a9e-4a36-9d7b-2a3d1f0b9c11',
    finishReason: 'stop',
    usage: { promptTokens: 12, completionTokens: CHUNKS, costUsd: 0.0001 },
  })}\n\n`;

  const stream = (req: IncomingMessage, res: ServerResponse): void => {
    // The backend's SSE headers (backend/src/http/sse.ts) plus its request id.
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(req.headers['x-request-id'] ?? ''),
    });
    res.flushHeaders();
    let i = 0;
    const next = (): void => {
      if (res.destroyed) return;
      if (i < deltas.length) {
        res.write(deltas[i++]);
        setTimeout(next, DELAY_MS);
      } else {
        res.end(done);
      }
    };
    setTimeout(next, DELAY_MS);
  };

  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => stream(req, res));
      return;
    }
    const body = '{"status":"ok"}';
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => {
    process.stdout.write(`fake backend listening on ${process.env.PORT}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------
// Variants: frontend/server at a git ref, on disk, or in a folder, transpiled as tsc emits it.

interface Variant {
  name: string;
  spec: string;
  dir: string;
  service?: Service;
  url?: string;
  target?: StreamTarget;
}

function serverSources(spec: string): Map<string, string> {
  const keep = (file: string) => file.endsWith('.ts') && !file.endsWith('.test.ts');
  const out = new Map<string, string>();
  if (spec === 'worktree' || spec.startsWith('/') || spec.startsWith('.')) {
    const dir = spec === 'worktree' ? path.join(root, 'frontend', 'server') : path.resolve(spec);
    for (const file of readdirSync(dir).filter(keep)) {
      out.set(file, readFileSync(path.join(dir, file), 'utf8'));
    }
    return out;
  }
  const git = (...a: string[]) =>
    execFileSync('git', a, { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const files = git('ls-tree', '--name-only', `${spec}:frontend/server`).split('\n').filter(keep);
  for (const file of files) out.set(file, git('show', `${spec}:frontend/server/${file}`));
  return out;
}

/** The `tcp-floor` variant: bytes relayed both ways between two sockets, nothing parsed. */
const TCP_FLOOR = `import { connect, createServer } from 'node:net';
const backend = new URL(process.env.BACKEND_URL);
createServer((client) => {
  const upstream = connect(Number(backend.port), backend.hostname);
  client.on('data', (data) => upstream.write(data));
  upstream.on('data', (data) => client.write(data));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => undefined);
  upstream.on('error', () => undefined);
}).listen(Number(process.env.PORT), process.env.HOST);
`;

/** The `http-floor` variant: floor-hop.mjs with the fake backend as its upstream. */
const HTTP_FLOOR = `process.env.UPSTREAM = process.env.BACKEND_URL + '/api';
await import(${JSON.stringify(path.join(benchRoot, 'src', 'floor-hop.mjs'))});
`;

async function buildVariant(name: string, spec: string, base: string): Promise<Variant> {
  const require = createRequire(import.meta.url);
  const ts = require('typescript') as typeof import('typescript');
  const dir = path.join(base, name);
  const out = path.join(dir, 'dist', 'server');
  await mkdir(out, { recursive: true });
  const floor = spec === 'tcp-floor' || spec === 'http-floor';
  const sources = floor ? new Map<string, string>() : serverSources(spec);
  if (spec === 'tcp-floor') await writeFile(path.join(out, 'main.js'), TCP_FLOOR);
  if (spec === 'http-floor') await writeFile(path.join(out, 'main.js'), HTTP_FLOOR);
  for (const [file, source] of sources) {
    const js = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2023,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        esModuleInterop: true,
      },
    }).outputText;
    await writeFile(path.join(out, file.replace(/\.ts$/, '.js')), js);
  }
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(path.join(root, 'frontend', 'node_modules'), path.join(dir, 'node_modules'));
  return { name, spec, dir };
}

// ---------------------------------------------------------------------------------------------
// The run.

/** The kernel's share of a process's CPU time (stime), in ms. */
function sysMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

interface Level {
  concurrency: number;
  perSlot: number;
}

interface Sample {
  cpuMsPerAnswer: number;
  /** The kernel's share (stime). */
  sysMsPerAnswer: number;
  peakMb: number;
  answers: number;
  broken: number;
  errors: string[];
  ttft: number[];
  gaps: number[];
  otherCpuCores: number;
}

async function main(): Promise<void> {
  const specs = values('--variant');
  const variantSpecs = (specs.length > 0 ? specs : ['before=9df2300', 'worktree=worktree']).map(
    (s) => {
      const eq = s.indexOf('=');
      return eq === -1 ? { name: s, spec: s } : { name: s.slice(0, eq), spec: s.slice(eq + 1) };
    },
  );
  const levels: Level[] = (value('--levels') ?? '1x30,100x5').split(',').map((l) => {
    const [concurrency, perSlot] = l.split('x').map(Number);
    return { concurrency: concurrency ?? 1, perSlot: perSlot ?? 1 };
  });
  const rounds = Number(value('--rounds') ?? 8);
  const [warmConcurrency, warmPerSlot] = (value('--warmup') ?? '100x5').split('x').map(Number);
  const warmup = { concurrency: warmConcurrency ?? 100, perSlot: warmPerSlot ?? 5 };
  const nodeArgs = (value('--node-args') ?? '').split(' ').filter(Boolean);
  const serviceNode = value('--node') ?? process.execPath;

  const work = await mkdtemp(path.join(tmpdir(), 'bench-proxy-'));
  const variants: Variant[] = [];
  let fake: Service | undefined;
  try {
    for (const { name, spec } of variantSpecs) variants.push(await buildVariant(name, spec, work));
    const staticDir = path.join(work, 'static');
    await mkdir(staticDir);
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><div id="root"></div>');

    const fakePort = await freePort();
    fake = startProcess(
      'fake-backend',
      process.execPath,
      ['--import', 'tsx', path.join(benchRoot, 'src', 'proxy.ts'), '--fake-backend'].concat([
        '--chunks',
        String(CHUNKS),
        '--delay',
        String(DELAY_MS),
      ]),
      benchRoot,
      { PATH: process.env.PATH ?? '', PORT: String(fakePort) },
      path.join(work, 'fake-backend.log'),
    );
    const backendUrl = `http://127.0.0.1:${fakePort}`;
    await waitForHttp(`${backendUrl}/api/health`, fake);

    const maxConcurrency = Math.max(warmup.concurrency, ...levels.map((l) => l.concurrency));
    for (const v of variants) {
      const port = await freePort();
      v.service = startProcess(
        `frontend-${v.name}`,
        serviceNode,
        [...nodeArgs, 'dist/server/main.js'],
        v.dir,
        {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          PORT: String(port),
          HOST: '127.0.0.1',
          BACKEND_URL: backendUrl,
          LOG_LEVEL: 'info',
          STATIC_DIR: staticDir,
        },
        path.join(work, `frontend-${v.name}.log`),
      );
      v.url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${v.url}/`, v.service);
      const url = v.url;
      v.target = {
        name: v.name,
        format: 'app',
        dispatcher: loadAgent(),
        warmUrl: `${url}/api/health`,
        request: (i) => ({
          url: `${url}/api/conversations/c${i % 1000}/messages`,
          headers: { cookie: 'ai_session=bench-session-token-0123456789abcdef' },
          body: JSON.stringify({ content: 'Hello there, how are you?', model: 'fake/slow' }),
        }),
      };
      const failed = await openConnections(v.target, maxConcurrency);
      if (failed > 0) throw new Error(`${v.name}: ${failed} warm-up connections failed`);
      // Warm the JIT up as a server that has been running a while is.
      await runLoad(v.target, {
        concurrency: warmup.concurrency,
        perSlot: warmup.perSlot,
        rampMs: CHUNKS * DELAY_MS,
        expectedChunks: CHUNKS,
      });
      log(`${v.name} (${v.spec}): pid ${v.service.pid}, ${url}`);
    }

    const samples = new Map<string, Sample[]>(); // `${variant}|${level}`
    const key = (v: Variant, l: Level) => `${v.name}|${l.concurrency}x${l.perSlot}`;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        for (const level of levels) {
          const service = v.service as Service;
          await sleep(300);
          const sysBefore = sysMs(service.pid);
          const meter = new PhaseMeter([service.group()]);
          const load = await runLoad(v.target as StreamTarget, {
            concurrency: level.concurrency,
            perSlot: level.perSlot,
            rampMs: CHUNKS * DELAY_MS,
            expectedChunks: CHUNKS,
          });
          const phase = meter.stop();
          const sysUsed = sysMs(service.pid) - sysBefore;
          if (crashed(service)) throw new Error(`${v.name} exited:\n${service.tail()}`);
          const g = phase.groups[service.name];
          const answers = load.results.length;
          const broken = load.results.filter((r) => !r.ok);
          const sample: Sample = {
            cpuMsPerAnswer: (g?.cpuMs ?? NaN) / answers,
            sysMsPerAnswer: sysUsed / answers,
            peakMb: mb(g?.peakKb ?? NaN),
            answers,
            broken: broken.length,
            errors: broken.slice(0, 3).map((r) => r.error ?? ''),
            ttft: load.results.flatMap((r) =>
              r.chunks[0] === undefined ? [] : [r.chunks[0] - r.startedAt],
            ),
            gaps: load.results.flatMap((r) =>
              r.chunks.slice(1).map((t, i) => t - (r.chunks[i] ?? t) - DELAY_MS),
            ),
            otherCpuCores: phase.otherCpuMs / phase.wallMs,
          };
          const list = samples.get(key(v, level)) ?? [];
          list.push(sample);
          samples.set(key(v, level), list);
          log(
            `round ${round + 1}/${rounds} ${v.name} ${level.concurrency}x${level.perSlot}: ` +
              `${fmt(sample.cpuMsPerAnswer, 2)} ms CPU/answer ` +
              `(${fmt(sample.sysMsPerAnswer, 2)} system), peak ${fmt(sample.peakMb, 0)} MB, ` +
              `${sample.broken} broken, other load ${fmt(sample.otherCpuCores, 2)} cores`,
          );
        }
      }
    }

    const median = (xs: number[]) => percentile(xs, 50);
    const nodeVersion = execFileSync(serviceNode, ['--version'], { encoding: 'utf8' }).trim();
    const lines: string[] = [
      `Frontend proxy: CPU per streamed answer (${CHUNKS} events, ${DELAY_MS} ms apart), ` +
        `${rounds} rounds alternating; node ${nodeVersion}.`,
      '',
      variants.map((v) => `- ${v.name}: ${v.spec}`).join('\n'),
      '',
    ];
    for (const level of levels) {
      const baseSamples = samples.get(key(variants[0] as Variant, level)) ?? [];
      const rows = variants.map((v) => {
        const s = samples.get(key(v, level)) ?? [];
        const cpu = s.map((x) => x.cpuMsPerAnswer);
        const ratios = s.map((x, i) => x.cpuMsPerAnswer / (baseSamples[i]?.cpuMsPerAnswer ?? NaN));
        const answers = s.reduce((n, x) => n + x.answers, 0);
        const broken = s.reduce((n, x) => n + x.broken, 0);
        return [
          v.name,
          `${answers - broken} / ${broken}`,
          fmt(median(cpu), 2),
          `${fmt(Math.min(...cpu), 2)}–${fmt(Math.max(...cpu), 2)}`,
          fmt(median(s.map((x) => x.sysMsPerAnswer)), 2),
          `×${fmt(median(ratios), 2)}`,
          fmt(Math.max(...s.map((x) => x.peakMb)), 0),
          fmt(median(s.flatMap((x) => x.ttft)), 1),
          fmt(
            percentile(
              s.flatMap((x) => x.gaps),
              99,
            ),
            2,
          ),
          fmt(median(s.map((x) => x.otherCpuCores)), 2),
        ];
      });
      lines.push(
        `### ${level.concurrency} concurrent x ${level.perSlot} per slot`,
        '',
        table(
          [
            'variant',
            'ok / broken',
            'CPU ms/answer (median)',
            'min–max',
            'of which system (median)',
            `ratio to ${variants[0]?.name ?? ''} (median)`,
            'peak RSS MB',
            'TTFT p50 ms',
            `gap−${DELAY_MS} p99 ms`,
            'other load (cores)',
          ],
          rows,
        ),
        '',
      );
      for (const v of variants) {
        const errors = (samples.get(key(v, level)) ?? []).flatMap((x) => x.errors);
        if (errors.length > 0) lines.push(`${v.name} errors: ${errors.slice(0, 3).join('; ')}`);
      }
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  } finally {
    for (const v of variants) if (v.service) await stopService(v.service);
    if (fake) await stopService(fake);
    if (nodeArgs.length > 0) log(`logs and profiles kept in ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

if (args.includes('--fake-backend')) {
  fakeBackend();
} else {
  await main();
}
