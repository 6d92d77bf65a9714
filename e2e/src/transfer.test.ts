import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel } from './browser.js';
import { root, startStack, type Stack } from './stack.js';

/**
 * Export and import in Chromium against the production builds: Alice downloads a conversation
 * (Markdown, JSON) and everything she has; Bob, in another browser context, imports her
 * archive and the ChatGPT and Open WebUI samples, and opens what they became.
 */
let stack: Stack;
let browser: Browser;
let aliceContext: BrowserContext;
let alice: Page;
let bobContext: BrowserContext;
let bob: Page;
let archive = '';

const fixtures = path.join(root, 'backend/src/transfer/fixtures');

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  aliceContext = await browser.newContext({ acceptDownloads: true });
  alice = await aliceContext.newPage();
  bobContext = await browser.newContext({ acceptDownloads: true });
  bob = await bobContext.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

type TreeMessage = { id: string; parentId: string | null; role: string; content: string };

/** A call to the API from inside the page: same origin, the page's session cookie. */
function apiCall<T>(page: Page, url: string, body?: unknown): Promise<T> {
  return page.evaluate(
    async ([u, b]) => {
      const res = await fetch(u, {
        method: b === undefined ? 'GET' : 'POST',
        headers: b === undefined ? {} : { 'content-type': 'application/json' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${u}: ${res.status} ${text}`);
      return (res.headers.get('content-type') ?? '').startsWith('application/json')
        ? (JSON.parse(text) as unknown)
        : text;
    },
    [url, body] as const,
  ) as Promise<T>;
}

async function messagesOf(page: Page, conversationId: string): Promise<TreeMessage[]> {
  return (await apiCall<{ messages: TreeMessage[] }>(page, `/api/conversations/${conversationId}`))
    .messages;
}

async function downloaded(page: Page, click: () => Promise<void>): Promise<[Download, string]> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const file = await download.path();
  return [download, await readFile(file, 'utf8')];
}

async function importInto(page: Page, name: string, content: string) {
  await page.getByTestId('import-file').setInputFiles({
    name,
    mimeType: 'application/json',
    buffer: Buffer.from(content),
  });
  await page.getByTestId('import-start').click();
}

const conversationIdOf = (page: Page) => new URL(page.url()).pathname.split('/').at(-1)!;

describe('export', () => {
  it('downloads a conversation with two branches as Markdown and as JSON', async () => {
    await alice.goto(stack.url);
    await alice.getByTestId('setup-username').fill('alice');
    await alice.getByTestId('setup-password').fill('correct horse battery');
    await alice.getByTestId('setup-submit').click();
    await pickModel(alice, 'fake/echo');
    await alice.getByTestId('composer-input').fill('Plan a day in Paris');
    await alice.getByTestId('send-button').click();
    await expect
      .poll(() => alice.getByTestId('message-assistant').last().getAttribute('data-status'))
      .toBe('complete');
    const id = conversationIdOf(alice);
    // A second answer to the same question (a regeneration), sent as the API allows it.
    const [question] = await messagesOf(alice, id);
    await apiCall(alice, `/api/conversations/${id}/messages`, {
      content: 'Plan a day in Paris, on foot',
      model: 'fake/echo',
      parentId: question!.id,
    });
    expect(await messagesOf(alice, id)).toHaveLength(4);

    await alice.reload();
    await alice.getByTestId('export-markdown').waitFor();
    const [md, markdown] = await downloaded(alice, () =>
      alice.getByTestId('export-markdown').click(),
    );
    expect(md.suggestedFilename()).toBe('Plan-a-day-in-Paris.md');
    expect(markdown).toMatch(/^# Plan a day in Paris\n/);
    expect(markdown).toContain('4 messages · 2 branches');
    expect(markdown).toContain('## Branch 2 of 2');
    expect(markdown).toContain('You said: Plan a day in Paris, on foot.');

    const [json, text] = await downloaded(alice, () => alice.getByTestId('export-json').click());
    expect(json.suggestedFilename()).toBe('Plan-a-day-in-Paris.json');
    const single = JSON.parse(text);
    expect(single).toMatchObject({ format: 'ai-workspace-export', version: 1 });
    const tree = single.conversations[0].messages as Array<TreeMessage & { generation: unknown }>;
    expect(tree).toHaveLength(4);
    expect(tree.filter((m) => m.parentId === question!.id)).toHaveLength(2);
    expect(tree.filter((m) => m.role === 'assistant').every((m) => m.generation !== null)).toBe(
      true,
    );
  });

  it('exports everything from the account page, with progress and the saved file', async () => {
    await alice.getByTestId('account-link').click();
    const [file, text] = await downloaded(alice, () =>
      alice.getByTestId('export-everything').click(),
    );
    expect(file.suggestedFilename()).toMatch(/^ai-workspace-alice-\d{4}-\d\d-\d\d\.json$/);
    await expect.poll(() => alice.getByTestId('export-done').textContent()).toMatch(/^Saved /);
    archive = text;
    expect(JSON.parse(archive).conversations).toHaveLength(1);
  });
});

describe('import', () => {
  it("brings Alice's archive into Bob's account: the same tree, new ids", async () => {
    await apiCall(alice, '/api/admin/users', {
      username: 'bob',
      password: 'bobs own long password',
      role: 'user',
    });
    await bob.goto(stack.url);
    await bob.getByTestId('login-username').fill('bob');
    await bob.getByTestId('login-password').fill('bobs own long password');
    await bob.getByTestId('login-submit').click();
    await bob.getByTestId('account-link').click();

    await importInto(bob, 'ai-workspace-alice.json', archive);
    const summary = bob.getByTestId('import-summary');
    await expect
      .poll(() => summary.textContent())
      .toContain('Imported 1 conversation and 4 messages from this app’s archive.');
    // The sidebar lists it at once.
    await expect.poll(() => bob.getByTestId('conversation-item').count()).toBe(1);
    await bob.getByTestId('imported-conversation').click();
    await expect
      .poll(() => bob.getByTestId('message-assistant').last().textContent())
      .toContain('You said: Plan a day in Paris, on foot.');
    const original = JSON.parse(archive).conversations[0].messages as TreeMessage[];
    const copy = await messagesOf(bob, conversationIdOf(bob));
    expect(copy.map((m) => m.content)).toEqual(original.map((m) => m.content));
    expect(copy.some((m) => original.some((o) => o.id === m.id))).toBe(false);
    const root = copy.find((m) => m.parentId === null)!;
    expect(copy.filter((m) => m.parentId === root.id)).toHaveLength(2);
  });

  it('imports the ChatGPT sample: the edited branch shown, the other kept, the left-out parts listed', async () => {
    await bob.getByTestId('account-link').click();
    await importInto(
      bob,
      'conversations.json',
      await readFile(path.join(fixtures, 'chatgpt-conversations.json'), 'utf8'),
    );
    const summary = bob.getByTestId('import-summary');
    await expect
      .poll(() => summary.textContent())
      .toContain('Imported 1 conversation and 6 messages from a ChatGPT export.');
    expect(await bob.getByTestId('import-skipped').textContent()).toBe(
      'Left out: 2 × system message, 1 × image or file, 1 × tool call, 1 × tool message, 1 × conversation without any text message.',
    );
    await bob.getByTestId('imported-conversation').click();
    await expect
      .poll(() => bob.getByTestId('message-assistant').last().textContent())
      .toContain("That is the Musée d'Orsay");
    // The branch shown is the edited question's (the newest); the first question is kept too.
    expect(await bob.getByTestId('message-user').first().textContent()).toContain(
      'Plan two days in Paris',
    );
    const tree = await messagesOf(bob, conversationIdOf(bob));
    expect(tree.filter((m) => m.parentId === null).map((m) => m.content)).toEqual([
      'Plan one day in Paris for me.',
      'Plan two days in Paris for me.',
    ]);
    expect(await bob.locator('.topbar-title').textContent()).toBe('Paris itinerary');
  });

  it('imports the Open WebUI sample: the regenerated answer is a second branch', async () => {
    await bob.getByTestId('account-link').click();
    await importInto(
      bob,
      'chat-export.json',
      await readFile(path.join(fixtures, 'open-webui-export.json'), 'utf8'),
    );
    const summary = bob.getByTestId('import-summary');
    await expect
      .poll(() => summary.textContent())
      .toContain('Imported 2 conversations and 7 messages from an Open WebUI export.');
    await bob.getByTestId('imported-conversation').filter({ hasText: 'Rust lifetimes' }).click();
    await expect
      .poll(() => bob.getByTestId('message-assistant').last().textContent())
      .toContain('Then y does not need the same lifetime');
    const tree = await messagesOf(bob, conversationIdOf(bob));
    const question = tree.find((m) => m.parentId === null)!;
    expect(tree.filter((m) => m.parentId === question.id).map((m) => m.content)).toEqual([
      'It is a lifetime parameter: the result lives as long as the shorter of x and y.',
      "'a names a lifetime. The signature promises that the returned reference is valid for as long as both inputs are.",
    ]);
    // Bob has Alice's conversation, the ChatGPT one and the two Open WebUI ones; Alice only hers.
    await expect.poll(() => bob.getByTestId('conversation-item').count()).toBe(4);
    expect(
      (await apiCall<{ conversations: unknown[] }>(alice, '/api/conversations')).conversations,
    ).toHaveLength(1);
  });

  it('refuses a file that is no export, says why, and imports nothing', async () => {
    await bob.getByTestId('account-link').click();
    await importInto(bob, 'notes.json', JSON.stringify({ notes: ['buy milk'] }));
    await expect
      .poll(() => bob.getByTestId('import-error').textContent())
      .toContain('The file is not an export this app reads');
    expect(
      (await apiCall<{ conversations: unknown[] }>(bob, '/api/conversations')).conversations,
    ).toHaveLength(4);
  });
});
