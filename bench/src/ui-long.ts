/**
 * UI, long conversations: a 1,000-message conversation with a code block in every message,
 * written through the API on a database of its own (so it runs without the db step), then
 * opened in headless Chromium: the time until its end is shown, and the frames while it is
 * scrolled from its end to its start, with content-visibility as built and turned off.
 */
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { request } from 'undici';
import {
  crashed,
  startBackend,
  startFake,
  startFrontend,
  stopService,
  type Service,
} from './services.js';
import { fmt, log, summarize, type Summary } from './util.js';

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** Scrolling a long conversation from its end to its start, frame by frame. */
export interface ScrollRun {
  frames: number;
  over50: number;
  p95Ms: number;
  maxMs: number;
  wallMs: number;
  /** Messages in the document at the end (earlier ones are added as the reader nears them). */
  rendered: number;
}

export interface LongReport {
  messages: number;
  runs: number;
  shownMs: Summary;
  /** When the conversation's JSON had arrived (responseEnd of GET /api/conversations/:id). */
  dataMs: Summary;
  /** How many messages the first screen rendered. */
  renderedAtOpen: number;
  /** As built: the last messages rendered, earlier ones as the reader nears them; content-visibility: auto. */
  scroll: ScrollRun;
  /** The same scroll with content-visibility turned off (a style the bench injects). */
  scrollNoContentVisibility: ScrollRun;
  /** Every message in the document ("Show earlier" pressed until none is left). */
  renderAllMs: number;
}

export const LONG_MESSAGES = 1000;

/**
 * Runs in the page (a string: tsx would add helpers to named functions that the page lacks).
 * Scrolls the conversation from its end to its start, 300 px per animation frame, and records
 * each frame's duration; done once at the top with nothing more added above for 30 frames.
 */
const SCROLL_TO_START = `new Promise((resolve) => {
  const el = document.querySelector('[data-testid="chat-scroll"]');
  const frames = [];
  const start = performance.now();
  let last = start;
  let still = 0;
  function step(now) {
    frames.push(now - last);
    last = now;
    const before = el.scrollTop;
    el.scrollTop = Math.max(0, el.scrollTop - 300);
    still = el.scrollTop === 0 && before === 0 ? still + 1 : 0;
    if (still > 30 || now - start > 120000) {
      resolve({
        frames,
        wallMs: performance.now() - start,
        rendered: document.querySelectorAll('.message').length,
      });
    } else requestAnimationFrame(step);
  }
  requestAnimationFrame(step);
})`;

/** A user message whose echo (the fake's answer) holds a code block and a paragraph. */
function turn(i: number): string {
  return [
    `Turn ${i}: how do I sum a list in Python?`,
    '',
    '```python',
    `def total_${i}(values: list[int]) -> int:`,
    `    # Adds the values, ${i} times over.`,
    '    result = 0',
    '    for value in values:',
    `        result += value * ${i}`,
    '    return result',
    '```',
    '',
    'Then call it with **any** list of `int`s; it runs in linear time.',
  ].join('\n');
}

