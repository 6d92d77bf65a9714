import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn } from './browser.js';
import { startCutProxy, type CutProxy } from './cut-proxy.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
/** The browser reaches the frontend through it, so a test can drop its connections. */
let proxy: CutProxy;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Every reattach the page made: GET /api/generations/:id/stream. */
const reattaches: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  proxy = await startCutProxy(stack.frontendPort);
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await context.newPage();
  page.on('request', (request) => {
    if (/\/api\/generations\/[^/]+\/stream$/.test(request.url())) reattaches.push(request.url());
  });
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const lastAnswer = () => byTestId('message-assistant').last();
/** The answer's rendered text, without its status line. */
const answerText = async () =>
  (
    (await lastAnswer()
      .locator('.markdown')
      .textContent()
      .catch(() => '')) ?? ''
  ).trim();

const pickModel = (id: string) => pickModelIn(page, id);

async function send(text: string) {
  await byTestId('composer-input').fill(text);
  await byTestId('send-button').click();
}

/** The saved answer of the conversation open in the page, read through the API with its session. */
async function savedAnswer(): Promise<{ status: string; content: string }> {
  const id = new URL(page.url()).pathname.split('/').at(-1) ?? '';
  const cookies = await context.cookies(proxy.url);
  const response = await fetch(`${stack.url}/api/conversations/${id}`, {
    headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
  });
  expect(response.status).toBe(200);
  const detail = (await response.json()) as {
    messages: Array<{ role: string; status: string; content: string }>;
  };
  const answer = detail.messages.filter((m) => m.role === 'assistant').at(-1);
  if (!answer) throw new Error('no saved answer');
  return answer;
}

describe('an answer outlives the page that asked for it', () => {
  it('sets up the admin account', async () => {
    await page.goto(proxy.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    await pickModel('fake/slow');
  });

  it('continues the same answer after a reload mid-stream, and completes it in full', async () => {
    const streamsBefore = stack.fake.streams.length;
    await send('Reload me [fake chunks=80 delay=50]');
    await expect.poll(async () => (await answerText()).length).toBeGreaterThan(40);
    expect(await lastAnswer().getAttribute('data-status')).toBe('streaming');

    await page.reload();
    // The partial answer comes back with its streaming indicator, then keeps growing.
    await expect.poll(() => lastAnswer().getAttribute('data-status')).toBe('streaming');
    const afterReload = (await answerText()).length;
    await expect.poll(async () => (await answerText()).length).toBeGreaterThan(afterReload + 20);
    expect(reattaches.length).toBe(1);
    expect(await byTestId('stop-button').count()).toBe(1);

    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    const saved = await savedAnswer();
    expect(saved.status).toBe('complete');
    expect(saved.content).toContain('You said: Reload me');
    expect(await answerText()).toBe(saved.content.trim());
    // One upstream call, never restarted, read to its end.
    expect(stack.fake.streams.length).toBe(streamsBefore + 1);
    expect(stack.fake.streams.at(-1)?.endedBy).toBe('complete');
  });

  it('reattaches after the connection drops mid-stream and shows the rest exactly once', async () => {
    await byTestId('new-chat').click();
    const seen = reattaches.length;
    const streamsBefore = stack.fake.streams.length;
    await send('Drop me [fake chunks=80 delay=50]');
    await expect.poll(async () => (await answerText()).length).toBeGreaterThan(40);

    // Every connection drops, and for a second none can be made: the reattach backs off.
    proxy.cut(1000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Meanwhile the partial answer stays, calmly streaming.
    expect(await lastAnswer().getAttribute('data-status')).toBe('streaming');
    expect((await answerText()).length).toBeGreaterThan(40);
    expect(await byTestId('message-error').count()).toBe(0);

    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    expect(reattaches.length).toBeGreaterThan(seen);
    const saved = await savedAnswer();
    expect(saved.status).toBe('complete');
    expect(await answerText()).toBe(saved.content.trim());
    expect(stack.fake.streams.length).toBe(streamsBefore + 1);
    expect(stack.fake.streams.at(-1)?.endedBy).toBe('complete');
  });

  it('stops a reattached answer with the stop button: the upstream call closes at once', async () => {
    await byTestId('new-chat').click();
    await send('Stop me after a reload [fake chunks=400 delay=25]');
    await expect.poll(async () => (await answerText()).length).toBeGreaterThan(20);
    await page.reload();
    await expect.poll(() => lastAnswer().getAttribute('data-status')).toBe('streaming');
    const afterReload = (await answerText()).length;
    await expect.poll(async () => (await answerText()).length).toBeGreaterThan(afterReload);

    const index = stack.fake.streams.length - 1;
    const clickedAt = Date.now();
    await byTestId('stop-button').click();
    const stream = await stack.fake.waitForStreamClosed(index, 2000);
    expect(stream.endedBy).toBe('client-closed');
    expect((stream.closedAt ?? Infinity) - clickedAt).toBeLessThan(1000);
    await expect.poll(() => lastAnswer().getAttribute('data-status')).toBe('stopped');
    const saved = await savedAnswer();
    expect(saved.status).toBe('stopped');
    expect(await answerText()).toBe(saved.content.trim());
  });
});
