/**
 * Streaming relay overhead: the same streamed answer (50 chunks, 10 ms apart, from the fake)
 * five ways — straight from the fake; through two bare Node hops (floor-hop.mjs: what any two
 * Node processes in between cost on this machine, the floor for ours); through the backend;
 * through frontend and backend; through nginx (TLS), frontend and backend — at several
 * concurrency levels, in one run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createConversations, dbCalls, setupAdmin, type DbCalls } from './api.js';
import { PhaseMeter, threadCpuMs, type PhaseResult } from './procs.js';
import {
  crashed,
  startBackend,
  startBareHop,
  startFake,
  startFrontend,
  startNginx,
  stopService,
  type Service,
} from './services.js';
import {
  loadAgent,
  openConnections,
  runLoad,
  type StreamResult,
  type StreamTarget,
} from './stream.js';
import { fmt, log, mb, ratio, sleep, summarize, table, type Summary } from './util.js';

export const VARIANTS = [
  'direct',
  'bare hops',
  'backend',
  'frontend+backend',
  'nginx+frontend+backend',
] as const;
export type Variant = (typeof VARIANTS)[number];

export interface RelayLevel {
  concurrency: number;
  perSlot: number;
  /**
   * Interleaved rounds (default 1): each variant runs `perSlot / rounds` streams per slot per
   * round, in turn, the order reversed every other round. At 1 stream the variants differ by
   * fractions of a millisecond, about what the machine drifts in the half-minute one variant
   * takes: rounds spread that drift over all of them.
   */
  rounds?: number;
}

export interface RelayOptions {
  dir: string;
  levels: RelayLevel[];
  /**
   * The variants to run (default: all five). The variants run one after another on one backend,
   * which keeps the memory it took in each: a variant's peak RSS starts from where the one
   * before it ended. Running one app variant alone gives its peak on a fresh backend.
   */
  variants?: readonly Variant[];
  chunks: number;
  delayMs: number;
}

export interface VariantResult {
  variant: Variant;
  concurrency: number;
  /** Interleaved rounds the streams ran in (RelayLevel.rounds). */
  rounds: number;
  streams: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  /** Most requests open at once (sent, not yet ended). */
  maxInFlight: number;
  /** Most answers streaming at once (between their first and last chunk). */
  maxStreaming: number;
  ttft: Summary;
  /** Inter-chunk gap minus the fake's delay. */
  gap: Summary;
  duration: Summary;
  phase: PhaseResult;
  /** CPU ms per streamed answer, by process group, plus the load client. */
  cpuPerAnswer: Record<string, number>;
  /** Peak RSS in MB by process group during this variant. */
  peakMb: Record<string, number>;
  /** Where the backend's time goes, per answer: its JS thread, and its database calls. */
  backendDetail: {
    mainThreadCpuMs: number;
    queries: number;
    queryMs: number;
    transactions: number;
    transactionMs: number;
  };
}

export interface RelayReport {
  options: Omit<RelayOptions, 'dir'>;
  results: VariantResult[];
  crashes: string[];
  peakResetWorked: boolean;
}

