import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { startStack, type Stack } from './stack.js';

/**
 * The admin page and the account page in Chromium, against the production builds: an admin
 * and a user in two browser contexts (two cookie jars), as two people on two machines.
 */
let stack: Stack;
let browser: Browser;
let adminContext: BrowserContext;
let admin: Page;
let bobContext: BrowserContext;
let bob: Page;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  adminContext = await browser.newContext();
  admin = await adminContext.newPage();
  bobContext = await browser.newContext();
  bob = await bobContext.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const ADMIN_PASSWORD = 'correct horse battery';
const BOB_PASSWORD = 'bobs own long password';

async function signIn(page: Page, username: string, password: string) {
  await page.goto(stack.url);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

const userRow = (page: Page, username: string) =>
  page.locator(`[data-testid="user-row"][data-username="${username}"]`);

async function modelOptions(page: Page): Promise<string[]> {
  await page.getByTestId('model-picker').click();
  await page.getByTestId('model-option').first().waitFor();
  const ids = await page
    .getByTestId('model-option')
    .evaluateAll((options) => options.map((o) => o.getAttribute('data-model-id') ?? ''));
  await page.keyboard.press('Escape');
  return ids;
}

describe('the admin page', () => {
  it('is offered to the admin, who adds a user', async () => {
    await admin.goto(stack.url);
    await admin.getByTestId('setup-username').fill('admin');
    await admin.getByTestId('setup-password').fill(ADMIN_PASSWORD);
    await admin.getByTestId('setup-submit').click();
    await admin.getByTestId('composer-input').waitFor();

    await admin.getByTestId('admin-link').click();
    await admin.getByTestId('admin-page').waitFor();
    expect(new URL(admin.url()).pathname).toBe('/admin');
    await expect.poll(() => admin.getByTestId('user-row').count()).toBe(1);

    // The policy's refusal is shown as the backend words it.
    await admin.getByTestId('new-user-username').fill('bob');
    await admin.getByTestId('new-user-password').fill('iloveyou');
    await admin.getByTestId('create-user').click();
    await expect
      .poll(() => admin.getByTestId('admin-error').textContent())
      .toContain('most common');

    await admin.getByTestId('new-user-password').fill(BOB_PASSWORD);
    await admin.getByTestId('create-user').click();
    await userRow(admin, 'bob').waitFor();
    expect(await userRow(admin, 'bob').getByTestId('user-role').inputValue()).toBe('user');
  });

  it('limits the models users may use: the user sees only those', async () => {
    await signIn(bob, 'bob', BOB_PASSWORD);
    await bob.getByTestId('composer-input').waitFor();
    // A user gets neither the link nor the page.
    expect(await bob.getByTestId('admin-link').count()).toBe(0);
    const before = await modelOptions(bob);
    expect(before.length).toBeGreaterThan(2);
    // Bob chats with fake/slow while every model is allowed.
    await bob.getByTestId('model-picker').click();
    await bob.getByTestId('model-search').fill('fake/slow');
    await bob.locator('[data-testid="model-option"][data-model-id="fake/slow"]').click();
    await bob.getByTestId('composer-input').fill('first [fake chunks=2 delay=1]');
    await bob.getByTestId('send-button').click();
    await expect
      .poll(() => bob.getByTestId('message-assistant').last().getAttribute('data-status'))
      .toBe('complete');

    await admin.getByTestId('admin-tab-settings').click();
    await admin.getByTestId('models-some').check();
    await admin.getByTestId('allowed-models-search').fill('fake/echo');
    await admin.locator('[data-testid="allowed-model"][data-model-id="fake/echo"]').check();
    await admin.getByTestId('save-allowed-models').click();
    await expect
      .poll(() => admin.getByTestId('settings-notice').textContent())
      .toContain('1 model');

    await bob.reload();
    await bob.getByTestId('composer-input').waitFor();
    expect(await modelOptions(bob)).toEqual(['fake/echo']);
    // His conversation still names fake/slow: sending there is refused, with the reason.
    const streams = stack.fake.streams.length;
    await bob.getByTestId('composer-input').fill('second');
    await bob.getByTestId('send-button').click();
    await expect
      .poll(() => bob.locator('.send-error').textContent())
      .toContain('fake/slow is not available in this workspace');
    expect(stack.fake.streams.length).toBe(streams);
  });

  it('disabling a user signs them out at once', async () => {
    await admin.getByTestId('admin-tab-users').click();
    await userRow(admin, 'bob').getByTestId('disable-user').click();
    await expect.poll(() => userRow(admin, 'bob').getAttribute('data-disabled')).toBe('true');

    // Bob's next request finds his session gone: back to sign-in, and sign-in is refused.
    await bob.reload();
    await bob.getByTestId('login-username').waitFor();
    await bob.getByTestId('login-username').fill('bob');
    await bob.getByTestId('login-password').fill(BOB_PASSWORD);
    await bob.getByTestId('login-submit').click();
    await expect.poll(() => bob.getByRole('alert').textContent()).toContain('disabled');

    await userRow(admin, 'bob').getByTestId('enable-user').click();
    await expect.poll(() => userRow(admin, 'bob').getAttribute('data-disabled')).toBe('false');
  });

  it('shows the audit log, newest first', async () => {
    await admin.getByTestId('admin-tab-audit').click();
    await admin.getByTestId('audit-row').first().waitFor();
    const actions = await admin
      .getByTestId('audit-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions[0]).toBe('user.enabled');
    expect(actions).toEqual(
      expect.arrayContaining([
        'user.disabled',
        'settings.allowed_models',
        'user.created',
        'auth.sign_in',
        'auth.sign_in_refused',
      ]),
    );
    const text = (await admin.getByTestId('audit-table').textContent()) ?? '';
    expect(text).not.toContain(BOB_PASSWORD);
    expect(text).not.toContain(ADMIN_PASSWORD);
  });

  it('opens registration: the sign-in screen offers an account, which is a user', async () => {
    await admin.getByTestId('admin-tab-settings').click();
    await admin.getByTestId('registration-open').check();
    await expect
      .poll(() => admin.getByTestId('settings-notice').textContent())
      .toContain('Registration is open');

    const visitorContext = await browser.newContext();
    const visitor = await visitorContext.newPage();
    await visitor.goto(stack.url);
    await visitor.getByTestId('show-register').click();
    await visitor.getByTestId('register-username').fill('carol');
    await visitor.getByTestId('register-password').fill('carols long password');
    await visitor.getByTestId('register-submit').click();
    await visitor.getByTestId('composer-input').waitFor();
    expect(await visitor.getByTestId('admin-link').count()).toBe(0);
    await visitorContext.close();

    await admin.getByTestId('registration-open').uncheck();
    await expect.poll(() => admin.getByTestId('settings-notice').textContent()).toContain('closed');
    const lateContext = await browser.newContext();
    const late = await lateContext.newPage();
    await late.goto(stack.url);
    await late.getByTestId('login-username').waitFor();
    expect(await late.getByTestId('show-register').count()).toBe(0);
    await lateContext.close();
  });
});

describe('the account page', () => {
  it('changes the password; the other session is signed out, this one stays', async () => {
    await signIn(bob, 'bob', BOB_PASSWORD);
    await bob.getByTestId('composer-input').waitFor();
    // A second browser of Bob's.
    const laptopContext = await browser.newContext();
    const laptop = await laptopContext.newPage();
    await signIn(laptop, 'bob', BOB_PASSWORD);
    await laptop.getByTestId('composer-input').waitFor();

    await bob.getByTestId('account-link').click();
    await bob.getByTestId('account-page').waitFor();
    await expect.poll(() => bob.getByTestId('session-item').count()).toBe(2);
    expect(
      await bob.locator('[data-testid="session-item"][data-current="true"]').textContent(),
    ).toContain('This device');

    await bob.getByTestId('current-password').fill('not my password');
    await bob.getByTestId('new-password').fill('bobs newer password');
    await bob.getByTestId('repeat-password').fill('bobs newer password');
    await bob.getByTestId('change-password').click();
    await expect
      .poll(() => bob.getByTestId('password-error').textContent())
      .toContain('current password is wrong');

    await bob.getByTestId('current-password').fill(BOB_PASSWORD);
    await bob.getByTestId('change-password').click();
    await expect
      .poll(() => bob.getByTestId('password-done').textContent())
      .toContain('1 other session was signed out');

    await laptop.reload();
    await laptop.getByTestId('login-username').waitFor();
    await laptopContext.close();

    await bob.reload();
    await bob.getByTestId('account-page').waitFor();
    await expect.poll(() => bob.getByTestId('session-item').count()).toBe(1);
  });

  it('revokes another session, then signs out everywhere', async () => {
    const phoneContext = await browser.newContext({
      userAgent: 'Mozilla/5.0 (Linux; Android 14) Firefox/128.0',
    });
    const phone = await phoneContext.newPage();
    await signIn(phone, 'bob', 'bobs newer password');
    await phone.getByTestId('composer-input').waitFor();

    await bob.reload();
    await expect.poll(() => bob.getByTestId('session-item').count()).toBe(2);
    const other = bob.locator('[data-testid="session-item"][data-current="false"]');
    expect(await other.textContent()).toContain('Firefox on Android');
    await other.getByTestId('revoke-session').click();
    await expect.poll(() => bob.getByTestId('session-item').count()).toBe(1);
    await phone.reload();
    await phone.getByTestId('login-username').waitFor();
    await phoneContext.close();

    await bob.getByTestId('sign-out-everywhere').click();
    await bob.getByTestId('login-username').waitFor();
    await bob.goto(`${stack.url}/account`);
    await bob.getByTestId('login-username').waitFor();
  });
});
