import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel, scriptVisibleText } from './browser.js';
import { startStack, type Stack } from './stack.js';

// A temporary chat in Chromium against the production builds: it answers as a chat does,
// appears nowhere (sidebar, search, the API's list), and is gone after a reload.

let stack: Stack;
let browser: Browser;
let page: Page;
/** What each dialog said, and how the next ones are answered. */
const dialogs: Array<{ type: string; message: string }> = [];
let acceptDialogs = false;
const marker = `secret-${crypto.randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  page = await browser.newPage();
  page.on('dialog', (dialog: Dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    void (acceptDialogs ? dialog.accept() : dialog.dismiss());
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);

async function send(text: string) {
  await byTestId('composer-input').fill(text);
  await byTestId('send-button').click();
}

async function answered(count: number) {
  await expect.poll(() => byTestId('message-assistant').count(), { timeout: 10_000 }).toBe(count);
  await expect
    .poll(() => byTestId('message-assistant').last().getAttribute('data-status'), {
      timeout: 15_000,
    })
    .toMatch(/^(complete|stopped)$/);
}

/** The signed-in user's conversations, as the API lists them. */
async function listedConversations(): Promise<Array<{ title: string }>> {
  const response = await page.request.get(`${stack.url}/api/conversations`);
  expect(response.status()).toBe(200);
  return ((await response.json()) as { conversations: Array<{ title: string }> }).conversations;
}

describe('a temporary chat in Chromium', () => {
  it('starts from the sidebar, marked as not saved, beside one saved chat', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    // One saved chat, so the sidebar has something that must not grow.
    await pickModel(page, 'fake/echo');
    await send('A saved question');
    await answered(1);
    await expect.poll(() => byTestId('conversation-item').count()).toBe(1);

    await byTestId('temporary-chat').click();
    await byTestId('temporary-banner').waitFor();
    expect(new URL(page.url()).pathname).toBe('/temporary');
    expect(await byTestId('temporary-banner').textContent()).toContain(
      'Temporary chat: not saved.',
    );
    expect(await byTestId('message-user').count()).toBe(0);
  });

  it('gets answers, each asked with the chat so far, and stops one', async () => {
    await pickModel(page, 'fake/echo');
    await send(`My plan is ${marker}`);
    await answered(1);
    expect(await byTestId('message-assistant').last().textContent()).toContain(
      `You said: My plan is ${marker}`,
    );

    await send('And the second step?');
    await answered(2);
    const asked = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
    const messages = (asked?.body as { messages: Array<{ role: string; content: string }> })
      .messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages[0]?.content).toBe(`My plan is ${marker}`);

    await pickModel(page, 'fake/slow');
    await send('Write slowly [fake chunks=200 delay=40]');
    await expect
      .poll(() => byTestId('message-assistant').last().textContent(), { timeout: 10_000 })
      .toContain('You said');
    await byTestId('stop-button').click();
    await answered(3);
    expect(await byTestId('message-assistant').last().getAttribute('data-status')).toBe('stopped');
    expect(await byTestId('message-user').count()).toBe(3);
  });

  it('is in no list and no search', async () => {
    expect(await byTestId('conversation-item').count()).toBe(1);
    expect((await listedConversations()).map((c) => c.title)).toEqual(['A saved question']);
    const search = await page.request.get(`${stack.url}/api/search?q=${marker}`);
    expect(((await search.json()) as { results: unknown[] }).results).toEqual([]);
    // Held in the page's memory only: no storage has it.
    expect(
      await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage })),
    ).not.toContain(marker);
  });

  it('asks before being left; a "no" keeps it', async () => {
    acceptDialogs = false;
    const before = dialogs.length;
    await byTestId('new-chat').click();
    await expect.poll(() => dialogs.length).toBe(before + 1);
    expect(dialogs.at(-1)).toMatchObject({ type: 'confirm' });
    expect(dialogs.at(-1)?.message).toContain('Discard this temporary chat?');
    await expect.poll(() => new URL(page.url()).pathname).toBe('/temporary');
    expect(await byTestId('message-user').count()).toBe(3);
  });

  it('is gone after a reload (the browser asks first)', async () => {
    acceptDialogs = true;
    const before = dialogs.length;
    await page.reload();
    await byTestId('temporary-banner').waitFor();
    await byTestId('composer-input').waitFor();
    expect(dialogs.slice(before).map((d) => d.type)).toEqual(['beforeunload']);
    expect(new URL(page.url()).pathname).toBe('/temporary');
    expect(await byTestId('message-user').count()).toBe(0);
    expect(await byTestId('message-assistant').count()).toBe(0);
    expect(await scriptVisibleText(page)).not.toContain(marker);
    expect(await byTestId('conversation-item').count()).toBe(1);

    // Empty, it is left without a question.
    await byTestId('new-chat').click();
    await expect.poll(() => new URL(page.url()).pathname).toBe('/');
    expect(dialogs.length).toBe(before + 1);
  });
});
