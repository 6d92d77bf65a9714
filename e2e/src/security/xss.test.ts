import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../browser.js';
import { Client } from '../client.js';
import { startStack, type Stack } from '../stack.js';
import { loadCorpus, unsafeMarkup } from './corpus.js';
import { watchContext, type Watch } from './watch.js';

/**
 * The XSS corpus (xss-payloads.json), rendered by the production builds in Chromium three
 * ways: as model output (the fake upstream echoes the user's message into its answer, which
 * streams in and is rendered as Markdown), as the user's own messages, and as conversation
 * titles (sidebar, top bar, document title). Nothing may run, navigate, open, or load from
 * another host; see watch.ts for what is watched.
 */
const corpus = loadCorpus('xss-payloads.json').map((payload, i) => ({
  ...payload,
  n: i + 1,
  text: payload.text.replaceAll('XSS', `__xss(${i + 1})`),
}));

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let watch: Watch;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  context = await browser.newContext();
  watch = await watchContext(context, stack.url);
  page = await watch.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);

/**
 * Batches of payloads per message. A payload with a code fence could swallow the ones after
 * it into one code block, so it goes alone; the others go a dozen at a time, a blank line
 * apart, so each starts a block of its own.
 */
function batches(): Array<typeof corpus> {
  const out: Array<typeof corpus> = [];
  let current: typeof corpus = [];
  for (const payload of corpus) {
    if (/```|~~~/.test(payload.text)) {
      out.push([payload]);
    } else {
      current.push(payload);
      if (current.length === 12) {
        out.push(current);
        current = [];
      }
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

describe(`the XSS corpus (${corpus.length} payloads) in Chromium`, () => {
  it('has at least 300 distinct payloads', () => {
    expect(new Set(corpus.map((p) => p.text)).size).toBe(corpus.length);
    expect(corpus.length).toBeGreaterThanOrEqual(300);
  });

  it('the watch sees a canary call and a CSP violation (so silence below means something)', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    await page.evaluate(() => {
      (window as unknown as { __xss(n: number): void }).__xss(-1);
      const probe = new Image();
      probe.src = 'https://csp-probe.example/pixel.png';
    });
    await expect.poll(() => watch.canary).toEqual([-1]);
    // Reported twice: the page's securitypolicyviolation event and Chromium's console error.
    await expect.poll(() => watch.cspViolations.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => watch.foreignRequests.length).toBeGreaterThan(0);
    watch.reset();
  });

  it('as model output and as user messages: zero executions, navigations or foreign requests', async () => {
    await byTestId('model-picker').click();
    await byTestId('model-search').fill('fake/echo');
    await page.locator('[data-testid="model-option"][data-model-id="fake/echo"]').click();

    const all = batches();
    for (const [b, batch] of all.entries()) {
      // A few conversations rather than one very long one.
      if (b > 0 && b % 10 === 0) await byTestId('new-chat').click();
      const before = await byTestId('message-assistant').count();
      // Many chunks: the answer streams in pieces, through the live renderer, then whole.
      const content = `Corpus batch ${b + 1} [fake chunks=40]\n\n${batch.map((p) => p.text).join('\n\n')}`;
      await byTestId('composer-input').fill(content);
      await byTestId('send-button').click();
      const answer = byTestId('message-assistant').nth(before);
      await expect
        .poll(() => answer.getAttribute('data-status'), { timeout: 20_000 })
        .toBe('complete');
      expect(await answer.textContent()).toContain(`Corpus batch ${b + 1}`);
      expect(watch.problems(), `after batch ${b + 1}`).toEqual([]);
      expect(await unsafeMarkup(answer.locator('.markdown')), `batch ${b + 1}`).toEqual([]);
      // The user's message is shown as the text it is.
      const mine = byTestId('message-user').last();
      expect(await mine.textContent()).toBe(content);
      expect(await unsafeMarkup(mine)).toEqual([]);
    }

    // Each conversation again from the database (rendered whole, not streamed).
    await page.reload();
    await byTestId('conversation-item').first().waitFor();
    const items = await byTestId('conversation-item').count();
    for (let i = 0; i < items; i++) {
      await byTestId('conversation-item').nth(i).locator('a').click();
      await expect
        .poll(() => byTestId('message-assistant').last().getAttribute('data-status'))
        .toBe('complete');
      expect(await unsafeMarkup(page.locator('.markdown'))).toEqual([]);
    }
    expect(watch.problems()).toEqual([]);
  }, 180_000);

  it('as conversation titles: zero executions, navigations or foreign requests', async () => {
    const client = await Client.create(stack.url);
    const session = (await context.cookies()).find((c) => c.name === 'ai_session');
    client.cookie = `ai_session=${session?.value ?? ''}`;
    const ids: string[] = [];
    for (const payload of corpus) {
      const { id } = await client.json<{ id: string }>('/api/conversations', {
        title: payload.text,
        model: 'fake/echo',
      });
      ids.push(id);
    }
    await client.close();

    await page.goto(stack.url);
    await byTestId('conversation-item').first().waitFor();
    // Every title in the sidebar: load pages until there are no more.
    while ((await byTestId('load-more').count()) > 0) {
      const shown = await byTestId('conversation-item').count();
      await byTestId('load-more').click();
      await expect.poll(() => byTestId('conversation-item').count()).toBeGreaterThan(shown);
    }
    const sidebar = page.locator('[aria-label="Conversations"]');
    expect(await byTestId('conversation-item').count()).toBeGreaterThanOrEqual(corpus.length);
    const text = await sidebar.textContent();
    for (const payload of corpus) {
      expect(text, `title ${payload.n}`).toContain(payload.text);
    }
    // Each title is a link holding text only, with the app's own href.
    const titleLinks = sidebar.locator('.conversation-link');
    expect(
      await titleLinks.evaluateAll(
        (links) =>
          links.filter(
            (a) =>
              a.children.length > 0 || !/^\/c\/[0-9a-f-]{36}$/.test(a.getAttribute('href') ?? ''),
          ).length,
      ),
    ).toBe(0);

    // Opened: the top bar and the document title show it too (every 10th, for time).
    for (let i = 0; i < ids.length; i += 10) {
      await page.goto(`${stack.url}/c/${ids[i]}`);
      await expect.poll(() => page.locator('.topbar-title').textContent()).toBe(corpus[i]?.text);
      // The document title is the same text (browsers collapse its whitespace and controls).
      // eslint-disable-next-line no-control-regex
      const plain = (text: string) => text.replace(/[\u0000-\u0020]+/g, ' ').trim();
      expect(plain(await page.title())).toBe(plain(`${corpus[i]?.text} · AI Chat`));
    }
    expect(watch.problems()).toEqual([]);
  }, 180_000);
});