export async function longConversationBench(
  o: { dir: string; full: boolean },
  errors: string[],
): Promise<LongReport> {
  const services: Service[] = [];
  let browser: Browser | null = null;
  try {
    const fake = await startFake(o.dir);
    services.push(fake.service);
    const backend = await startBackend({
      dir: o.dir,
      databasePath: path.join(o.dir, 'long-conversation.db'),
      upstreamUrl: fake.url,
      env: { LOG_LEVEL: 'warn' },
    });
    services.push(backend.service);
    const frontend = await startFrontend(o.dir, backend.url);
    services.push(frontend.service);

    const setup = await request(`${backend.url}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: backend.url },
      body: JSON.stringify({ username: 'bench', password: 'long conversation bench' }),
    });
    const setCookie = [setup.headers['set-cookie'] ?? []].flat()[0] ?? '';
    await setup.body.dump();
    const cookie = setCookie.split(';')[0] ?? '';
    if (setup.statusCode !== 201 || cookie === '') throw new Error(`setup: ${setup.statusCode}`);
    const headers = { 'content-type': 'application/json', cookie, origin: backend.url };
    const created = await request(`${backend.url}/api/conversations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ title: 'Long conversation bench', model: 'fake/echo' }),
    });
    const { id } = (await created.body.json()) as { id: string };
    log(`ui: writing a ${LONG_MESSAGES}-message conversation with code blocks`);
    for (let i = 0; i < LONG_MESSAGES / 2; i++) {
      const sent = await request(`${backend.url}/api/conversations/${id}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ content: `${turn(i)} [fake chunks=4 delay=0]` }),
      });
      const text = await sent.body.text();
      if (sent.statusCode !== 200 || !text.includes('event: done')) {
        throw new Error(`send ${i}: ${sent.statusCode} ${text.slice(0, 200)}`);
      }
    }

    browser = await launch();
    const token = cookie.split('=')[1] ?? '';
    const open = async (bypassCSP = false) => {
      const context = await browser!.newContext({
        viewport: { width: 1280, height: 900 },
        bypassCSP,
      });
      await context.addCookies([{ name: 'ai_session', value: token, url: frontend.url }]);
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      await page.goto(`${frontend.url}/c/${id}`, { waitUntil: 'commit' });
      // Shown: the conversation's last answer is in the document.
      const handle = await page.waitForFunction(
        (last) => {
          const answers = document.querySelectorAll('[data-testid="message-assistant"]');
          const text = answers[answers.length - 1]?.textContent ?? '';
          if (!text.includes(last)) return null;
          return { at: performance.now(), n: document.querySelectorAll('.message').length };
        },
        `Turn ${LONG_MESSAGES / 2 - 1}:`,
        { polling: 'raf', timeout: 60_000 },
      );
      const shown = (await handle.jsonValue()) as { at: number; n: number };
      return { context, page, shown };
    };

    const runs = o.full ? 10 : 3;
    const shownAt: number[] = [];
    const dataAt: number[] = [];
    let renderedAtOpen = 0;
    log(`ui: opening the ${LONG_MESSAGES}-message conversation ${runs} times`);
    for (let i = 0; i < runs; i++) {
      const { context, page, shown } = await open();
      shownAt.push(shown.at);
      dataAt.push(
        (await page.evaluate(
          `performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/conversations/${id}'))?.responseEnd ?? NaN`,
        )) as number,
      );
      renderedAtOpen = shown.n;
      await context.close();
    }

    // From the end to the start, 300 px per animation frame (a fast flick of a wheel, kept
    // up); earlier messages are added on the way.
    const scrollRun = async (noContentVisibility: boolean): Promise<ScrollRun> => {
      const { context, page } = await open(noContentVisibility);
      if (noContentVisibility) {
        await page.addStyleTag({ content: '.message { content-visibility: visible !important; }' });
      }
      await page.waitForTimeout(500);
      const result = (await page.evaluate(SCROLL_TO_START)) as {
        frames: number[];
        wallMs: number;
        rendered: number;
      };
      await context.close();
      const sorted = result.frames.slice(1).sort((a, b) => a - b);
      return {
        frames: sorted.length,
        over50: sorted.filter((f) => f > 50).length,
        p95Ms: sorted[Math.floor(sorted.length * 0.95)] ?? NaN,
        maxMs: sorted.at(-1) ?? NaN,
        wallMs: result.wallMs,
        rendered: result.rendered,
      };
    };
    log('ui: scrolling it from end to start (content-visibility as built, then off)');
    const scroll = await scrollRun(false);
    const scrollNoContentVisibility = await scrollRun(true);

    // Every message in the document: "Show earlier" until it is gone.
    const { context, page } = await open();
    const renderAllMs = (await page.evaluate(`(async () => {
      const start = performance.now();
      for (;;) {
        const more = document.querySelector('[data-testid="show-earlier"]');
        if (!more) break;
        more.click();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      }
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return performance.now() - start;
    })()`)) as number;
    await context.close();

    return {
      messages: LONG_MESSAGES,
      runs,
      shownMs: summarize(shownAt),
      dataMs: summarize(dataAt.filter(Number.isFinite)),
      renderedAtOpen,
      scroll,
      scrollNoContentVisibility,
      renderAllMs,
    };
  } finally {
    await browser?.close().catch(() => undefined);
    for (const s of services.reverse()) {
      if (crashed(s)) errors.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
}

function scrollLine(label: string, s: ScrollRun): string {
  return `${label}: ${s.frames} frames in ${fmt(s.wallMs / 1000, 1)} s, **${s.over50} over 50 ms**, p95 ${fmt(s.p95Ms, 1)} ms, max ${fmt(s.maxMs, 0)} ms (${s.rendered} messages in the document at the end).`;
}

export function longMarkdown(l: LongReport): string[] {
  return [
    `A ${l.messages}-message conversation with a code block in every message, opened by its URL in a fresh context, ${l.runs} runs: its end shown at p50 **${fmt(l.shownMs.p50, 0)} ms**, max ${fmt(l.shownMs.max, 0)} ms, from navigation start (${l.renderedAtOpen} messages rendered at first); its JSON had arrived at p50 ${fmt(l.dataMs.p50, 0)} ms.`,
    '',
    scrollLine(
      'Scrolled from end to start, 300 px per frame, as built (content-visibility: auto)',
      l.scroll,
    ),
    '',
    scrollLine('The same without content-visibility', l.scrollNoContentVisibility),
    '',
    `Rendering every message at once ("Show earlier" until none is left): ${fmt(l.renderAllMs, 0)} ms.`,
  ];
}