export async function relayBench(o: RelayOptions): Promise<RelayReport> {
  const services: Service[] = [];
  const crashes: string[] = [];
  let peakResetWorked = true;
  const results: VariantResult[] = [];
  let targets: StreamTarget[] = [];
  try {
    const fake = await startFake(o.dir);
    services.push(fake.service);
    const bareInner = await startBareHop(o.dir, 'bare-inner', fake.url);
    services.push(bareInner.service);
    const bareOuter = await startBareHop(o.dir, 'bare-outer', bareInner.url);
    services.push(bareOuter.service);
    const backend = await startBackend({
      dir: o.dir,
      databasePath: path.join(o.dir, 'relay.db'),
      upstreamUrl: fake.url,
    });
    services.push(backend.service);
    const frontend = await startFrontend(o.dir, backend.url);
    services.push(frontend.service);
    const nginx = await startNginx(o.dir, frontend.port);
    services.push(nginx.service);
    log(
      `relay: fake ${fake.url}, backend ${backend.url}, frontend ${frontend.url}, nginx ${nginx.url}`,
    );

    const { cookie } = await setupAdmin(backend.url);
    const maxConcurrency = Math.max(...o.levels.map((l) => l.concurrency));
    const conversationCount = Math.max(maxConcurrency, 50);
    log(`relay: creating ${conversationCount} conversations`);
    const conversations = await createConversations(
      backend.url,
      cookie,
      conversationCount,
      'fake/slow',
    );

    const directive = `[fake chunks=${o.chunks} delay=${o.delayMs}]`;
    const ca = await readFile(nginx.certFile, 'utf8');
    // Each variant has a load client of its own, closed when its phase ends. With one shared
    // client, a variant's keep-alive connections stayed open (30 s) in the services it went
    // through, and the next variant's figures counted them: the backend held 1,000 idle sockets
    // of the backend variant while the frontend's 1,000 streamed through it.
    const agentFor = (name: Variant) =>
      loadAgent(name === 'nginx+frontend+backend' ? { ca } : undefined);
    const appTarget = (name: Variant, base: string): StreamTarget => ({
      name,
      format: 'app',
      dispatcher: agentFor(name),
      warmUrl: `${base}/api/health`,
      request: (i) => ({
        url: `${base}/api/conversations/${conversations[i % conversations.length]}/messages`,
        headers: { cookie },
        body: JSON.stringify({ content: `Bench stream ${i} ${directive}` }),
      }),
    });
    const upstreamTarget = (name: Variant, base: string, warmUrl: string): StreamTarget => ({
      name,
      format: 'openrouter',
      dispatcher: agentFor(name),
      warmUrl,
      request: (i) => ({
        url: `${base}/chat/completions`,
        headers: { authorization: 'Bearer sk-or-bench-key' },
        body: JSON.stringify({
          model: 'fake/slow',
          stream: true,
          messages: [{ role: 'user', content: `Bench stream ${i} ${directive}` }],
        }),
      }),
    });
    /** Closes the target's connections (in every service on its path) for a fresh client. */
    const renewClient = async (target: StreamTarget): Promise<void> => {
      await target.dispatcher.close();
      target.dispatcher = agentFor(target.name as Variant);
    };
    const makeTarget: Record<Variant, () => StreamTarget> = {
      direct: () => upstreamTarget('direct', fake.url, `${fake.url}/models`),
      'bare hops': () => upstreamTarget('bare hops', bareOuter.url, `${bareOuter.url}/health`),
      backend: () => appTarget('backend', backend.url),
      'frontend+backend': () => appTarget('frontend+backend', frontend.url),
      'nginx+frontend+backend': () => appTarget('nginx+frontend+backend', nginx.url),
    };
    targets = (o.variants ?? VARIANTS).map((variant) => makeTarget[variant]());
    const groups = [
      backend.service.group(),
      frontend.service.group(),
      nginx.service.group(),
      fake.service.group(),
      bareInner.service.group(),
      bareOuter.service.group(),
    ];
    const streamMs = o.chunks * o.delayMs + 50;
    let index = 0;

    log('relay: warm-up (10 streams per variant, not recorded)');
    for (const target of targets) {
      const warm = await runLoad(target, {
        concurrency: 10,
        perSlot: 1,
        rampMs: streamMs,
        expectedChunks: o.chunks,
        firstIndex: index,
      });
      index += 10;
      const bad = warm.results.find((r) => !r.ok);
      if (bad) throw new Error(`warm-up through ${target.name} failed: ${bad.error}`);
      await renewClient(target);
    }

    for (const level of o.levels) {
      const rounds = level.rounds ?? 1;
      const perRound = level.perSlot / rounds;
      if (!Number.isInteger(perRound)) {
        throw new Error(`relay level ${level.concurrency}x${level.perSlot}: not ${rounds} rounds`);
      }
      const runs = new Map<Variant, VariantRun[]>();
      for (let round = 0; round < rounds; round++) {
        // Every other round the other way round, so drift on the machine hits all variants alike.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          await sleep(1500); // let the previous variant's saves and sockets settle
          await openConnections(target, level.concurrency);
          const dbBefore = await dbCalls(backend.url);
          const mainBefore = threadCpuMs(backend.service.pid, backend.service.pid);
          const meter = new PhaseMeter(groups);
          const load = await runLoad(target, {
            concurrency: level.concurrency,
            perSlot: perRound,
            rampMs: streamMs,
            expectedChunks: o.chunks,
            firstIndex: index,
          });
          index += level.concurrency * perRound;
          const phase = meter.stop();
          const mainCpuMs = threadCpuMs(backend.service.pid, backend.service.pid) - mainBefore;
          await renewClient(target);
          const dbAfter = await dbCalls(backend.url);
          peakResetWorked &&= meter.peakResetWorked;
          const variant = target.name as Variant;
          runs.set(variant, [
            ...(runs.get(variant) ?? []),
            { load, phase, mainCpuMs, db: dbDelta(dbBefore, dbAfter) },
          ]);
          for (const s of services) if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
          if (crashes.length) throw new Error(crashes.join('\n'));
        }
      }
      for (const target of targets) {
        const variant = target.name as Variant;
        const variantRuns = runs.get(variant) ?? [];
        const all = variantRuns.flatMap((r) => r.load.results);
        const result = summarizeVariant(
          variant,
          level.concurrency,
          rounds,
          all,
          mergePhases(variantRuns.map((r) => r.phase)),
          o.delayMs,
        );
        result.maxInFlight = Math.max(...variantRuns.map((r) => r.load.maxInFlight));
        result.backendDetail = backendDetail(
          variantRuns.reduce((n, r) => n + r.mainCpuMs, 0),
          variantRuns.map((r) => r.db).reduce(addDb),
          all.length,
        );
        results.push(result);
        log(
          `relay: ${level.concurrency} × ${target.name}: ${result.ok}/${result.streams} ok, ` +
            `TTFT p50 ${fmt(result.ttft.p50)} ms p99 ${fmt(result.ttft.p99)} ms, ` +
            `gap−${o.delayMs} p50 ${fmt(result.gap.p50, 2)} p99 ${fmt(result.gap.p99, 2)} ms, ` +
            `CPU/answer backend ${fmt(result.cpuPerAnswer.backend, 2)} frontend ${fmt(result.cpuPerAnswer.frontend, 2)} ms` +
            (result.errors ? `; errors: ${result.errorSamples.join(' | ')}` : ''),
        );
      }
    }
  } finally {
    for (const target of targets) await target.dispatcher.close().catch(() => undefined);
    for (const s of services.reverse()) {
      if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
  return {
    options: { levels: o.levels, chunks: o.chunks, delayMs: o.delayMs },
    results,
    crashes: [...new Set(crashes)],
    peakResetWorked,
  };
}

function summarizeVariant(
  variant: Variant,
  concurrency: number,
  rounds: number,
  all: StreamResult[],
  phase: PhaseResult,
  delayMs: number,
): VariantResult {
  const ok = all.filter((r) => r.ok);
  const ttft: number[] = [];
  const gaps: number[] = [];
  const durations: number[] = [];
  for (const r of ok) {
    ttft.push((r.chunks[0] ?? NaN) - r.startedAt);
    for (let k = 1; k < r.chunks.length; k++) {
      gaps.push((r.chunks[k] ?? 0) - (r.chunks[k - 1] ?? 0) - delayMs);
    }
    durations.push(r.endedAt - r.startedAt);
  }
  const errorSamples = [...new Set(all.filter((r) => !r.ok).map((r) => r.error ?? '?'))].slice(
    0,
    3,
  );
  const cpuPerAnswer: Record<string, number> = {};
  const peakMb: Record<string, number> = {};
  for (const [name, g] of Object.entries(phase.groups)) {
    cpuPerAnswer[name] = g.cpuMs / all.length;
    peakMb[name] = mb(g.peakKb);
  }
  cpuPerAnswer.client = phase.clientCpuMs / all.length;
  return {
    variant,
    concurrency,
    rounds,
    streams: all.length,
    ok: ok.length,
    errors: all.length - ok.length,
    errorSamples,
    maxInFlight: 0,
    maxStreaming: maxOverlap(ok.map((r) => [r.chunks[0] ?? r.endedAt, r.endedAt])),
    ttft: summarize(ttft),
    gap: summarize(gaps),
    duration: summarize(durations),
    phase,
    cpuPerAnswer,
    peakMb,
    backendDetail: {
      mainThreadCpuMs: NaN,
      queries: NaN,
      queryMs: NaN,
      transactions: NaN,
      transactionMs: NaN,
    },
  };
}

/** The most intervals open at the same time. */
function maxOverlap(intervals: Array<[number, number]>): number {
  const events = intervals.flatMap(([a, b]): Array<[number, number]> => [
    [a, 1],
    [b, -1],
  ]);
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of events) {
    open += d;
    max = Math.max(max, open);
  }
  return max;
}

