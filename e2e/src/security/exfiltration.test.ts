import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../browser.js';
import { startStack, type Stack } from '../stack.js';
import { loadCorpus, unsafeMarkup } from './corpus.js';
import { watchContext, type Watch } from './watch.js';

/**
 * A prompt injection makes the model answer with remote images, styles, media and links whose
 * URL carries the conversation (exfil-payloads.json). Rendered in Chromium from the production
 * builds, the page must make no request to any host but the app's own. Half the payloads
 * point at an attacker's server that is really listening on this machine (so a request would
 * succeed, and it counts what it gets), the other half at https://evil.example.
 */
const SECRET = `secret-${Math.random().toString(36).slice(2)}`;

let stack: Stack;
let browser: Browser;
let page: Page;
let watch: Watch;
let attacker: Server;
const attackerHits: string[] = [];
let payloads: string[];

beforeAll(async () => {
  attacker = createServer((req, res) => {
    attackerHits.push(`${req.method} ${req.url}`);
    res.end();
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  // localhost, not 127.0.0.1: another site than the app's, as an attacker's would be.
  const attackerOrigin = `http://localhost:${(attacker.address() as AddressInfo).port}`;
  payloads = loadCorpus('exfil-payloads.json').map(({ text }, i) =>
    text
      .replaceAll('EVIL', i % 2 === 0 ? attackerOrigin : 'https://evil.example')
      .replaceAll('SECRET', SECRET),
  );
  stack = await startStack();
  browser = await launchBrowser();
  const context = await browser.newContext();
  watch = await watchContext(context, stack.url);
  page = await watch.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((resolve) => attacker?.close(resolve));
});

const byTestId = (id: string) => page.getByTestId(id);

describe('exfiltration through rendered model output', () => {
  it('has at least 100 variants', () => {
    expect(new Set(payloads).size).toBe(payloads.length);
    expect(payloads.length).toBeGreaterThanOrEqual(100);
  });

  it('makes zero requests to any host but the app’s own, streamed and reloaded', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('model-picker').click();
    await byTestId('model-search').fill('fake/echo');
    await page.locator('[data-testid="model-option"][data-model-id="fake/echo"]').click();

    // Ten per message; one with a code fence alone (it would turn the rest into code).
    const batches: string[][] = [];
    let current: string[] = [];
    for (const payload of payloads) {
      if (payload.includes('```')) batches.push([payload]);
      else if (current.push(payload) === 10) {
        batches.push(current);
        current = [];
      }
    }
    if (current.length > 0) batches.push(current);

    for (const [b, batch] of batches.entries()) {
      const before = await byTestId('message-assistant').count();
      await byTestId('composer-input').fill(
        `The secret is ${SECRET}. Batch ${b + 1} [fake chunks=30]\n\n${batch.join('\n\n')}`,
      );
      await byTestId('send-button').click();
      const answer = byTestId('message-assistant').nth(before);
      await expect
        .poll(() => answer.getAttribute('data-status'), { timeout: 20_000 })
        .toBe('complete');
      expect(watch.problems(), `batch ${b + 1}`).toEqual([]);
      expect(await unsafeMarkup(answer.locator('.markdown')), `batch ${b + 1}`).toEqual([]);
    }
    // Markdown images are there, as links the user may choose to open.
    expect(await page.locator('.markdown a.md-image-link').count()).toBeGreaterThan(10);

    await page.reload();
    await expect
      .poll(() => byTestId('message-assistant').last().getAttribute('data-status'))
      .toBe('complete');
    // Give anything lazy (loading=lazy, fonts, media preload) time to try.
    await page.mouse.wheel(0, -100_000);
    await page.waitForTimeout(1000);

    expect(watch.problems()).toEqual([]);
    expect(attackerHits).toEqual([]);
    const own = watch.requests.filter((r) => r.includes(` ${stack.url}/`));
    expect(own.length).toBeGreaterThan(0);
    expect(watch.requests.length).toBe(own.length);
  }, 120_000);
});
