import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel } from './browser.js';
import { startStack, type Stack } from './stack.js';

// Compare in Chromium: one question to three models at once, their answers streaming side by
// side with their figures, one chosen to continue with, and the comparison shown again after a
// reload (‹ n/m › still moving between its answers), stacked on a phone.

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  // A step that cannot happen fails within the test's time, naming itself.
  page.setDefaultTimeout(15_000);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const columns = () => byTestId('compare-column');

/** The messages (role: text) and model of the last upstream chat request. */
function lastUpstream() {
  const request = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  const body = request?.body as {
    model: string;
    messages: Array<{ role: string; content: string }>;
  };
  return { model: body.model, lines: body.messages.map((m) => `${m.role}: ${m.content}`) };
}

/** Picks `id` in a comparison slot's own model picker. */
async function pickSlot(slot: number, id: string) {
  await byTestId(`compare-model-${slot}`).click();
  await byTestId('model-search').fill(id);
  await page.locator(`[data-testid="model-option"][data-model-id="${id}"]`).click();
  await expect.poll(() => byTestId(`compare-model-${slot}`).getAttribute('title')).toBe(id);
}

/** The columns' boxes, left to right as laid out. */
async function boxes(list: Locator) {
  const count = await list.count();
  const out: Array<{ x: number; y: number; width: number; height: number }> = [];
  for (let i = 0; i < count; i++) out.push((await list.nth(i).boundingBox())!);
  return out;
}

// All three wait 1.5 s before their first token, then write 40 ms apart: fake/slow writes 40
// pieces (a longer text), the others 8.
const question = 'Compare <img src=x onerror="window.pwned=1"> these [fake wait=1500 delay=40]';

