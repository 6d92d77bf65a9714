/**
 * UI: the production bundle's sizes, and in headless Chromium the time until a 500-message
 * conversation is shown, the main-thread time spent while an answer streams in, and a
 * 1,000-message conversation with code blocks (ui-long.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { request } from 'undici';
import {
  crashed,
  releaseRoot,
  startBackend,
  startFake,
  startFrontend,
  stopService,
  type Service,
} from './services.js';
import { launch, longConversationBench, longMarkdown, type LongReport } from './ui-long.js';
import { fmt, log, summarize, table, type Summary } from './util.js';

export interface UiOptions {
  dir: string;
  full: boolean;
  /** The database the db step generated (it has a signed-in user with a 500-message conversation). */
  databaseFile: string | null;
  sample?: { cookie: string; bigConversationId: string };
}

export interface Asset {
  file: string;
  raw: number;
  gzip: number;
  brotli: number | null;
  initial: boolean;
}

export interface UiReport {
  assets: Asset[];
  initialJsGzip: number;
  browser: string | null;
  load: {
    runs: number;
    shownMs: Summary;
    /** When the conversation's JSON had arrived (responseEnd of GET /api/conversations/:id). */
    dataMs: Summary;
    messages: number;
    /** JS actually fetched for the signed-in first screen (compressed bytes on the wire). */
    jsTransferred: number;
    jsFiles: string[];
  } | null;
  streaming: {
    chunks: number;
    delayMs: number;
    wallMs: number;
    taskMs: number;
    scriptMs: number;
    layoutMs: number;
    styleMs: number;
    tokens: number;
  } | null;
  long: LongReport | null;
  notes: string[];
  errors: string[];
}

export function bundleSizes(webDir: string): { assets: Asset[]; initialJsGzip: number } {
  const html = readFileSync(path.join(webDir, 'index.html'), 'utf8');
  const referenced = new Set(
    [...html.matchAll(/(?:src|href)="\/assets\/([^"]+)"/g)].map((m) => m[1] ?? ''),
  );
  const dir = path.join(webDir, 'assets');
  const assets: Asset[] = readdirSync(dir)
    .filter((f) => !f.endsWith('.gz') && !f.endsWith('.br'))
    .sort()
    .map((file) => {
      const full = path.join(dir, file);
      const raw = statSync(full).size;
      const gzip = existsSync(`${full}.gz`)
        ? statSync(`${full}.gz`).size
        : gzipSync(readFileSync(full), { level: 9 }).length;
      const brotli = existsSync(`${full}.br`) ? statSync(`${full}.br`).size : null;
      return { file, raw, gzip, brotli, initial: referenced.has(file) };
    });
  const initialJsGzip = assets
    .filter((a) => a.initial && a.file.endsWith('.js'))
    .reduce((n, a) => n + a.gzip, 0);
  return { assets, initialJsGzip };
}