function backendDetail(
  mainCpuMs: number,
  db: DbCalls,
  answers: number,
): VariantResult['backendDetail'] {
  return {
    mainThreadCpuMs: mainCpuMs / answers,
    queries: db.queries / answers,
    queryMs: (db.querySeconds * 1000) / Math.max(1, db.queries),
    transactions: db.transactions / answers,
    transactionMs: (db.transactionSeconds * 1000) / Math.max(1, db.transactions),
  };
}

/** One round of one variant at one level. */
interface VariantRun {
  load: { results: StreamResult[]; maxInFlight: number };
  phase: PhaseResult;
  mainCpuMs: number;
  /** The backend's database calls during the round. */
  db: DbCalls;
}

function dbDelta(before: DbCalls, after: DbCalls): DbCalls {
  return {
    queries: after.queries - before.queries,
    querySeconds: after.querySeconds - before.querySeconds,
    transactions: after.transactions - before.transactions,
    transactionSeconds: after.transactionSeconds - before.transactionSeconds,
  };
}

function addDb(a: DbCalls, b: DbCalls): DbCalls {
  return {
    queries: a.queries + b.queries,
    querySeconds: a.querySeconds + b.querySeconds,
    transactions: a.transactions + b.transactions,
    transactionSeconds: a.transactionSeconds + b.transactionSeconds,
  };
}

