/**
 * The backend alone under the relay's streaming load, side by side for two or more variants:
 * its CPU per answer (all its threads, /proc/<pid>/stat), time to first token p50 and the added
 * delay between chunks p99, and its RSS (at rest after setup, the peak during each level, after
 * it). For trying a setting, a Node flag, another Node binary or
 * another build before adopting it; the relay benchmark (relay.ts) stays the figure of record.
 *
 *   cd bench && npx tsx src/backend-ab.ts --variant NAME[:OPTION;OPTION…]… [--levels 100x6,1000x2]
 *                                         [--rounds 3]
 *
 * Options of a variant (variants.ts): `dist=DIR` (another build), `node=BIN`, `flag=--x`,
 * `root=DIR` (a backend directory of its own, e.g. the release's with another start command),
 * `KEY=VALUE` (an environment variable of the backend).
 * Example: `--variant main --variant semi8:flag=--max-semi-space-size=8`.
 *
 * Each variant of each round starts the fake and a backend on a fresh database file with 1,000
 * conversations; variants alternate within each round, so a noisy shared machine hits them
 * alike. Levels are as in relay.ts (`concurrency x answers per slot`, 50 chunks 10 ms apart).
 * Reported: every run, then the median over rounds (CPU also as a ratio to the first variant).
 */
import path from 'node:path';
import { createConversations, setupAdmin } from './api.js';
import { PhaseMeter, memoryKb } from './procs.js';
import { prepareRelease } from './services.js';
import { loadAgent, openConnections, runLoad, type StreamTarget } from './stream.js';
import { fmt, log, optionValues, percentile, sleep, table } from './util.js';
import { parseVariant, withVariantBackend, type Variant } from './variants.js';

const values = (name: string): string[] => optionValues(name);
const value = (name: string): string | undefined => values(name)[0];

const variants = values('--variant').map(parseVariant);
if (variants.length === 0) variants.push({ name: 'release', options: {} });
const levels = (value('--levels') ?? '100x6,1000x2').split(',').map((level) => {
  const [concurrency, perSlot] = level.split('x').map(Number);
  return { concurrency: concurrency!, perSlot: perSlot! };
});
const rounds = Number(value('--rounds') ?? 3);
const CHUNKS = 50;
const DELAY_MS = 10;

interface Run {
  variant: string;
  round: number;
  idleMb: number;
  levels: Array<{
    cpuMs: number;
    peakMb: number;
    afterMb: number;
    errors: number;
    /** Time to first token p50 and the added gap between chunks (minus the fake's delay) p99, ms. */
    ttftP50: number;
    gapP99: number;
  }>;
}

async function runVariant(variant: Variant, round: number): Promise<Run> {
  return withVariantBackend(
    variant,
    (dir) => path.join(dir, 'app.db'),
    async (backend) => {
      const agent = loadAgent();
      try {
        const { cookie } = await setupAdmin(backend.url);
        const conversations = await createConversations(backend.url, cookie, 1000, 'fake/slow');
        const target: StreamTarget = {
          name: 'backend',
          format: 'app',
          dispatcher: agent,
          warmUrl: `${backend.url}/api/health`,
          request: (i) => ({
            url: `${backend.url}/api/conversations/${conversations[i % conversations.length]}/messages`,
            headers: { cookie },
            body: JSON.stringify({
              content: `Bench stream ${i} [fake chunks=${CHUNKS} delay=${DELAY_MS}]`,
            }),
          }),
        };
        const idleMb = memoryKb(backend.service.pid).rss / 1024;
        const results: Run['levels'] = [];
        let index = 0;
        for (const level of levels) {
          await openConnections(target, level.concurrency);
          const meter = new PhaseMeter([backend.service.group()]);
          const load = await runLoad(target, {
            ...level,
            rampMs: CHUNKS * DELAY_MS + 50,
            expectedChunks: CHUNKS,
            firstIndex: index,
          });
          index += level.concurrency * level.perSlot;
          const group = Object.values(meter.stop().groups)[0]!;
          await sleep(3000); // the final saves and the sockets settle
          const ok = load.results.filter((r) => r.ok);
          results.push({
            ttftP50: percentile(
              ok.map((r) => (r.chunks[0] ?? NaN) - r.startedAt),
              50,
            ),
            gapP99: percentile(
              ok.flatMap((r) => r.chunks.slice(1).map((at, k) => at - r.chunks[k]! - DELAY_MS)),
              99,
            ),
            cpuMs: group.cpuMs / load.results.length,
            peakMb: group.peakKb / 1024,
            afterMb: memoryKb(backend.service.pid).rss / 1024,
            errors: load.results.filter((r) => !r.ok).length,
          });
        }
        return { variant: variant.name, round, idleMb, levels: results };
      } finally {
        await agent.close();
      }
    },
  );
}

async function main(): Promise<void> {
  await prepareRelease();
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const run = await runVariant(variant, round);
      log(
        `round ${round} ${variant.name}: idle ${fmt(run.idleMb, 0)} MB; ` +
          run.levels
            .map(
              (l, i) =>
                `${levels[i]!.concurrency} streams: ${fmt(l.cpuMs, 2)} ms CPU/answer, TTFT p50 ` +
                `${fmt(l.ttftP50, 1)} ms, gap p99 +${fmt(l.gapP99, 1)} ms, peak ` +
                `${fmt(l.peakMb, 0)} MB, after ${fmt(l.afterMb, 0)} MB, ${l.errors} errors`,
            )
            .join('; '),
      );
      runs.push(run);
    }
  }
  const median = (name: string, pick: (run: Run) => number) =>
    percentile(runs.filter((r) => r.variant === name).map(pick), 50);
  const header = ['variant', 'idle RSS MB'];
  for (const level of levels) {
    header.push(
      `${level.concurrency} streams: CPU ms/answer (ratio)`,
      'TTFT p50 ms',
      'gap−10 p99 ms',
      'peak RSS MB',
      'RSS after MB',
      'errors',
    );
  }
  const base = variants[0]!.name;
  const rows = variants.map((variant) => {
    const row = [
      variant.name,
      fmt(
        median(variant.name, (r) => r.idleMb),
        0,
      ),
    ];
    levels.forEach((_, i) => {
      const cpu = median(variant.name, (r) => r.levels[i]!.cpuMs);
      const baseCpu = median(base, (r) => r.levels[i]!.cpuMs);
      row.push(
        `${fmt(cpu, 2)} (×${fmt(cpu / baseCpu, 2)})`,
        fmt(
          median(variant.name, (r) => r.levels[i]!.ttftP50),
          1,
        ),
        fmt(
          median(variant.name, (r) => r.levels[i]!.gapP99),
          1,
        ),
        fmt(
          median(variant.name, (r) => r.levels[i]!.peakMb),
          0,
        ),
        fmt(
          median(variant.name, (r) => r.levels[i]!.afterMb),
          0,
        ),
        String(
          runs
            .filter((r) => r.variant === variant.name)
            .reduce((sum, r) => sum + r.levels[i]!.errors, 0),
        ),
      );
    });
    return row;
  });
  console.log(
    `\nMedians over ${rounds} rounds (backend alone, ${CHUNKS} chunks ${DELAY_MS} ms apart):\n`,
  );
  console.log(table(header, rows));
}

await main();
process.exit(0);