export async function uiBench(o: UiOptions): Promise<UiReport> {
  const webDir = path.join(releaseRoot, 'frontend', 'dist', 'web');
  const report: UiReport = {
    ...bundleSizes(webDir),
    browser: null,
    load: null,
    streaming: null,
    long: null,
    notes: [],
    errors: [],
  };
  if (!existsSync('/usr/bin/chromium')) {
    report.notes.push('Browser timings skipped: /usr/bin/chromium is not installed.');
    return report;
  }
  try {
    const dir = path.join(o.dir, 'long');
    mkdirSync(dir, { recursive: true });
    report.long = await longConversationBench({ dir, full: o.full }, report.errors);
  } catch (error) {
    report.errors.push(
      `long conversation: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (!o.databaseFile || !o.sample) {
    report.notes.push(
      'The 500-message and streaming timings skipped: they use the database of the db step (run it too).',
    );
    return report;
  }
  const services: Service[] = [];
  let browser: Browser | null = null;
  try {
    const fake = await startFake(o.dir);
    services.push(fake.service);
    const backend = await startBackend({
      dir: o.dir,
      databasePath: o.databaseFile,
      upstreamUrl: fake.url,
    });
    services.push(backend.service);
    const frontend = await startFrontend(o.dir, backend.url);
    services.push(frontend.service);
    browser = await launch();
    report.browser = browser.version();
    const token = o.sample.cookie.split('=')[1] ?? '';
    const newPage = async () => {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addCookies([{ name: 'ai_session', value: token, url: frontend.url }]);
      const page = await context.newPage();
      page.on('pageerror', (e) => report.errors.push(`page error: ${e.message}`));
      page.on('response', (r) => {
        if (r.url().includes('/api/') && r.status() >= 400) {
          report.errors.push(`${r.request().method()} ${new URL(r.url()).pathname}: ${r.status()}`);
        }
      });
      return { context, page };
    };

    // Time until the 500 messages are in the document, from navigation start, each run in a
    // fresh context (empty cache): the first screen of a signed-in user opening the link.
    const runs = o.full ? 10 : 2;
    const shown: number[] = [];
    const data: number[] = [];
    let messages = 0;
    let jsTransferred = 0;
    let jsFiles: string[] = [];
    log(`ui: opening a 500-message conversation ${runs} times`);
    for (let i = 0; i < runs; i++) {
      const { context, page } = await newPage();
      await page.goto(`${frontend.url}/c/${o.sample.bigConversationId}`, { waitUntil: 'commit' });
      // The page renders the last 40 messages (ChatView's WINDOW), earlier ones as the reader
      // scrolls up towards them: shown = those are in the document.
      const handle = await page.waitForFunction(
        () => {
          const n = document.querySelectorAll(
            '[data-testid="message-user"], [data-testid="message-assistant"]',
          ).length;
          return n >= 40 ? { at: performance.now(), n } : null;
        },
        undefined,
        { polling: 'raf', timeout: 60_000 },
      );
      const { at, n } = (await handle.jsonValue()) as { at: number; n: number };
      shown.push(at);
      messages = n;
      data.push(
        await page.evaluate(
          (id) =>
            (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).find((e) =>
              e.name.endsWith(`/api/conversations/${id}`),
            )?.responseEnd ?? NaN,
          o.sample.bigConversationId,
        ),
      );
      if (i === 0) {
        const js = await page.evaluate(() =>
          (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
            .filter((e) => e.name.endsWith('.js'))
            .map((e) => ({ name: new URL(e.name).pathname, bytes: e.encodedBodySize })),
        );
        jsTransferred = js.reduce((s, e) => s + e.bytes, 0);
        jsFiles = js.map((e) => e.name.replace('/assets/', ''));
      }
      await context.close();
    }
    report.load = {
      runs,
      shownMs: summarize(shown),
      dataMs: summarize(data.filter(Number.isFinite)),
      messages,
      jsTransferred,
      jsFiles,
    };

    // Main-thread time while an answer streams in, from Chromium's own counters.
    const chunks = o.full ? 2000 : 200;
    const delayMs = 10;
    const created = await request(`${backend.url}/api/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: o.sample.cookie },
      body: JSON.stringify({ title: 'UI streaming bench', model: 'fake/slow' }),
    });
    const { id } = (await created.body.json()) as { id: string };
    const { context, page } = await newPage();
    await page.goto(`${frontend.url}/c/${id}`);
    await page.getByTestId('composer-input').waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
    const metrics = async () => {
      const { metrics: list } = (await cdp.send('Performance.getMetrics')) as {
        metrics: Array<{ name: string; value: number }>;
      };
      return Object.fromEntries(list.map((m) => [m.name, m.value]));
    };
    await page
      .getByTestId('composer-input')
      .fill(`Stream into the page [fake chunks=${chunks} delay=${delayMs}]`);
    log(`ui: streaming ${chunks} chunks ${delayMs} ms apart into the page`);
    const before = await metrics();
    const start = performance.now();
    await page.getByTestId('send-button').click();
    await page.waitForFunction(
      () => {
        const answers = document.querySelectorAll('[data-testid="message-assistant"]');
        return answers[answers.length - 1]?.getAttribute('data-status') === 'complete';
      },
      undefined,
      { polling: 100, timeout: chunks * delayMs * 5 + 30_000 },
    );
    const wallMs = performance.now() - start;
    const after = await metrics();
    const delta = (name: string) => ((after[name] ?? 0) - (before[name] ?? 0)) * 1000;
    report.streaming = {
      chunks,
      delayMs,
      wallMs,
      taskMs: delta('TaskDuration'),
      scriptMs: delta('ScriptDuration'),
      layoutMs: delta('LayoutDuration'),
      styleMs: delta('RecalcStyleDuration'),
      tokens: chunks,
    };
    await context.close();
    for (const s of services) if (crashed(s)) report.errors.push(`${s.name} exited: ${s.tail(10)}`);
  } catch (error) {
    report.errors.push(error instanceof Error ? error.message : String(error));
  } finally {
    await browser?.close().catch(() => undefined);
    for (const s of services.reverse()) {
      if (crashed(s)) report.errors.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
  return report;
}

const kb = (bytes: number) => fmt(bytes / 1024, 1);

export function uiMarkdown(r: UiReport): string {
  const lines = [
    table(
      ['asset', 'loaded by index.html', 'raw KB', 'gzip KB (level 9)', 'brotli KB'],
      r.assets.map((a) => [
        a.file,
        a.initial ? 'yes' : 'no (lazy)',
        kb(a.raw),
        kb(a.gzip),
        a.brotli === null ? '–' : kb(a.brotli),
      ]),
    ),
    '',
    `Initial JS (referenced by index.html): **${kb(r.initialJsGzip)} KB gzip** (target ≤ 100 KB: ${r.initialJsGzip <= 100 * 1024 ? 'met' : 'not met'}).`,
  ];
  if (r.load) {
    lines.push(
      `JS fetched for a signed-in user's first screen (Chromium, compressed bytes as served: brotli): **${kb(r.load.jsTransferred)} KB** (${r.load.jsFiles.join(', ')}).`,
      '',
      `Chromium ${r.browser}: a ${r.load.messages}-message conversation opened by its URL in a fresh context (empty cache), from navigation start to the animation frame where the messages the page renders first (its last 40; earlier ones as the reader scrolls up) are in the document, ${r.load.runs} runs: p50 **${fmt(r.load.shownMs.p50, 0)} ms**, max ${fmt(r.load.shownMs.max, 0)} ms. The conversation's JSON had arrived at p50 ${fmt(r.load.dataMs.p50, 0)} ms (so ${fmt(r.load.shownMs.p50 - r.load.dataMs.p50, 0)} ms went to turning it into the document).`,
    );
  }
  if (r.streaming) {
    const s = r.streaming;
    lines.push(
      '',
      `Streaming ${s.chunks} tokens ${s.delayMs} ms apart into the page (${fmt(s.wallMs / 1000, 1)} s, ${fmt((s.tokens / s.wallMs) * 1000, 0)} tokens/s): main-thread task time **${fmt(s.taskMs, 0)} ms** (${fmt((s.taskMs / s.wallMs) * 100, 1)} % of the wall time, ${fmt(s.taskMs / s.tokens, 2)} ms per token); script ${fmt(s.scriptMs, 0)} ms, layout ${fmt(s.layoutMs, 0)} ms, style ${fmt(s.styleMs, 0)} ms (CDP Performance.getMetrics before/after).`,
    );
  }
  if (r.long) lines.push('', ...longMarkdown(r.long));
  for (const n of r.notes) lines.push('', `Note: ${n}`);
  if (r.errors.length) lines.push('', `Errors: ${r.errors.join(' | ')}`);
  lines.push('');
  return lines.join('\n');
}
