import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeTitle } from '../../tools/fake-openrouter/src/scenarios.js';
import { launchBrowser, pickModel } from './browser.js';
import { releaseRoot } from './release.js';
import { startStack, stopService, type Stack } from './stack.js';

// Organizing conversations in the browser: the automatic title, rename, pin, archive, folders,
// the date groups with infinite scroll, and search with its highlighted snippet.

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  // fake/slow writes the title a word every 50 ms: the provisional title shows first.
  stack = await startStack({ TITLE_MODEL: 'fake/slow' });
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
/** The sidebar's item with exactly this title. */
const item = (title: string) =>
  page.locator('[data-testid="conversation-item"]', {
    has: page.locator('.conversation-link', {
      hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
    }),
  });
/** expect.poll with room for a reload or a title call (its default gives up after 1 s). */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 10_000 });
const titles = () => page.locator('[data-testid="conversation-item"] .conversation-link');

/** The JSON API, called from the page (same origin, the session cookie). */
async function api<T = Record<string, unknown>>(
  method: string,
  url: string,
  body?: unknown,
): Promise<T> {
  return page.evaluate(
    async ([method, url, body]) => {
      const response = await fetch(url as string, {
        method: method as string,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
      return text === '' ? null : JSON.parse(text);
    },
    [method, url, body] as const,
  ) as Promise<T>;
}

/** Sends a message through the API and reads its stream to the end. */
async function say(conversationId: string, content: string): Promise<void> {
  const stream = await page.evaluate(
    async ([id, content]) => {
      const response = await fetch(`/api/conversations/${id}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content }),
      });
      return response.text();
    },
    [conversationId, content] as const,
  );
  expect(stream).toContain('event: done');
}

async function openMenu(title: string) {
  await item(title).getByTestId('conversation-menu').click();
}

describe('conversations in Chromium', () => {
  it('signs up and names a new conversation by the title model after its first answer', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();

    await pickModel(page, 'fake/echo');
    const question = 'how should I plan a week in Lisbon?';
    await byTestId('composer-input').fill(question);
    await byTestId('send-button').click();
    await poll(() => byTestId('message-assistant').last().getAttribute('data-status')).toBe(
      'complete',
    );
    // The title model's title replaces the first words, in the sidebar and the top bar.
    const title = fakeTitle(question);
    expect(title).toBe('How Should I Plan A');
    await item(title).waitFor({ timeout: 15_000 });
    await poll(() => page.locator('.topbar-title').textContent()).toBe(title);
    expect(await titles().allTextContents()).toEqual([title]);
    // One title call, made after the answer's, with the question and the answer.
    const calls = stack.fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
    const models = calls.map((r) => (r.body as { model?: string } | null)?.model);
    expect(models).toEqual(['fake/echo', 'fake/slow']);
    expect(JSON.stringify(calls[1]?.body)).toContain(question);
    expect(JSON.stringify(calls[1]?.body)).toContain(`You said: ${question}`);
  });

  it('renames, pins, archives and unarchives from the menu', async () => {
    const first = fakeTitle('how should I plan a week in Lisbon?');
    await api('POST', '/api/conversations', { title: 'Second chat', model: 'fake/echo' });
    await page.reload();
    await item('Second chat').waitFor();
    expect(await titles().allTextContents()).toEqual(['Second chat', first]);

    // Rename.
    await openMenu(first);
    await byTestId('rename-conversation').click();
    await byTestId('rename-input').fill('Lisbon week');
    await byTestId('rename-save').click();
    await item('Lisbon week').waitFor();
    // Renaming is activity: it moves to the top.
    await poll(() => titles().allTextContents()).toEqual(['Lisbon week', 'Second chat']);

    // Pin the older one: it leads the list, in the Pinned group.
    await openMenu('Second chat');
    await byTestId('pin-conversation').click();
    await poll(() => titles().allTextContents()).toEqual(['Second chat', 'Lisbon week']);
    const pinned = page.locator('[data-testid="date-group"][data-group="Pinned"]');
    expect(await pinned.locator('.conversation-link').allTextContents()).toEqual(['Second chat']);
    await page.reload();
    await poll(() => titles().allTextContents()).toEqual(['Second chat', 'Lisbon week']);
    expect(await item('Second chat').getAttribute('data-pinned')).toBe('true');

    // Archive: out of the list, into the Archived view, and back.
    await openMenu('Lisbon week');
    await byTestId('archive-conversation').click();
    await poll(() => titles().allTextContents()).toEqual(['Second chat']);
    await byTestId('view-archived').click();
    await poll(() => titles().allTextContents()).toEqual(['Lisbon week']);
    await openMenu('Lisbon week');
    await byTestId('archive-conversation').click(); // "Unarchive"
    await poll(() => titles().allTextContents()).toEqual([]);
    await byTestId('view-all').click();
    await poll(() => titles().allTextContents()).toEqual(['Second chat', 'Lisbon week']);
  });

  it('files a conversation in a folder, renames and deletes the folder, keeping the chat', async () => {
    await byTestId('new-folder').click();
    await byTestId('folder-name-input').fill('Travel');
    await byTestId('folder-save').click();
    // The new folder's (empty) view opens.
    await poll(() => byTestId('open-folder').allTextContents()).toEqual(['Travel']);
    await poll(() => page.locator('.sidebar-empty').textContent()).toContain('folder');

    await byTestId('view-all').click();
    await openMenu('Lisbon week');
    await byTestId('move-conversation').selectOption({ label: 'Travel' });
    await byTestId('open-folder').click();
    await poll(() => titles().allTextContents()).toEqual(['Lisbon week']);

    await byTestId('rename-folder').click();
    await byTestId('folder-name-input').fill('Trips');
    await byTestId('folder-save').click();
    await poll(() => byTestId('open-folder').allTextContents()).toEqual(['Trips']);

    await byTestId('delete-folder').click();
    await byTestId('confirm-delete-folder').click();
    await poll(() => byTestId('folder-item').count()).toBe(0);
    // Back to all chats; the conversation stays, out of any folder.
    await poll(() => titles().allTextContents()).toEqual(['Second chat', 'Lisbon week']);
    const all = await api<{ conversations: { title: string; folderId: string | null }[] }>(
      'GET',
      '/api/conversations',
    );
    expect(all.conversations.find((c) => c.title === 'Lisbon week')?.folderId).toBeNull();
  });

  it('groups by date (Today, Yesterday, 7 and 30 days, months) and loads more while scrolling', async () => {
    // 40 more conversations through the API, then their activity times moved into the past
    // in the database itself (the backend stopped meanwhile): no API sets a time.
    const made: string[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await api<{ id: string }>('POST', '/api/conversations', {
        title: `Seed ${String(i).padStart(2, '0')}`,
      });
      made.push(c.id);
    }
    const today = new Date();
    today.setHours(12, 0, 0, 0);
    const daysAgo = (days: number) => new Date(today.getTime() - days * 86_400_000).toISOString();
    const times = made.map((_, i) =>
      i < 5
        ? null
        : i < 10
          ? daysAgo(1)
          : i < 15
            ? daysAgo(4)
            : i < 20
              ? daysAgo(15)
              : daysAgo(70 + i),
    );
    await stopService(stack.backend);
    await setActivityTimes(
      stack.databasePath,
      made.flatMap((id, i) => (times[i] ? [[id, times[i]] as const] : [])),
    );
    await stack.restartBackend({ TITLE_MODEL: 'fake/slow' });

    await page.reload();
    await byTestId('date-group').first().waitFor();
    // The first page: 30 of 42, pinned first, then today's; more to load.
    await poll(() => titles().count()).toBe(30);
    expect(await byTestId('load-more').count()).toBe(1);
    // Scrolling to the end loads the next page (infinite scroll), until all are there.
    for (let i = 0; i < 10 && (await titles().count()) < 42; i++) {
      await page.locator('.conversation-list').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForTimeout(200);
    }
    expect(await titles().count()).toBe(42);
    expect(await byTestId('load-more').count()).toBe(0);

    const groups = await byTestId('date-group').evaluateAll((sections) =>
      sections.map((s) => [
        s.getAttribute('data-group'),
        s.querySelectorAll('[data-testid="conversation-item"]').length,
      ]),
    );
    const month = (days: number) => {
      const at = new Date(today.getTime() - days * 86_400_000);
      return at.toLocaleDateString('en-US', {
        month: 'long',
        ...(at.getFullYear() === today.getFullYear() ? {} : { year: 'numeric' }),
      });
    };
    const months = new Map<string, number>();
    for (let i = 20; i < 40; i++) months.set(month(70 + i), (months.get(month(70 + i)) ?? 0) + 1);
    expect(groups).toEqual([
      ['Pinned', 1],
      ['Today', 1 + 5], // Lisbon week and the five seeds left as they were
      ['Yesterday', 5],
      ['Previous 7 days', 5],
      ['Previous 30 days', 5],
      ...[...months.entries()],
    ]);
  });

  it('searches titles and messages, highlights the match, and opens the message found', async () => {
    const c = await api<{ id: string }>('POST', '/api/conversations', {
      title: 'Animals',
      model: 'fake/echo',
    });
    for (let i = 0; i < 8; i++)
      await say(c.id, `Filler message number ${i} ${'lorem '.repeat(60)}`);
    await say(c.id, 'Where does the <b>quokka</b> live?');
    for (let i = 8; i < 14; i++) await say(c.id, `More filler ${i} ${'ipsum '.repeat(60)}`);

    await byTestId('search-input').fill('QUOKKA');
    const results = byTestId('search-result');
    // The question and its echoed answer, newest first.
    await poll(() => results.count()).toBe(2);
    const question = results.nth(1);
    expect(await question.locator('mark').allTextContents()).toEqual(['quokka']);
    // User text is shown as text: the tags are characters, not elements.
    expect(await question.textContent()).toContain('<b>quokka</b>');
    expect(await question.locator('b').count()).toBe(0);
    const messageId = await question.getAttribute('data-message-id');
    expect(messageId).toBeTruthy();

    await question.click();
    const target = page.locator(`.message[data-message-id="${messageId}"]`);
    await poll(() => target.getAttribute('data-focused')).toBe('true');
    expect(await target.textContent()).toContain('Where does the <b>quokka</b> live?');
    // Scrolled into view in the middle of a long conversation.
    await poll(() => target.isVisible()).toBe(true);
    const inView = await target.evaluate((el) => {
      const box = el.getBoundingClientRect();
      const scroller = el.closest('.chat-scroll')!.getBoundingClientRect();
      return box.bottom > scroller.top && box.top < scroller.bottom;
    });
    expect(inView).toBe(true);
    expect(await page.locator('.chat-scroll').evaluate((el) => el.scrollTop)).toBeGreaterThan(0);

    // A title match opens its conversation.
    await byTestId('search-input').fill('seed 07');
    await poll(() => results.locator('.search-result-title').allTextContents()).toEqual([
      'Seed 07',
    ]);
    expect(await results.first().locator('mark').allTextContents()).toEqual(['Seed 07']);
    await results.first().click();
    await poll(() => page.locator('.topbar-title').textContent()).toBe('Seed 07');
  });
});

/** Moves conversations' activity times, in the stopped backend's database file. */
async function setActivityTimes(
  databasePath: string,
  rows: ReadonlyArray<readonly [id: string, at: string]>,
): Promise<void> {
  // The release's own DuckDB binding (the backend's production dependency).
  const require = createRequire(path.join(releaseRoot, 'backend', 'package.json'));
  const duckdb = (await import(pathToFileURL(require.resolve('@duckdb/node-api')).href)) as {
    DuckDBInstance: {
      create(path: string): Promise<{
        connect(): Promise<{
          run(sql: string, params: string[]): Promise<unknown>;
          closeSync(): void;
        }>;
        closeSync(): void;
      }>;
    };
  };
  const instance = await duckdb.DuckDBInstance.create(databasePath);
  const connection = await instance.connect();
  try {
    for (const [id, at] of rows) {
      await connection.run(
        'UPDATE conversations SET updated_at = CAST($1 AS TIMESTAMPTZ) WHERE id = $2',
        [at, id],
      );
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
