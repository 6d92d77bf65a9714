import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn } from './browser.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const lastAnswer = () => byTestId('message-assistant').last();

const pickModel = (id: string) => pickModelIn(page, id);

async function send(text: string) {
  await byTestId('composer-input').fill(text);
  await byTestId('send-button').click();
}

describe('a first visit in Chromium', () => {
  it('sets up the admin account and lands in the workspace', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    expect(await byTestId('no-key-notice').count()).toBe(0);
  });

  it('shows the answer token by token as it streams', async () => {
    await pickModel('fake/slow');
    // Records, in the page, each time the answer's text grows.
    await page.evaluate(() => {
      const samples: Array<[number, number]> = [];
      (window as unknown as { samples: typeof samples }).samples = samples;
      new MutationObserver(() => {
        const answers = document.querySelectorAll('[data-testid="message-assistant"]');
        const length = answers[answers.length - 1]?.textContent?.length ?? 0;
        if (samples.length === 0 || samples[samples.length - 1]?.[1] !== length) {
          samples.push([performance.now(), length]);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await send('Hello browser [fake chunks=40 delay=50]');
    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    expect(await lastAnswer().textContent()).toContain('You said: Hello browser');

    const samples = await page.evaluate(
      () => (window as unknown as { samples: Array<[number, number]> }).samples,
    );
    const growing = samples.filter(([, length], i) => i > 0 && length > (samples[i - 1]?.[1] ?? 0));
    // 40 chunks 50 ms apart: the text grows in many steps spread over ~2 s, not all at once.
    expect(growing.length).toBeGreaterThanOrEqual(10);
    const first = growing[0]?.[0] ?? 0;
    const last = growing.at(-1)?.[0] ?? 0;
    expect(last - first).toBeGreaterThan(1000);
    const stream = stack.fake.streams.at(-1);
    expect(stream?.endedBy).toBe('complete');
  });

  it('stops an answer with the stop button and keeps what was written', async () => {
    await byTestId('new-chat').click();
    await pickModel('fake/slow');
    await send('Stop me [fake chunks=400 delay=25]');
    await expect
      .poll(async () => (await lastAnswer().textContent())?.length ?? 0)
      .toBeGreaterThan(20);
    await byTestId('stop-button').click();
    await expect.poll(() => lastAnswer().getAttribute('data-status')).toBe('stopped');
    const stream = await stack.fake.waitForStreamClosed(stack.fake.streams.length - 1, 2000);
    expect(stream.endedBy).toBe('client-closed');
    expect(stream.chunksSent).toBeLessThan(400);
  });

  it('renders model output sanitized: nothing in it can run script', async () => {
    await send(
      '<img src=x onerror="window.pwned=1"> <script>window.pwned=2</script> [link](javascript:window.pwned=3) <svg onload="window.pwned=4">',
    );
    await expect
      .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');
    expect(await lastAnswer().textContent()).toContain('You said:');
    const answer = lastAnswer();
    expect(await answer.locator('img, script, svg, iframe').count()).toBe(0);
    expect(await answer.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(
      await page.evaluate(() => (window as unknown as { pwned?: number }).pwned),
    ).toBeUndefined();
    expect(dialogs).toEqual([]);
    // The user's own text is shown as text.
    expect(await byTestId('message-user').last().textContent()).toContain('<img src=x');
  });

  it('keeps both conversations across a reload', async () => {
    await page.reload();
    await byTestId('conversation-item').first().waitFor();
    expect(await byTestId('conversation-item').count()).toBe(2);

    await byTestId('conversation-item').nth(1).click();
    await expect.poll(() => lastAnswer().getAttribute('data-status')).toBe('complete');
    expect(await lastAnswer().textContent()).toContain('You said: Hello browser');

    await byTestId('conversation-item').nth(0).click();
    await expect
      .poll(() => byTestId('message-assistant').first().getAttribute('data-status'))
      .toBe('stopped');
    expect((await byTestId('message-assistant').first().textContent())?.length).toBeGreaterThan(20);
  });
});
