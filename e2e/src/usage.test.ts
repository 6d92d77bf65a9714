import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { Client } from './client.js';
import { startStack, type Stack } from './stack.js';

/**
 * The usage page in Chromium against the production builds: after real answers (and a failed
 * one) through the API, its charts are drawn, its tables hold the API's rows, its CSV download
 * holds the table's rows, and an admin switches to the whole server and to another user. A
 * user has no such choice.
 */
let stack: Stack;
let browser: Browser;
let admin: Client;
let carol: Client;

const ADMIN_PASSWORD = 'correct horse battery';
const CAROL_PASSWORD = 'carols own long password';

async function converse(client: Client, model: string, messages: string[]) {
  const { id } = await client.json<{ id: string }>('/api/conversations', { model });
  for (const content of messages) {
    const events = [];
    for await (const event of client.send(id, content)) events.push(event);
    expect(['done', 'error']).toContain(events.at(-1)?.event);
  }
}

async function signIn(page: Page, username: string, password: string) {
  await page.goto(stack.url);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('composer-input').waitFor();
}

/** Each chart's canvas, and whether uPlot drew anything on it (a pixel not transparent). */
function drawnCharts(page: Page) {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('[data-testid^="chart-"]')].map((card) => {
      const canvas = card.querySelector('canvas');
      if (!canvas || canvas.width === 0) return { id: card.dataset.testid, drawn: false };
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
      return { id: card.dataset.testid, drawn: painted > 100 };
    }),
  );
}

const rowsOf = (page: Page, testId: string) => page.getByTestId(testId).locator('tbody tr');

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  admin = await Client.create(stack.url);
  await admin.json('/api/auth/setup', { username: 'admin', password: ADMIN_PASSWORD });
  await admin.json('/api/admin/users', { username: 'carol', password: CAROL_PASSWORD });
  carol = await Client.create(stack.url);
  await carol.json('/api/auth/login', { username: 'carol', password: CAROL_PASSWORD });
  await converse(admin, 'fake/echo', ['one [fake chunks=5]', 'two [fake chunks=9]']);
  await converse(admin, 'openai/gpt-4o-mini', ['three [fake chunks=20]']);
  await converse(admin, 'fake/error', ['this one fails [fake status=400]']);
  await converse(carol, 'fake/echo', ['carol asks [fake chunks=30]', 'and again']);
});
afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await carol?.close();
  await stack?.stop();
});

describe('the usage page', () => {
  it('draws every chart, with its table and the totals of the API', async () => {
    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.getByTestId('usage-link').click();
    await page.getByTestId('usage-page').waitFor();
    expect(new URL(page.url()).pathname).toBe('/usage');

    await expect
      .poll(async () => (await drawnCharts(page)).filter((c) => c.drawn).length, {
        timeout: 15_000,
      })
      .toBe(4);
    expect((await drawnCharts(page)).map((c) => c.id)).toEqual([
      'chart-spend',
      'chart-tokens',
      'chart-latency',
      'chart-errors',
    ]);

    const summary = await admin.json<{
      totals: { costUsd: number; generations: number; errors: number };
    }>('/api/usage/summary');
    // Three answers and the failed call.
    expect(summary.totals.generations).toBe(4);
    expect(summary.totals.errors).toBe(1);
    expect(await page.getByTestId('stat-generations').textContent()).toContain('4');
    expect(await page.getByTestId('stat-errors').textContent()).toContain('1');
    expect(await page.getByTestId('stat-cost').textContent()).toContain(
      `$${summary.totals.costUsd < 0.01 ? summary.totals.costUsd.toPrecision(2) : summary.totals.costUsd.toFixed(2)}`,
    );
    expect(await page.getByTestId('stat-budget').textContent()).toContain('No limit');

    const daily = await admin.json<{ rows: Array<{ model: string }> }>('/api/usage/daily');
    await expect.poll(() => rowsOf(page, 'table-daily').count()).toBe(daily.rows.length);
    const latency = await admin.json<{ rows: unknown[] }>('/api/usage/latency');
    expect(await rowsOf(page, 'table-latency').count()).toBe(latency.rows.length);
    expect(await rowsOf(page, 'table-errors').count()).toBe(1);
    expect(await rowsOf(page, 'table-errors').first().textContent()).toContain(
      'upstream.bad_request',
    );
    expect(await rowsOf(page, 'table-conversations').count()).toBe(3);

    // The CSV download holds the daily table's rows.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-daily-csv').first().click(),
    ]);
    const csv = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe(
      'day,model,generations,prompt_tokens,completion_tokens,reasoning_tokens,cached_tokens,cost_usd,estimated_cost_usd',
    );
    expect(
      csv
        .slice(1)
        .map((line) => line.split(',')[1])
        .sort(),
    ).toEqual(daily.rows.map((r) => r.model).sort());
    const parquet = await page.evaluate(async () => {
      const link = document.querySelector<HTMLAnchorElement>(
        '[data-testid="download-daily-parquet"]',
      )!;
      const response = await fetch(link.href);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        magic: String.fromCharCode(...bytes.slice(0, 4)),
      };
    });
    expect(parquet).toEqual({ status: 200, type: 'application/vnd.apache.parquet', magic: 'PAR1' });
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('lets an admin see the whole server and another user; a user only themselves', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, 'admin', ADMIN_PASSWORD);
    await page.goto(`${stack.url}/usage`);
    await page.getByTestId('usage-totals').waitFor();

    await page.getByTestId('usage-user').selectOption('all');
    await rowsOf(page, 'table-users').first().waitFor();
    const users = await rowsOf(page, 'table-users').allTextContents();
    expect(users.map((row) => row.split(/\d/)[0])).toEqual(
      expect.arrayContaining(['admin', 'carol']),
    );
    await expect.poll(() => page.getByTestId('stat-generations').textContent()).toContain('6');
    // The whole server has no budget of its own.
    expect(await page.getByTestId('stat-budget').count()).toBe(0);

    const carolId = (
      await admin.json<{ users: Array<{ id: string; username: string }> }>('/api/admin/usage/users')
    ).users.find((u) => u.username === 'carol')!.id;
    await page.getByTestId('usage-user').selectOption(carolId);
    await expect.poll(() => page.getByTestId('stat-generations').textContent()).toContain('2');
    await expect
      .poll(
        async () =>
          (await drawnCharts(page)).filter((c) => c.id === 'chart-spend' && c.drawn).length,
      )
      .toBe(1);
    await context.close();

    const carolContext = await browser.newContext();
    const carolPage = await carolContext.newPage();
    await signIn(carolPage, 'carol', CAROL_PASSWORD);
    await carolPage.getByTestId('usage-link').click();
    await carolPage.getByTestId('usage-totals').waitFor();
    expect(await carolPage.getByTestId('usage-user').count()).toBe(0);
    expect(await carolPage.getByTestId('stat-generations').textContent()).toContain('2');
    expect(await carolPage.getByTestId('table-users').count()).toBe(0);
    await carolContext.close();
  });
});
