import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser.js';
import { Client } from './client.js';
import { startNginx, type Nginx } from './nginx.js';
import { freePort, releaseRoot, serviceNode, startStack, type Stack } from './stack.js';

const run = promisify(execFile);

// The production topology, here: nginx (TLS) → frontend → backend → DuckDB, all from
// their production builds, against the fake OpenRouter, driven over HTTPS.
let stack: Stack;
let nginx: Nginx;
let browser: Browser;
let page: Page;
let client: Client;

beforeAll(async () => {
  stack = await startStack({ SHUTDOWN_GRACE_MS: '1000' });
  nginx = await startNginx(stack.frontendPort, stack.dir);
  browser = await launchBrowser();
  page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  client = await Client.create(nginx.httpsUrl, nginx.certFile);
});
afterAll(async () => {
  await client?.close();
  await browser?.close();
  await nginx?.stop();
  await stack?.stop();
});

describe('nginx in front', () => {
  it('redirects HTTP to HTTPS', async () => {
    const plain = await Client.create(nginx.httpUrl);
    const response = await plain.request('/c/some-chat?x=1', { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe(`${nginx.httpsUrl}/c/some-chat?x=1`);
    await plain.close();
  });

  it('serves the app over TLS with the security headers', async () => {
    const response = await client.request('/');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<div id="root">');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d{8}/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBeTruthy();
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(response.headers.get('server')).toBe('nginx');
  });

  it('keeps each service’s CSP and gives its own responses one that allows nothing', async () => {
    const page = await client.request('/');
    const pageCsp = page.headers.get('content-security-policy') ?? '';
    expect(pageCsp).toContain("script-src 'self'");
    expect(pageCsp).toContain("img-src 'self' data: blob:");
    expect(pageCsp).toContain("frame-ancestors 'none'");
    // One header each, nginx's values (not a duplicate from the frontend).
    expect(page.headers.get('permissions-policy')).toBe(
      'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
    );
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await client.request('/api/health');
    expect(api.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    const own = await client.request('/metrics');
    expect(own.status).toBe(404);
    expect(own.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  });

  it('does not reach /metrics or the backend-only routes', async () => {
    for (const target of ['/metrics', '/api/../metrics', '/%6detrics']) {
      const response = await client.request(target);
      expect(response.status, target).toBe(404);
      expect(await response.text()).not.toContain('http_requests_total');
    }
    const ops = await client.request('/ops/backup', { body: { dir: '/tmp/x' } });
    expect(ops.status).toBe(404);
    // The backend itself does serve them, on its own port.
    expect(await (await fetch(`${stack.backendUrl}/metrics`)).text()).toContain(
      'http_requests_total',
    );
  });
});

describe('a user over HTTPS in Chromium', () => {
  it('sets up, signs out and in, and sees the answer stream in through nginx', async () => {
    await page.goto(nginx.httpsUrl);
    await page.getByTestId('setup-username').fill('admin');
    await page.getByTestId('setup-password').fill('correct horse battery');
    await page.getByTestId('setup-submit').click();
    await page.getByTestId('sign-out').click();
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill('correct horse battery');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('composer-input').waitFor();
    // Over HTTPS the session cookie carries the __Host- prefix (Secure, Path=/, no Domain).
    const cookies = await page.context().cookies();
    expect(cookies.map((c) => c.name)).toEqual(['__Host-ai_session']);
    expect(cookies[0]).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });

    await page.getByTestId('model-picker').click();
    await page.getByTestId('model-search').fill('fake/slow');
    await page.locator('[data-testid="model-option"][data-model-id="fake/slow"]').click();
    // Wall-clock time of every growth of the answer's text, in the page.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { seen: number[] }).seen = seen;
      let length = 0;
      new MutationObserver(() => {
        const answers = document.querySelectorAll('[data-testid="message-assistant"]');
        const now = answers[answers.length - 1]?.textContent?.length ?? 0;
        if (now > length) seen.push(Date.now());
        length = now;
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('composer-input').fill('Through nginx [fake chunks=40 delay=50]');
    await page.getByTestId('send-button').click();
    const answer = page.getByTestId('message-assistant').last();
    await expect
      .poll(() => answer.getAttribute('data-status'), { timeout: 15_000 })
      .toBe('complete');

    const seen = await page.evaluate(() => (window as unknown as { seen: number[] }).seen);
    const stream = stack.fake.streams.at(-1);
    expect(stream?.endedBy).toBe('complete');
    const lastSentAt = stream?.closedAt ?? 0;
    // 40 chunks 50 ms apart: the first is on screen ~2 s before the upstream sends the last.
    expect(seen.length).toBeGreaterThanOrEqual(10);
    expect(lastSentAt - (seen[0] ?? Infinity)).toBeGreaterThan(1500);

    // The answer's text; the figures under it are compared by the messages test.
    const text = await answer.locator('.markdown').textContent();
    await page.reload();
    await expect
      .poll(() => page.getByTestId('message-assistant').last().locator('.markdown').textContent(), {
        timeout: 10_000,
      })
      .toBe(text);
  });
});

describe('operations', () => {
  it('SIGTERM during an answer: clean exit within the bound, nothing lost after restart', async () => {
    await client.json('/api/auth/login', { username: 'admin', password: 'correct horse battery' });
    const { id } = await client.json<{ id: string }>('/api/conversations', { model: 'fake/slow' });
    const events: string[] = [];
    const reading = (async () => {
      for await (const e of client.send(id, 'Long answer [fake chunks=1000 delay=20]')) {
        events.push(e.event);
        if (events.filter((name) => name === 'delta').length === 5) {
          stack.backend.child.kill('SIGTERM');
        }
      }
    })();
    const termAt = await waitFor(() => events.filter((e) => e === 'delta').length >= 5);
    const code = await stack.backend.exited;
    const exitMs = Date.now() - termAt;
    expect(code).toBe(0);
    // Grace 1 s, then the running answer is saved as interrupted and DuckDB closed.
    expect(exitMs).toBeLessThan(5000);
    await reading.catch(() => undefined);
    expect(events).toContain('error');

    await stack.restartBackend({ SHUTDOWN_GRACE_MS: '1000' });
    const detail = await client.json<{
      messages: Array<{ role: string; status: string; content: string }>;
    }>(`/api/conversations/${id}`);
    expect(detail.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(['complete', 'interrupted']).toContain(detail.messages[1]?.status);
    expect(detail.messages[1]?.content).toContain('You said: Long answer');
  });

  it('a backup taken while answers stream restores into a database holding every completed message', async () => {
    const completed: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { id } = await client.json<{ id: string }>('/api/conversations', {
        model: 'fake/echo',
      });
      for await (const e of client.send(id, `done before backup ${i}`)) {
        if (e.event === 'done') completed.push(String(e.data.messageId));
      }
    }
    const streaming = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const { id } = await client.json<{ id: string }>('/api/conversations', {
          model: 'fake/slow',
        });
        const iterator = client.send(id, `streaming during backup ${i} [fake chunks=100 delay=20]`);
        await iterator.next();
        return iterator;
      }),
    );
    const backupDir = path.join(stack.dir, 'backup-1');
    const ops = {
      cwd: path.join(releaseRoot, 'backend'),
      env: { ...process.env, PORT: String(stack.backendPort), DATABASE_PATH: stack.databasePath },
    };
    await run(serviceNode(), ['dist/ops.js', 'backup', backupDir], ops);
    for (const iterator of streaming) {
      for await (const e of { [Symbol.asyncIterator]: () => iterator })
        if (e.event === 'done') break;
    }

    const restoredPath = path.join(stack.dir, 'restored', 'app.db');
    await run(serviceNode(), ['dist/ops.js', 'restore', backupDir], {
      ...ops,
      env: { ...ops.env, PORT: String(await freePort()), DATABASE_PATH: restoredPath },
    });
    const check = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { DuckDBInstance } from '@duckdb/node-api';
         const db = await (await DuckDBInstance.create(process.argv[1])).connect();
         const rows = (await db.runAndReadAll("SELECT id, status FROM messages")).getRowObjectsJS();
         console.log(JSON.stringify(rows));`,
        restoredPath,
      ],
      { cwd: path.join(releaseRoot, 'backend') },
    );
    const rows = JSON.parse(check.stdout) as Array<{ id: string; status: string }>;
    for (const messageId of completed) {
      expect(rows.find((r) => r.id === messageId)?.status, messageId).toBe('complete');
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now();
}