/** A variant's rounds as one phase: times and CPU added up, the highest peak, the last RSS. */
function mergePhases(phases: PhaseResult[]): PhaseResult {
  const [first, ...rest] = phases;
  if (first === undefined) throw new Error('no rounds to merge');
  const merged: PhaseResult = structuredClone(first);
  for (const p of rest) {
    merged.wallMs += p.wallMs;
    merged.clientCpuMs += p.clientCpuMs;
    merged.otherCpuMs += p.otherCpuMs;
    for (const [name, g] of Object.entries(p.groups)) {
      const m = merged.groups[name];
      if (m === undefined) {
        merged.groups[name] = { ...g };
        continue;
      }
      m.cpuMs += g.cpuMs;
      m.peakKb = Math.max(m.peakKb, g.peakKb);
      m.rssKb = g.rssKb;
      m.fds = g.fds;
    }
  }
  return merged;
}

/**
 * CPU per answer of the processes a variant's streams pass through (the others idle meanwhile,
 * and are left out): the figure the issue's target is about for `frontend+backend`.
 */
function pathCpu(variant: Variant, cpu: (group: string) => number): number {
  switch (variant) {
    case 'direct':
      return 0;
    case 'bare hops':
      return cpu('bare-inner') + cpu('bare-outer');
    case 'backend':
      return cpu('backend');
    case 'frontend+backend':
      return cpu('backend') + cpu('frontend');
    case 'nginx+frontend+backend':
      return cpu('backend') + cpu('frontend') + cpu('nginx');
  }
}

