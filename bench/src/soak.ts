/**
 * Soak: concurrent streams for a long time through nginx (TLS), frontend and backend. Watches
 * for broken streams, memory growth, the backend's event-loop delay (its /metrics), and open
 * file descriptors coming back to the baseline afterwards.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { backendMemory, metric, sampleOf, scrape, setupAdmin, type BackendMemory } from './api.js';
import { PhaseMeter, snapshot, type PhaseResult, type ProcGroup } from './procs.js';
import {
  crashed,
  startBackend,
  startFake,
  startFrontend,
  startNginx,
  stopService,
  type Service,
} from './services.js';
import { loadAgent, runStream, type StreamTarget } from './stream.js';
import { fmt, log, mb, sleep, summarize, table, type Summary } from './util.js';

export interface SoakOptions {
  dir: string;
  seconds: number;
  concurrency: number;
  chunks: number;
  delayMs: number;
  /** How long to wait for file descriptors to come back to the baseline afterwards. */
  fdWaitSeconds: number;
  /** Extra environment of the backend, e.g. { DUCKDB_MEMORY_LIMIT: '128MB' }. */
  backendEnv: Record<string, string>;
}

export interface SoakSample {
  atS: number;
  rssMb: Record<string, number>;
  fds: Record<string, number>;
  /** The backend's nodejs_eventloop_lag_p99_seconds since the previous scrape, in ms. */
  backendLoopP99Ms: number;
  /** The backend's V8 heap and DuckDB memory at this sample (the same scrape). */
  backendMemory: BackendMemory;
  streamsDone: number;
}

export interface SoakReport {
  options: Omit<SoakOptions, 'dir'>;
  /** Seconds after the client closed when each process's fds were back at the baseline (null: not within the wait). */
  fdsBackAfterS: Record<string, number | null>;
  streams: number;
  broken: number;
  errorSamples: string[];
  ttft: Summary;
  gap: Summary;
  samples: SoakSample[];
  baseline: { rssMb: Record<string, number>; fds: Record<string, number> };
  warmedAtS: number;
  after: { fds: Record<string, number>; secondsToBaseline: number | null };
  loopP99Ms: Summary;
  probes: { frontend: Summary; backend: Summary };
  phase: PhaseResult;
  crashes: string[];
}

/** Fixed-width histogram (0.05 ms buckets up to 60 s): millions of gaps, constant memory. */
class Histogram {
  private readonly counts = new Uint32Array(1_200_000);
  private n = 0;
  private max = -Infinity;
  private sum = 0;
  add(ms: number): void {
    const i = Math.min(this.counts.length - 1, Math.max(0, Math.round(ms * 20) + 200_000));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.n++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }
  private at(p: number): number {
    const rank = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return (i - 200_000) / 20;
    }
    return NaN;
  }
  summary(): Summary {
    if (this.n === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
    return {
      n: this.n,
      p50: this.at(50),
      p99: this.at(99),
      max: this.max,
      mean: this.sum / this.n,
    };
  }
}

