import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn } from './browser.js';
import { startStack, type Stack } from './stack.js';

// Working with messages in Chromium: branches (regenerate, edit) and the ‹ 1/2 › switch,
// copy, delete, continue after a "length" stop, the per-answer figures and the reasoning block.

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: stack.url,
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const answers = () => byTestId('message-assistant');
const lastAnswer = () => answers().last();
const questions = () => byTestId('message-user');

/** Runs `action`, which starts an answer, and waits until the page shows it finished. */
async function answered(action: () => Promise<void>) {
  const before = stack.fake.streams.length;
  await action();
  await expect
    .poll(() => stack.fake.streams.length > before && stack.fake.streams.at(-1)?.endedBy, {
      timeout: 15_000,
    })
    .toBe('complete');
  // The page is done once no answer streams and the conversation has reloaded.
  await expect.poll(() => byTestId('stop-button').count(), { timeout: 15_000 }).toBe(0);
  await expect
    .poll(() => page.locator('[data-testid="message-assistant"][data-status="streaming"]').count())
    .toBe(0);
}

const send = (text: string) =>
  answered(async () => {
    await byTestId('composer-input').fill(text);
    await byTestId('send-button').click();
  });

interface StoredMessage {
  id: string;
  parentId: string | null;
  role: string;
  content: string;
  model: string | null;
}

/** The conversation as the backend holds it (all branches), read with the page's session. */
function stored(): Promise<StoredMessage[]> {
  return page.evaluate(async () => {
    const id = location.pathname.split('/').pop() ?? '';
    const response = await fetch(`/api/conversations/${id}`);
    return ((await response.json()) as { messages: StoredMessage[] }).messages;
  });
}

/** The messages (role: text) of the last upstream chat request. */
function lastUpstream(): string[] {
  const request = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  return (request?.body as { messages: Array<{ role: string; content: string }> }).messages.map(
    (m) => `${m.role}: ${m.content}`,
  );
}