/** Markdown tables of a relay run: one per concurrency level, ratios against `direct`. */
export function relayMarkdown(report: RelayReport): string {
  const out: string[] = [];
  const levels = [...new Set(report.results.map((r) => r.concurrency))];
  for (const c of levels) {
    const rows = report.results.filter((r) => r.concurrency === c);
    const direct = rows.find((r) => r.variant === 'direct');
    const dTtft = direct?.ttft.p50 ?? NaN;
    const dTtft99 = direct?.ttft.p99 ?? NaN;
    const rounds = rows[0]?.rounds ?? 1;
    out.push(
      `#### ${c} concurrent stream${c === 1 ? '' : 's'} (${rows[0]?.streams ?? 0} streams per variant` +
        `${rounds > 1 ? `, in ${rounds} interleaved rounds` : ''})\n`,
    );
    out.push(
      table(
        [
          'variant',
          'ok / errors',
          'max requests open / streaming',
          'TTFT p50 ms (added; ratio)',
          'TTFT p99 ms (added; ratio)',
          'gap−10 p50 / p99 ms',
          'duration p50 / p99 ms (ratio p50)',
        ],
        rows.map((r) => [
          r.variant,
          `${r.ok} / ${r.errors}`,
          `${r.maxInFlight} / ${r.maxStreaming}`,
          `${fmt(r.ttft.p50)} (+${fmt(r.ttft.p50 - dTtft)}; ${ratio(r.ttft.p50, dTtft)})`,
          `${fmt(r.ttft.p99)} (+${fmt(r.ttft.p99 - dTtft99)}; ${ratio(r.ttft.p99, dTtft99)})`,
          `${fmt(r.gap.p50, 2)} / ${fmt(r.gap.p99, 2)}`,
          `${fmt(r.duration.p50, 0)} / ${fmt(r.duration.p99, 0)} (${ratio(r.duration.p50, direct?.duration.p50 ?? NaN)})`,
        ]),
      ),
    );
    out.push('');
    out.push(
      table(
        [
          'variant',
          'CPU ms/answer: backend',
          'frontend',
          'nginx',
          'bare hops: inner + outer',
          'through the path: total',
          'fake',
          'load client',
          'other load on the machine (cores)',
          'peak RSS MB: backend',
          'frontend',
          'nginx (all)',
          'bare hops: inner / outer',
          'fake',
        ],
        rows.map((r) => {
          const cpu = (name: string): number => r.cpuPerAnswer[name] ?? 0;
          const bare = cpu('bare-inner') + cpu('bare-outer');
          return [
            r.variant,
            fmt(r.cpuPerAnswer.backend, 2),
            fmt(r.cpuPerAnswer.frontend, 2),
            fmt(r.cpuPerAnswer.nginx, 2),
            fmt(bare, 2),
            fmt(pathCpu(r.variant, cpu), 2),
            fmt(r.cpuPerAnswer.fake, 2),
            fmt(r.cpuPerAnswer.client, 2),
            fmt(r.phase.otherCpuMs / r.phase.wallMs, 2),
            fmt(r.peakMb.backend, 0),
            fmt(r.peakMb.frontend, 0),
            fmt(r.peakMb.nginx, 0),
            `${fmt(r.peakMb['bare-inner'], 0)} / ${fmt(r.peakMb['bare-outer'], 0)}`,
            fmt(r.peakMb.fake, 0),
          ];
        }),
      ),
    );
    out.push('');
    out.push(
      table(
        [
          'variant',
          'backend CPU ms/answer: JS thread',
          'other threads (DuckDB, libuv, GC)',
          'DB queries/answer',
          'avg query ms (incl. queue wait)',
          'DB transactions/answer',
          'avg transaction ms (incl. queue wait)',
        ],
        rows
          .filter((r) => r.variant !== 'direct' && r.variant !== 'bare hops')
          .map((r) => [
            r.variant,
            fmt(r.backendDetail.mainThreadCpuMs, 2),
            fmt((r.cpuPerAnswer.backend ?? NaN) - r.backendDetail.mainThreadCpuMs, 2),
            fmt(r.backendDetail.queries, 2),
            fmt(r.backendDetail.queryMs, 2),
            fmt(r.backendDetail.transactions, 2),
            fmt(r.backendDetail.transactionMs, 2),
          ]),
      ),
    );
    out.push('');
    const failed = rows.filter((r) => r.errors > 0);
    for (const r of failed)
      out.push(`- ${r.variant}: ${r.errors} broken: ${r.errorSamples.join(' | ')}`);
    if (failed.length) out.push('');
  }
  return out.join('\n');
}
