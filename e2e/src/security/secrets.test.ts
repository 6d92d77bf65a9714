import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel as pickModelIn, scriptVisibleText } from '../browser.js';
import { releaseRoot, startStack, stopService, type Stack } from '../stack.js';

const run = promisify(execFile);

/**
 * A whole session through the production builds (set-up, sign-out and in, a streamed answer,
 * the user's own OpenRouter key saved on the account page, another answer, the list, opening
 * and renaming a conversation, sign-out), then a search for every secret in
 * everything an attacker might get: each log line of both services (at trace level), each API
 * response body (SSE events included) and header the browser received, what the page's own
 * script can read (cookies, storage), the built JavaScript, and the database file's raw bytes
 * and text columns. Zero hits.
 *
 * The one place a secret belongs is the Set-Cookie header that hands the browser its
 * session token (HttpOnly): that header is left out of the search, and nothing else.
 */
const serverKey = `sk-or-v1-e2e-${randomBytes(24).toString('hex')}`;
const password = `Pw-${randomBytes(12).toString('hex')}`;
/** The user's own key ("bring your own key"), saved on the account page: stored sealed. */
const userKey = `sk-or-v1-own-${randomBytes(24).toString('hex')}`;

/** Every secret of the session, by name. Add one as soon as the session has it. */
const secrets = new Map<string, string>([
  ['OPENROUTER_API_KEY', serverKey],
  ['password', password],
  ['user OpenRouter key', userKey],
]);

let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** What the browser received from the API: `<url> <status>`, the headers but Set-Cookie, the body. */
const received: Array<Promise<string>> = [];
/** The Set-Cookie headers received: where the session token does belong. */
const setCookies: Array<Promise<string>> = [];

