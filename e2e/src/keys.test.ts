import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn, scriptVisibleText } from './browser.js';
import { startStack, type Stack } from './stack.js';

// A user's own OpenRouter key through the account page, in Chromium against the production
// builds: saved after the (fake) OpenRouter accepted it, shown by its last four characters
// only, sent upstream for that user's chats, refused when OpenRouter refuses it.

const OWN_KEY = 'sk-or-v1-e2e-users-own-key-0123456789-QRST';
const SERVER_KEY = 'sk-or-e2e-key';

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  stack.fake.setKey(OWN_KEY, { limit: 12, usage: 2 });
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);

const pickModel = (id: string) => pickModelIn(page, id);

const pageSecrets = () => scriptVisibleText(page);

describe('your own OpenRouter key in Chromium', () => {
  it('is saved from the account page and shown by its last four characters only', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();

    await byTestId('account-link').click();
    await byTestId('key-settings').waitFor();
    await byTestId('key-input').fill(OWN_KEY);
    await byTestId('key-save').click();
    await expect.poll(() => byTestId('key-last-four').textContent()).toBe('••••QRST');
    const result = byTestId('key-check-result');
    expect(await result.getAttribute('data-status')).toBe('valid');
    expect(await result.textContent()).toContain('limit $12.00');
    expect(await result.textContent()).toContain('$10.00 left');
    expect(await pageSecrets()).not.toContain(OWN_KEY.slice(0, -4));

    await page.reload();
    await expect.poll(() => byTestId('key-last-four').textContent()).toBe('••••QRST');
    expect(await pageSecrets()).not.toContain(OWN_KEY.slice(0, -4));
    expect(await byTestId('spending-summary').textContent()).toContain('no monthly limit');
  });

  it("sends that user's chats upstream with it", async () => {
    await page.goto(stack.url);
    await pickModel('fake/echo');
    await byTestId('composer-input').fill('Whose key pays for this?');
    await byTestId('send-button').click();
    await expect
      .poll(() => byTestId('message-assistant').last().getAttribute('data-status'), {
        timeout: 15_000,
      })
      .toBe('complete');
    const upstream = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');
    expect(upstream.at(-1)?.headers.authorization).toBe(`Bearer ${OWN_KEY}`);
  });

  it('refuses a key OpenRouter rejects and keeps the saved one', async () => {
    await page.goto(`${stack.url}/account`);
    await byTestId('key-input').fill('sk-or-v1-invalid-typo-0000');
    await byTestId('key-save').click();
    await expect.poll(() => byTestId('key-error').textContent()).toContain('OpenRouter refused');
    expect(await byTestId('key-last-four').textContent()).toBe('••••QRST');
  });

  it('is deleted, and chats use the server key again', async () => {
    await byTestId('key-delete').click();
    await byTestId('key-summary').waitFor({ state: 'detached' });
    await page.goto(stack.url);
    await pickModel('fake/echo');
    await byTestId('composer-input').fill('And now?');
    await byTestId('send-button').click();
    await expect
      .poll(() => byTestId('message-assistant').last().getAttribute('data-status'), {
        timeout: 15_000,
      })
      .toBe('complete');
    const upstream = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');
    expect(upstream.at(-1)?.headers.authorization).toBe(`Bearer ${SERVER_KEY}`);
  });

  it('at the monthly limit an admin set, a message is refused with the reason shown', async () => {
    await page.goto(`${stack.url}/admin`);
    await byTestId('admin-tab-budgets').click();
    const form = byTestId('budget-default');
    await form.locator('input').fill('0');
    await form.locator('button[type="submit"]').click();
    await expect
      .poll(() => byTestId('budget-user').first().textContent())
      .toContain('limit reached');

    await page.goto(stack.url);
    await pickModel('fake/echo');
    const before = stack.fake.requests.length;
    await byTestId('composer-input').fill('Over budget?');
    await byTestId('send-button').click();
    await expect.poll(() => page.locator('.send-error').textContent()).toContain('monthly limit');
    expect(stack.fake.requests.length).toBe(before);

    await page.goto(`${stack.url}/account`);
    await expect
      .poll(() => byTestId('spending-summary').textContent())
      .toContain('$0.00 monthly limit');
  });
});