describe('compare in Chromium', () => {
  it('streams three models side by side, each with its figures and its own end', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    await pickModel(page, 'fake/echo');

    await byTestId('compare-toggle').click();
    expect(await byTestId('compare-toggle').getAttribute('aria-pressed')).toBe('true');
    expect(await byTestId('compare-model-1').getAttribute('title')).toBe('fake/echo');
    await pickSlot(2, 'fake/slow');
    await byTestId('compare-add').click();
    // A slot not picked yet: nothing can be sent.
    expect(await byTestId('compare-problem').textContent()).toBe('Pick a model in each slot.');
    await pickSlot(3, 'fake/reasoning');
    expect(await byTestId('compare-problem').count()).toBe(0);

    const streamsBefore = stack.fake.streams.length;
    await byTestId('composer-input').fill(question);
    await byTestId('send-button').click();

    // Three columns, all being written at once, side by side, with live figures.
    await expect.poll(() => columns().count(), { timeout: 10_000 }).toBe(3);
    await expect
      .poll(() => page.locator('[data-testid="compare-column"] [data-status="streaming"]').count())
      .toBe(3);
    const live = await boxes(columns());
    expect(new Set(live.map((b) => Math.round(b.y))).size).toBe(1);
    expect(live[0]!.x).toBeLessThan(live[1]!.x);
    expect(live[1]!.x).toBeLessThan(live[2]!.x);
    expect(await byTestId('compare-live-stats').count()).toBe(3);
    expect(await byTestId('compare-stop').count()).toBe(3);
    expect(await byTestId('compare-stop-all').count()).toBe(1);
    // Counted as the text comes: pieces (about a token each), time to first token, speed.
    const liveParts = (part: string) =>
      page.locator(`[data-testid="compare-live-stats"] .meta-${part}`).allTextContents();
    await expect
      .poll(
        async () =>
          (await liveParts('ttft')).some((t) => /^\d+(\.\d)? m?s to first token$/.test(t)),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    await expect
      .poll(async () => (await liveParts('speed')).some((t) => /^~\d+(\.\d)? tok\/s$/.test(t)))
      .toBe(true);
    expect((await liveParts('tokens')).every((t) => /^~\d+ tokens$/.test(t))).toBe(true);
    const names = await byTestId('compare-model').allTextContents();
    expect(names.map((n) => n.toLowerCase())).toEqual([
      expect.stringContaining('echo'),
      expect.stringContaining('slow'),
      expect.stringContaining('reasoning'),
    ]);

    // Each ends on its own; then each shows its saved figures.
    await expect
      .poll(
        () =>
          stack.fake.streams.slice(streamsBefore).filter((s) => s.endedBy === 'complete').length,
        { timeout: 20_000 },
      )
      .toBe(3);
    await expect.poll(() => byTestId('stop-button').count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => byTestId('compare-choose').count(), { timeout: 15_000 }).toBe(3);
    for (let i = 0; i < 3; i++) {
      const stats = columns().nth(i).getByTestId('message-stats');
      expect(await stats.locator('.meta-model').textContent()).toMatch(/fake/i);
      expect(await stats.locator('.meta-tokens').textContent()).toMatch(/\d+ in · \d+ out/);
      expect(await stats.locator('.meta-cost').textContent()).toMatch(/\$/);
      expect(await stats.locator('.meta-ttft').textContent()).toMatch(
        /^\d+(\.\d)? m?s to first token$/,
      );
      expect(await stats.locator('.meta-speed').textContent()).toMatch(/^\d+(\.\d)? tok\/s$/);
    }
    expect(await columns().nth(0).locator('.meta-tokens').textContent()).toMatch(/ 8 out/);
    expect(await columns().nth(1).locator('.meta-tokens').textContent()).toMatch(/ 40 out/);
    // The reasoning model's reasoning, collapsed, in its own column only.
    expect(await columns().nth(2).getByTestId('reasoning').count()).toBe(1);
    expect(await columns().nth(0).getByTestId('reasoning').count()).toBe(0);
    // The model's output is rendered sanitized, as any answer is: the echoed tag is text.
    expect(await page.locator('[data-testid="compare-column"] img').count()).toBe(0);
    expect(await columns().nth(0).locator('.markdown').textContent()).toContain('<img src=x');
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
  });

  it('continues with the answer chosen: the next question has only its branch as context', async () => {
    const slowId = await columns().nth(1).getAttribute('data-answer-id');
    const slow = await page.evaluate(async (id) => {
      const conversation = location.pathname.split('/').pop() ?? '';
      const response = await fetch(`/api/conversations/${conversation}`);
      const { messages } = (await response.json()) as {
        messages: Array<{ id: string; content: string }>;
      };
      return messages.find((m) => m.id === id)?.content ?? '';
    }, slowId);
    expect(slow).toContain('You said: Compare');
    await columns().nth(1).getByTestId('compare-choose').click();
    await expect.poll(() => columns().nth(1).getByTestId('compare-chosen').count()).toBe(1);
    expect(await byTestId('compare-hint').textContent()).toMatch(/^Continuing with .*slow/i);
    expect(await columns().nth(1).getAttribute('aria-current')).toBe('true');
    expect(await columns().nth(1).getByTestId('compare-choose').count()).toBe(0);

    // Out of compare mode, the next question goes to the chosen answer's model, after it.
    await byTestId('compare-close').click();
    expect(await byTestId('compare-bar').count()).toBe(0);
    const before = stack.fake.streams.length;
    await byTestId('composer-input').fill('Go on [fake chunks=3]');
    await byTestId('send-button').click();
    await expect
      .poll(() => stack.fake.streams.length > before && stack.fake.streams.at(-1)?.endedBy, {
        timeout: 15_000,
      })
      .toBe('complete');
    await expect.poll(() => byTestId('stop-button').count(), { timeout: 15_000 }).toBe(0);
    const sent = lastUpstream();
    expect(sent.model).toBe('fake/slow');
    expect(sent.lines).toEqual([
      `user: ${question}`,
      `assistant: ${slow}`,
      'user: Go on [fake chunks=3]',
    ]);
    expect(await byTestId('message-user').last().textContent()).toBe('Go on [fake chunks=3]');
  });

  it('shows the comparison again after a reload, and ‹ n/m › moves between its answers', async () => {
    await page.reload();
    await expect.poll(() => columns().count(), { timeout: 10_000 }).toBe(3);
    expect(await columns().nth(1).getByTestId('compare-chosen').count()).toBe(1);
    expect(await columns().nth(1).getAttribute('aria-current')).toBe('true');
    expect(await byTestId('message-user').last().textContent()).toBe('Go on [fake chunks=3]');
    const reloaded = await boxes(columns());
    expect(new Set(reloaded.map((b) => Math.round(b.y))).size).toBe(1);

    // The answers are versions of one another: ‹ shows the first one's branch (nothing after
    // it yet), › comes back to the chosen one's, with the question that followed it.
    const nav = page.locator('[data-testid="compare-group"] [data-testid="sibling-nav"]');
    expect(await nav.getByTestId('sibling-count').textContent()).toBe('2/3');
    await nav.getByRole('button', { name: 'Previous version' }).click();
    expect(await nav.getByTestId('sibling-count').textContent()).toBe('1/3');
    expect(await columns().nth(0).getAttribute('aria-current')).toBe('true');
    await expect.poll(() => byTestId('message-user').count()).toBe(1);
    await nav.getByRole('button', { name: 'Next version' }).click();
    expect(await nav.getByTestId('sibling-count').textContent()).toBe('2/3');
    await expect.poll(() => byTestId('message-user').count()).toBe(2);
  });

  it('stacks the answers on a phone', async () => {
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    await small.goto(page.url());
    const list = small.getByTestId('compare-column');
    await expect.poll(() => list.count(), { timeout: 10_000 }).toBe(3);
    const stacked = await boxes(list);
    for (let i = 1; i < 3; i++) {
      expect(stacked[i]!.y).toBeGreaterThanOrEqual(stacked[i - 1]!.y + stacked[i - 1]!.height);
      expect(Math.round(stacked[i]!.x)).toBe(Math.round(stacked[0]!.x));
    }
    for (const box of stacked) expect(box.x + box.width).toBeLessThanOrEqual(375);
    const overflow = await small
      .getByTestId('chat-scroll')
      .evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBe(0);
    await phone.close();
  });
});