beforeAll(async () => {
  stack = await startStack(
    { OPENROUTER_API_KEY: serverKey, LOG_LEVEL: 'trace' },
    { LOG_LEVEL: 'trace' },
  );
  browser = await launchBrowser();
  context = await browser.newContext();
  page = await context.newPage();
  context.on('response', (response) => {
    if (!response.url().startsWith(`${stack.url}/api/`)) return;
    setCookies.push(response.headerValue('set-cookie').then((value) => value ?? ''));
    received.push(
      (async () => {
        const headers = Object.entries(await response.allHeaders())
          .filter(([name]) => name !== 'set-cookie')
          .map(([name, value]) => `${name}: ${value}`)
          .join('\n');
        // The whole body once it has ended: every SSE event of a streamed answer too.
        const body = await response.text().catch((err: Error) => `(no body: ${err.message})`);
        return `${response.url()} ${response.status()}\n${headers}\n\n${body}`;
      })(),
    );
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);

const pickModel = (id: string) => pickModelIn(page, id);

const pageText = () => scriptVisibleText(page);

async function sessionToken(): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name.endsWith('ai_session'));
  if (!cookie) throw new Error('no session cookie');
  return cookie.value;
}

/** Where each secret was found (in plain text, URL-encoded or base64), or nothing. */
function hits(where: string, text: string): string[] {
  const found: string[] = [];
  for (const [name, value] of secrets) {
    const forms = [value, encodeURIComponent(value), Buffer.from(value).toString('base64')];
    if (forms.some((form) => text.includes(form))) found.push(`${name} in ${where}`);
  }
  return found;
}

async function filesUnder(dir: string, ext: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('no secret leaks anywhere in a full session', () => {
  it('drives the session', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill(password);
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
    secrets.set('session token (set-up)', await sessionToken());

    await byTestId('sign-out').click();
    await byTestId('login-username').fill('admin');
    await byTestId('login-password').fill(password);
    await byTestId('login-submit').click();
    await byTestId('composer-input').waitFor();
    secrets.set('session token (sign-in)', await sessionToken());

    await pickModel('fake/slow');
    await byTestId('composer-input').fill('Tell me a secret [fake chunks=20 delay=20]');
    await byTestId('send-button').click();
    const answer = byTestId('message-assistant').last();
    await expect
      .poll(() => answer.getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');

    // The user's own OpenRouter key, typed on the account page: checked with (the fake)
    // OpenRouter, stored sealed, shown again by its last four characters only.
    await byTestId('account-link').click();
    await byTestId('key-input').fill(userKey);
    await byTestId('key-save').click();
    const lastFour = `••••${userKey.slice(-4)}`;
    await expect.poll(() => byTestId('key-last-four').textContent()).toBe(lastFour);
    expect(await byTestId('key-check-result').getAttribute('data-status')).toBe('valid');
    expect(hits('the account page once saved', await pageText())).toEqual([]);
    await page.reload();
    await expect.poll(() => byTestId('key-last-four').textContent()).toBe(lastFour);
    expect(hits('the account page reloaded', await pageText())).toEqual([]);
    // A second answer, now that the user has a key of their own (which pays for their chats).
    await page.goto(stack.url);
    await pickModel('fake/slow');
    await byTestId('composer-input').fill('And another [fake chunks=10 delay=20]');
    await byTestId('send-button').click();
    await expect
      .poll(() => answer.getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');

    // The list, then the conversation opened from it, then renamed (the API the UI uses).
    await page.goto(stack.url);
    await byTestId('conversation-item').first().locator('a').click();
    await expect.poll(() => answer.getAttribute('data-status')).toBe('complete');
    const id = page.url().split('/c/')[1] ?? '';
    const renamed = await page.evaluate(async (conversationId) => {
      const response = await fetch(`/api/conversations/${conversationId}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Renamed' }),
      });
      return response.status;
    }, id);
    expect(renamed).toBe(200);

    // What the page's own script (or an XSS) could read.
    const readable = await page.evaluate(() =>
      JSON.stringify({
        cookie: document.cookie,
        local: { ...localStorage },
        session: { ...sessionStorage },
      }),
    );
    expect(hits('what page script can read', readable)).toEqual([]);

    await byTestId('sign-out').click();
    await byTestId('login-username').waitFor();
  });

  it('no secret in any API response or SSE event the browser received', async () => {
    const texts = await Promise.all(received);
    // The session above made them all: set-up, sign-in, the stream, the list, rename, sign-out.
    for (const route of [
      '/api/auth/setup',
      '/api/auth/login',
      '/messages',
      '/api/keys/openrouter',
      '/api/auth/logout',
    ]) {
      expect(
        texts.some((t) => t.split(' ')[0]?.includes(route)),
        route,
      ).toBe(true);
    }
    expect(texts.some((t) => t.includes('event: delta'))).toBe(true);
    expect(texts.flatMap((text) => hits(text.split('\n')[0] ?? '', text))).toEqual([]);
    // The search works: the tokens are found where they belong.
    const cookies = (await Promise.all(setCookies)).join('\n');
    expect(hits('Set-Cookie', cookies)).toEqual([
      'session token (set-up) in Set-Cookie',
      'session token (sign-in) in Set-Cookie',
    ]);
  });

  it('no secret in any log line of either service', async () => {
    const logs = { backend: stack.backend.output(), frontend: stack.frontend.output() };
    // Trace level: every request is in them.
    expect(logs.backend).toContain('/api/auth/login');
    expect(logs.frontend.length).toBeGreaterThan(0);
    const found = Object.entries(logs).flatMap(([name, text]) =>
      text.split('\n').flatMap((line, i) => hits(`${name} log line ${i + 1}`, line)),
    );
    expect(found).toEqual([]);
    // Both keys were used: the upstream (and only the upstream) got them, the user's at least
    // when it was checked as it was saved.
    const upstream = JSON.stringify(stack.fake.requests.map((r) => r.headers));
    expect(hits('upstream requests', upstream)).toEqual([
      'OPENROUTER_API_KEY in upstream requests',
      'user OpenRouter key in upstream requests',
    ]);
  });

  it('no secret in the built JavaScript', async () => {
    const files = [
      ...(await filesUnder(path.join(releaseRoot, 'frontend', 'dist'), '.js')),
      ...(await filesUnder(path.join(releaseRoot, 'backend', 'dist'), '.js')),
    ];
    expect(files.some((f) => f.includes(`${path.sep}assets${path.sep}`))).toBe(true);
    const found: string[] = [];
    for (const file of files) found.push(...hits(file, await readFile(file, 'latin1')));
    expect(found).toEqual([]);
  });

  it('no secret in the database file, its raw bytes or any text column', async () => {
    // A clean stop checkpoints: the file holds everything, the WAL is folded in.
    await stopService(stack.backend);
    const found: string[] = [];
    for (const file of [stack.databasePath, `${stack.databasePath}.wal`]) {
      const bytes = await readFile(file).catch(() => null);
      if (bytes) found.push(...hits(path.basename(file), bytes.toString('latin1')));
    }
    // DuckDB may compress strings in the file, so the raw search alone proves little: every
    // text column of every table is searched through DuckDB too.
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await (await DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' })).connect();
         const columns = (await db.runAndReadAll(
           "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR' AND table_schema = 'main'",
         )).getRowObjectsJS();
         const out = [];
         for (const { table_name, column_name } of columns) {
           const rows = (await db.runAndReadAll(\`SELECT "\${column_name}" AS v FROM "\${table_name}"\`)).getRowObjectsJS();
           out.push(...rows.map((r) => \`\${table_name}.\${column_name}: \${r.v}\`));
         }
         console.log(JSON.stringify(out));`,
        stack.databasePath,
      ],
      { cwd: path.join(releaseRoot, 'backend'), maxBuffer: 64 * 1024 * 1024 },
    );
    const values = JSON.parse(stdout) as string[];
    expect(values.some((v) => v.startsWith('users.username: admin'))).toBe(true);
    // The user's key is in there, sealed: its last four and its ciphertext were searched too.
    expect(values).toContain(`user_api_keys.last_four: ${userKey.slice(-4)}`);
    expect(values.some((v) => v.startsWith('user_api_keys.ciphertext: '))).toBe(true);
    for (const value of values) found.push(...hits(value.split(':')[0] ?? '', value));
    expect(found).toEqual([]);
  });
});