describe('messages in Chromium', () => {
  it('shows each answer’s model, tokens, cost, time to first token and speed', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    await pickModelIn(page, 'fake/echo');
    // The conversation's reload after the answer is held back: what the stats show then came
    // from the stream itself (its `usage` and `done` events), as a live answer shows them.
    let releaseReload = () => {};
    const held = new Promise<void>((resolve) => (releaseReload = resolve));
    let reloadsHeld = 0;
    await page.route(/\/api\/conversations\/[^/?]+$/, async (route) => {
      if (route.request().method() !== 'GET') return route.fallback();
      reloadsHeld += 1;
      await held;
      await route.fallback();
    });
    let live: Record<string, string | null>;
    const stats = lastAnswer().getByTestId('message-stats');
    try {
      await byTestId('composer-input').fill('First question [fake chunks=6 delay=20]');
      await byTestId('send-button').click();
      await stats.locator('.meta-speed').waitFor({ timeout: 15_000 });
      live = {
        model: await stats.locator('.meta-model').textContent(),
        tokens: await stats.locator('.meta-tokens').textContent(),
        cost: await stats.locator('.meta-cost').textContent(),
        ttft: await stats.locator('.meta-ttft').textContent(),
        speed: await stats.locator('.meta-speed').textContent(),
      };
      // The reload was asked for and is still held: the figures above came from the stream.
      // (Polled: the request can reach the route a moment after the stats are drawn.)
      await expect.poll(() => reloadsHeld).toBeGreaterThan(0);
    } catch (error) {
      // A failure must not leave the page's reloads held for the tests that follow.
      releaseReload();
      await page.unroute(/\/api\/conversations\/[^/?]+$/);
      throw error;
    }
    expect(live.model).toMatch(/echo/i);
    expect(live.tokens).toMatch(/\d+ in · 6 out/);
    expect(live.cost).toMatch(/\$/);
    expect(live.ttft).toMatch(/^\d+(\.\d)? m?s to first token$/);
    expect(live.speed).toMatch(/^\d+(\.\d)? tok\/s$/);
    const reloaded = page.waitForResponse(
      (r) => /\/api\/conversations\/[^/?]+$/.test(r.url()) && r.request().method() === 'GET',
    );
    releaseReload();
    await reloaded;
    await page.unroute(/\/api\/conversations\/[^/?]+$/);
    await expect.poll(() => byTestId('stop-button').count()).toBe(0);

    // The saved figures, once reloaded, are the ones the stream told.
    for (const [key, text] of Object.entries(live)) {
      expect(await stats.locator(`.meta-${key}`).textContent()).toBe(text);
    }
  });

  it('regenerates with another model as a second version, with its reasoning collapsible', async () => {
    await lastAnswer().getByTestId('regenerate-other').click();
    await answered(async () => {
      await lastAnswer().getByTestId('regenerate-model').selectOption('fake/reasoning');
    });
    expect(await lastAnswer().getByTestId('sibling-count').textContent()).toBe('2/2');
    expect(await answers().count()).toBe(1); // one branch shown
    expect(await questions().count()).toBe(1); // the question was not copied
    expect(
      await lastAnswer().getByTestId('message-stats').locator('.meta-model').textContent(),
    ).toMatch(/reasoning/i);

    const reasoning = lastAnswer().getByTestId('reasoning');
    const open = () => reasoning.evaluate((el) => (el as HTMLDetailsElement).open);
    expect(await open()).toBe(false);
    expect(await reasoning.locator('.reasoning-body').isVisible()).toBe(false);
    await reasoning.locator('summary').click();
    expect(await open()).toBe(true);
    expect(await reasoning.locator('.reasoning-body').textContent()).toContain('First question');
    await reasoning.locator('summary').click();
    expect(await open()).toBe(false);
  });

  it('switches branches with ‹ › and sends the next question on the branch shown', async () => {
    await lastAnswer().getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => lastAnswer().getByTestId('sibling-count').textContent()).toBe('1/2');
    expect(await lastAnswer().getByTestId('reasoning').count()).toBe(0);
    expect(
      await lastAnswer().getByTestId('message-stats').locator('.meta-model').textContent(),
    ).toMatch(/echo/i);

    await send('Second question [fake chunks=2]');
    const messages = await stored();
    const echoAnswer = messages.find((m) => m.role === 'assistant' && m.model === 'fake/echo');
    const second = messages.find((m) => m.content.startsWith('Second question'));
    expect(second?.parentId).toBe(echoAnswer?.id);
    expect(lastUpstream()).toEqual([
      'user: First question [fake chunks=6 delay=20]',
      `assistant: ${echoAnswer?.content}`,
      'user: Second question [fake chunks=2]',
    ]);
    // The choice is remembered across a reload.
    await page.reload();
    await expect.poll(() => questions().count()).toBe(2);
    expect(await answers().first().getByTestId('sibling-count').textContent()).toBe('1/2');
  });

  it('edits a question into a new version whose answer sees only its own branch', async () => {
    await questions().first().waitFor();
    await page.getByTestId('edit-message').first().click();
    await byTestId('edit-message-input').fill('First question, edited [fake chunks=3]');
    await answered(() => byTestId('edit-message-send').click());
    expect(await questions().count()).toBe(1);
    expect(await questions().first().textContent()).toBe('First question, edited [fake chunks=3]');
    expect(await page.getByTestId('sibling-count').first().textContent()).toBe('2/2');
    expect(await lastAnswer().textContent()).toContain('You said: First question, edited');
    expect(lastUpstream()).toEqual(['user: First question, edited [fake chunks=3]']);

    // Back to the first version: its whole branch, with the second question, is shown again.
    await page.getByRole('button', { name: 'Previous version' }).first().click();
    await expect.poll(() => questions().count()).toBe(2);
    expect(await questions().last().textContent()).toBe('Second question [fake chunks=2]');
  });

  it('copies an answer to the clipboard', async () => {
    const text = (await stored()).find((m) => m.content.startsWith('You said: Second'))?.content;
    await lastAnswer().getByTestId('copy-message').click();
    await expect.poll(() => lastAnswer().getByTestId('copy-message').textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);
  });

  it('deletes a question and its answer after a confirmation', async () => {
    const before = (await stored()).length;
    const second = questions().last().locator('..');
    await second.getByTestId('delete-message').click();
    // Nothing is deleted until confirmed.
    expect(await questions().count()).toBe(2);
    await second.getByTestId('confirm-delete-message').click();
    await expect.poll(() => questions().count()).toBe(1);
    expect(await questions().first().textContent()).toBe('First question [fake chunks=6 delay=20]');
    const after = await stored();
    expect(after).toHaveLength(before - 2);
    expect(after.some((m) => m.content.startsWith('Second question'))).toBe(false);
    // The next question follows the branch still shown.
    await send('Third question [fake chunks=2]');
    expect(lastUpstream().at(-1)).toBe('user: Third question [fake chunks=2]');
    expect(lastUpstream()[0]).toBe('user: First question [fake chunks=6 delay=20]');
  });

  it('continues an answer cut at the token limit, in place', async () => {
    await byTestId('new-chat').click();
    await send('Cut me [fake chunks=12 limit=7]');
    const stats = lastAnswer().getByTestId('message-stats');
    expect(await stats.locator('.meta-length').textContent()).toBe('Cut at the token limit');
    const cut = (await lastAnswer().locator('.markdown').textContent()) ?? '';
    await answered(() => lastAnswer().getByTestId('continue-message').click());
    expect(await lastAnswer().getByTestId('continue-message').count()).toBe(0);
    expect(await answers().count()).toBe(1);
    const whole = (await stored()).find((m) => m.role === 'assistant')?.content ?? '';
    // The fake's deterministic answer, cut after 7 chunks, then its last 5 chunks appended.
    expect(whole).toBe('You said: Cut me [fake chunks=12 limit=7]. This answer comes from the ');
    expect(cut.trim()).toBe('You said: Cut me [fake chunks=12 limit=7].');
    expect((await lastAnswer().locator('.markdown').textContent())?.trim()).toBe(whole.trim());
    expect(await stats.locator('.meta-length').count()).toBe(0);

    await send('And then? [fake chunks=2]');
    expect(lastUpstream()).toEqual([
      'user: Cut me [fake chunks=12 limit=7]',
      `assistant: ${whole}`,
      'user: And then? [fake chunks=2]',
    ]);
  });

  it('lists the web pages an answer cites as safe links', async () => {
    await send('Look it up [fake sources=2 chunks=3]');
    const sources = lastAnswer().getByTestId('sources');
    const links = sources.locator('a');
    expect(await links.count()).toBe(2);
    for (const link of await links.all()) {
      expect(await link.getAttribute('href')).toMatch(/^https:\/\/search\.fake-openrouter\.test\//);
      expect(await link.getAttribute('target')).toBe('_blank');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
    }
    expect(await links.first().textContent()).toContain('Look it up');
  });

  it('opens a search result on a branch not shown by switching ‹ n/m › to it', async () => {
    await byTestId('new-chat').click();
    await send('Where do wombats sleep? [fake chunks=2]');
    // The question's row: its text, then its ‹ n/m › and buttons.
    const firstRow = () => page.locator('.message-user-row').first();
    await firstRow().getByTestId('edit-message').click();
    await byTestId('edit-message-input').fill('Where do koalas sleep? [fake chunks=2]');
    await answered(() => byTestId('edit-message-send').click());
    expect(await firstRow().getByTestId('sibling-count').textContent()).toBe('2/2');
    const wombats = (await stored()).filter((m) => m.content.includes('wombats'));
    const hiddenAnswer = wombats.find((m) => m.role === 'assistant')!;
    expect(hiddenAnswer).toBeTruthy();
    expect(await page.locator(`[data-message-id="${hiddenAnswer.id}"]`).count()).toBe(0);

    // The answer of the first version is found; opening it shows that version's branch.
    await byTestId('search-input').fill('wombats');
    const hit = page.locator(`[data-testid="search-result"][data-message-id="${hiddenAnswer.id}"]`);
    await expect.poll(() => hit.count(), { timeout: 10_000 }).toBe(1);
    await hit.click();
    const target = page.locator(`.message[data-message-id="${hiddenAnswer.id}"]`);
    await expect.poll(() => target.getAttribute('data-focused'), { timeout: 10_000 }).toBe('true');
    expect(await questions().first().textContent()).toBe('Where do wombats sleep? [fake chunks=2]');
    expect(await firstRow().getByTestId('sibling-count').textContent()).toBe('1/2');
    expect(await target.textContent()).toContain('You said: Where do wombats sleep?');

    // The reader may move on from it: the result opened does not pull the view back.
    await firstRow().getByRole('button', { name: 'Next version' }).click();
    await expect.poll(() => firstRow().getByTestId('sibling-count').textContent()).toBe('2/2');
    expect(await questions().first().textContent()).toBe('Where do koalas sleep? [fake chunks=2]');
    await page.waitForTimeout(300);
    expect(await firstRow().getByTestId('sibling-count').textContent()).toBe('2/2');
  });
});