export async function soakBench(o: SoakOptions): Promise<SoakReport> {
  const services: Service[] = [];
  const crashes: string[] = [];
  const agent = { current: null as ReturnType<typeof loadAgent> | null };
  try {
    const fake = await startFake(o.dir);
    services.push(fake.service);
    const backend = await startBackend({
      dir: o.dir,
      databasePath: path.join(o.dir, 'soak.db'),
      upstreamUrl: fake.url,
      env: o.backendEnv,
    });
    services.push(backend.service);
    const frontend = await startFrontend(o.dir, backend.url);
    services.push(frontend.service);
    const nginx = await startNginx(o.dir, frontend.port);
    services.push(nginx.service);
    const { cookie } = await setupAdmin(backend.url);
    const groups: ProcGroup[] = [
      backend.service.group(),
      frontend.service.group(),
      nginx.service.group(),
    ];
    const snap = () => {
      const rssMb: Record<string, number> = {};
      const fds: Record<string, number> = {};
      for (const g of groups) {
        const s = snapshot(g);
        rssMb[g.name] = mb(s.rssKb);
        fds[g.name] = s.fds;
      }
      return { rssMb, fds };
    };
    const baseline = snap();
    await metric(backend.url, 'nodejs_eventloop_lag_p99_seconds'); // resets the histogram

    const tls = loadAgent({ ca: await readFile(nginx.certFile, 'utf8') });
    agent.current = tls;
    const directive = `[fake chunks=${o.chunks} delay=${o.delayMs}]`;
    const newConversation = async (): Promise<string> => {
      const { statusCode, body } = await request(`${nginx.url}/api/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ model: 'fake/slow' }),
        dispatcher: tls,
      });
      const json = (await body.json()) as { id?: string };
      if (statusCode !== 201 || !json.id) throw new Error(`create conversation: ${statusCode}`);
      return json.id;
    };

    const ttft = new Histogram();
    const gap = new Histogram();
    let streams = 0;
    let broken = 0;
    const errorSamples: string[] = [];
    const fail = (message: string) => {
      broken++;
      if (errorSamples.length < 5 && !errorSamples.includes(message)) errorSamples.push(message);
    };
    const samples: SoakSample[] = [];
    const frontendProbe: number[] = [];
    const backendProbe: number[] = [];
    const started = performance.now();
    const deadline = started + o.seconds * 1000;
    const streamMs = o.chunks * o.delayMs + 50;
    const meter = new PhaseMeter(groups);

    // Each slot is a user chatting without pause: 10 answers per conversation, then a new one.
    const slot = async (s: number) => {
      await sleep((s * streamMs) / o.concurrency);
      let conversation = '';
      for (let n = 0; performance.now() < deadline; n++) {
        if (n % 10 === 0) {
          try {
            conversation = await newConversation();
          } catch (error) {
            fail(String(error));
            await sleep(1000);
            continue;
          }
        }
        const target: StreamTarget = {
          name: 'soak',
          format: 'app',
          dispatcher: tls,
          warmUrl: `${nginx.url}/api/health`,
          request: () => ({
            url: `${nginx.url}/api/conversations/${conversation}/messages`,
            headers: { cookie },
            body: JSON.stringify({ content: `Soak ${s}-${n} ${directive}` }),
          }),
        };
        const r = await runStream(target, n, o.chunks);
        streams++;
        if (!r.ok) {
          fail(r.error ?? '?');
          continue;
        }
        ttft.add((r.chunks[0] ?? NaN) - r.startedAt);
        for (let k = 1; k < r.chunks.length; k++) {
          gap.add((r.chunks[k] ?? 0) - (r.chunks[k - 1] ?? 0) - o.delayMs);
        }
      }
    };
    const probe = async (url: string, out: number[]) => {
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          const r = await request(url);
          await r.body.dump();
          out.push(performance.now() - t);
        } catch {
          out.push(NaN);
        }
        await sleep(1000);
      }
    };
    const sampleEvery = Math.min(10_000, Math.max(2_000, (o.seconds * 1000) / 60));
    const watch = async () => {
      while (performance.now() < deadline) {
        await sleep(sampleEvery);
        const { rssMb, fds } = snap();
        const metrics = await scrape(backend.url);
        samples.push({
          atS: (performance.now() - started) / 1000,
          rssMb,
          fds,
          backendLoopP99Ms: sampleOf(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
          backendMemory: backendMemory(metrics),
          streamsDone: streams,
        });
        const last = samples.at(-1);
        log(
          `soak: ${fmt(last?.atS, 0)} s, ${streams} streams, ${broken} broken, RSS backend ${fmt(rssMb.backend, 0)} MB frontend ${fmt(rssMb.frontend, 0)} MB, ` +
            `fds backend ${fds.backend} frontend ${fds.frontend}, backend loop p99 ${fmt(last?.backendLoopP99Ms, 1)} ms`,
        );
        for (const s of services) if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
      }
    };
    log(`soak: ${o.concurrency} streams for ${o.seconds} s through nginx, frontend and backend`);
    await Promise.all([
      ...Array.from({ length: o.concurrency }, (_, s) => slot(s)),
      probe(`${frontend.url}/favicon.svg`, frontendProbe),
      probe(`${backend.url}/api/health`, backendProbe),
      watch(),
    ]);
    const phase = meter.stop();

    // Afterwards: the client goes away; every socket and file should be released.
    await tls.close();
    agent.current = null;
    const closedAt = performance.now();
    let after = snap();
    const fdsBackAfterS: Record<string, number | null> = {};
    for (const g of groups) fdsBackAfterS[g.name] = null;
    for (;;) {
      after = snap();
      const at = (performance.now() - closedAt) / 1000;
      for (const g of groups) {
        if (
          fdsBackAfterS[g.name] === null &&
          (after.fds[g.name] ?? 0) <= (baseline.fds[g.name] ?? 0)
        ) {
          fdsBackAfterS[g.name] = at;
        }
      }
      if (groups.every((g) => fdsBackAfterS[g.name] !== null) || at >= o.fdWaitSeconds) break;
      await sleep(1000);
    }
    const backTimes = Object.values(fdsBackAfterS);
    const secondsToBaseline = backTimes.every((t) => t !== null)
      ? Math.max(...(backTimes as number[]))
      : null;
    const warmedAtS = Math.min(60, o.seconds * 0.2);
    for (const s of services) if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
    return {
      options: {
        seconds: o.seconds,
        concurrency: o.concurrency,
        chunks: o.chunks,
        delayMs: o.delayMs,
        fdWaitSeconds: o.fdWaitSeconds,
        backendEnv: o.backendEnv,
      },
      fdsBackAfterS,
      streams,
      broken,
      errorSamples,
      ttft: ttft.summary(),
      gap: gap.summary(),
      samples,
      baseline,
      warmedAtS,
      after: { fds: after.fds, secondsToBaseline },
      loopP99Ms: summarize(samples.map((s) => s.backendLoopP99Ms).filter(Number.isFinite)),
      probes: {
        frontend: summarize(frontendProbe.filter(Number.isFinite)),
        backend: summarize(backendProbe.filter(Number.isFinite)),
      },
      phase,
      crashes: [...new Set(crashes)],
    };
  } finally {
    await agent.current?.close().catch(() => undefined);
    for (const s of services.reverse()) {
      if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
}

/** The backend's RSS split into V8's heap, DuckDB's own accounting and the rest (code, allocators). */
function backendMemoryLine(warmed: SoakSample | undefined, last: SoakSample | undefined): string {
  if (!warmed?.backendMemory || !last?.backendMemory) return '';
  const parts = (s: SoakSample) => {
    const m = s.backendMemory;
    const duckdb = Object.values(m.duckdbMb).reduce((a, b) => a + b, 0);
    return {
      heap: m.heapTotalMb,
      used: m.heapUsedMb,
      duckdb,
      rest: (s.rssMb.backend ?? NaN) - m.heapTotalMb - duckdb,
    };
  };
  const describe = (s: SoakSample) => {
    const p = parts(s);
    const tags = Object.entries(s.backendMemory.duckdbMb)
      .sort((a, b) => b[1] - a[1])
      .map(([tag, v]) => `${tag} ${fmt(v, 0)}`)
      .join(', ');
    return `V8 heap ${fmt(p.heap, 0)} MB (${fmt(p.used, 0)} used, garbage included), DuckDB ${fmt(p.duckdb, 0)} MB (${tags}), the rest ${fmt(p.rest, 0)} MB`;
  };
  const a = parts(warmed);
  const b = parts(last);
  const delta = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x, 0)}`;
  return (
    `Backend memory from its /metrics: at ${fmt(warmed.atS, 0)} s ${describe(warmed)}; at the end ${describe(last)}. ` +
    `Growth after warm-up: V8 heap ${delta(b.heap - a.heap)} MB, DuckDB ${delta(b.duckdb - a.duckdb)} MB, the rest (code, Node's and the C allocator's memory) ${delta(b.rest - a.rest)} MB.`
  );
}

export function soakMarkdown(r: SoakReport): string {
  const names = Object.keys(r.baseline.rssMb);
  const warmed = r.samples.find((s) => s.atS >= r.warmedAtS) ?? r.samples[0];
  const last = r.samples.at(-1);
  const peak = (name: string) => Math.max(...r.samples.map((s) => s.rssMb[name] ?? 0));
  const lines = [
    `${r.options.concurrency} concurrent streams (${r.options.chunks} chunks, ${r.options.delayMs} ms apart; each slot sends without pause, 10 answers per conversation) for ${r.options.seconds} s through nginx (TLS), frontend and backend${
      Object.keys(r.options.backendEnv).length
        ? ` (backend started with ${Object.entries(r.options.backendEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')})`
        : ''
    }: **${r.streams} streams, ${r.broken} broken**${r.errorSamples.length ? ` (${r.errorSamples.join(' | ')})` : ''}. TTFT p50 ${fmt(r.ttft.p50)} ms, p99 ${fmt(r.ttft.p99)} ms; gap−${r.options.delayMs} p50 ${fmt(r.gap.p50, 2)} ms, p99 ${fmt(r.gap.p99, 2)} ms.`,
    '',
    table(
      [
        'process',
        'RSS before load MB',
        `RSS at ${fmt(warmed?.atS, 0)} s MB`,
        'RSS at end MB',
        'peak sampled MB',
        'growth after warm-up MB',
        'fds before',
        'fds at end of load',
        'fds after wait',
      ],
      names.map((n) => [
        n,
        fmt(r.baseline.rssMb[n], 0),
        fmt(warmed?.rssMb[n], 0),
        fmt(last?.rssMb[n], 0),
        fmt(peak(n), 0),
        fmt((last?.rssMb[n] ?? NaN) - (warmed?.rssMb[n] ?? NaN), 1),
        String(r.baseline.fds[n]),
        String(last?.fds[n] ?? '–'),
        String(r.after.fds[n]),
      ]),
    ),
    '',
    `File descriptors back to the baseline after the client closed its connections: ${Object.entries(
      r.fdsBackAfterS,
    )
      .map(
        ([n, t]) =>
          `${n} ${t === null ? `**not within ${r.options.fdWaitSeconds} s**` : `after ${fmt(t, 0)} s`}`,
      )
      .join(', ')} (nginx keeps idle connections to the frontend for its keepalive_timeout, 60 s).`,
    backendMemoryLine(warmed, last),
    `Backend event-loop delay (nodejs_eventloop_lag_p99_seconds, scraped every ${fmt((r.samples[1]?.atS ?? 0) - (r.samples[0]?.atS ?? 0), 0)} s, each scrape the p99 since the previous one): median of scrapes ${fmt(r.loopP99Ms.p50, 1)} ms, worst ${fmt(r.loopP99Ms.max, 1)} ms.`,
    `Probe latency once a second (a rough event-loop check; the frontend has no /metrics): frontend GET /favicon.svg p50 ${fmt(r.probes.frontend.p50, 1)} ms, p99 ${fmt(r.probes.frontend.p99, 1)} ms; backend GET /api/health p50 ${fmt(r.probes.backend.p50, 1)} ms, p99 ${fmt(r.probes.backend.p99, 1)} ms.`,
    `CPU over the soak per answer: backend ${fmt((r.phase.groups.backend?.cpuMs ?? 0) / r.streams, 2)} ms, frontend ${fmt((r.phase.groups.frontend?.cpuMs ?? 0) / r.streams, 2)} ms, nginx ${fmt((r.phase.groups.nginx?.cpuMs ?? 0) / r.streams, 2)} ms.`,
    '',
  ];
  if (r.crashes.length) lines.push(`Crashes: ${r.crashes.join(' | ')}`, '');
  return lines.join('\n');
}
