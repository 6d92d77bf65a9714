import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../browser.js';
import { startStack, type Stack } from '../stack.js';

/**
 * CSRF, as an attacker's page would try it, in Chromium against the production builds. The
 * user is signed in to the app; a page on another origin posts forms and fetches with
 * credentials to the app's API. Two attacker origins: another port of the app's own host
 * (same-site: the SameSite=Lax cookie IS sent, so only the Origin check stands in the way)
 * and another host (cross-site: the cookie is not sent either).
 */
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let app: Page;
let evil: Server;
let evilPort: number;
let conversationId: string;
/** The attacker's page while a test runs. */
let attacker: Page | null = null;

/** The writes the attacker's page made to the app, as the browser sent (or tried to send) them. */
const sent: Array<{ what: string; cookie: boolean }> = [];
const cookieChecks: Array<Promise<void>> = [];

/** The backend's log lines for requests its Origin check refused, as `METHOD path`. */
function refusedByBackend(): string[] {
  return stack.backend
    .output()
    .split('\n')
    .filter((line) => line.includes('cross-origin request refused'))
    .map((line) => JSON.parse(line) as { method: string; url: string })
    .map((entry) => `${entry.method} ${entry.url}`);
}

function attackPage(target: string, id: string): string {
  // Every classic shape of a cross-origin write, one after the other, then "done".
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="logout" method="POST" action="${target}/api/auth/logout" target="sink"></form>
<form id="json" method="POST" enctype="text/plain" action="${target}/api/conversations/${id}/messages" target="sink">
  <input name='{"content":"planted by a form","x":"' value='"}'>
</form>
<form id="create" method="POST" action="${target}/api/conversations" target="sink">
  <input name="title" value="planted">
</form>
<script>
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const quiet = (p) => p.then(() => 'sent', (e) => 'blocked: ' + e.message);
(async () => {
  const results = [];
  results.push(await quiet(fetch('${target}/api/auth/logout', { method: 'POST', mode: 'no-cors', credentials: 'include' })));
  results.push(await quiet(fetch('${target}/api/conversations', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"title":"planted by fetch"}' })));
  results.push(await quiet(fetch('${target}/api/conversations/${id}', { method: 'PATCH', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{"title":"renamed by fetch"}' })));
  results.push(await quiet(fetch('${target}/api/conversations/${id}', { method: 'DELETE', credentials: 'include' })));
  results.push(await quiet(navigator.sendBeacon('${target}/api/auth/logout') ? Promise.resolve() : Promise.reject(new Error('beacon refused'))));
  for (const form of ['logout', 'json', 'create']) {
    document.getElementById(form).submit();
    await wait(300);
  }
  document.title = 'done: ' + results.join(' | ');
})();
</script></body></html>`;
}

beforeAll(async () => {
  stack = await startStack();
  evil = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://evil');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(attackPage(stack.url, url.searchParams.get('id') ?? ''));
  });
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
  evilPort = (evil.address() as AddressInfo).port;

  browser = await launchBrowser();
  context = await browser.newContext();
  app = await context.newPage();
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (attacker === null || url.origin !== stack.url || request.method() === 'GET') return;
    const what = `${request.method()} ${url.pathname}`;
    sent.push({ what, cookie: false });
    // The full headers (the cookie included) are known once the request went out.
    const entry = sent[sent.length - 1];
    cookieChecks.push(
      request
        .allHeaders()
        .then((headers) => {
          if (entry) entry.cookie = (headers['cookie'] ?? '').includes('ai_session=');
        })
        .catch(() => undefined),
    );
  });
  await app.goto(stack.url);
  await app.getByTestId('setup-username').fill('admin');
  await app.getByTestId('setup-password').fill('correct horse battery');
  await app.getByTestId('setup-submit').click();
  await app.getByTestId('composer-input').waitFor();
  conversationId = await app.evaluate(async () => {
    const response = await fetch('/api/conversations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Mine', model: 'fake/echo' }),
    });
    return ((await response.json()) as { id: string }).id;
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((resolve) => evil?.close(resolve));
});

/** The state an attacker would change, as the signed-in app page sees it. */
function appState() {
  return app.evaluate(async (id) => {
    const me = await fetch('/api/auth/me');
    const list = (await (await fetch('/api/conversations')).json()) as {
      conversations: Array<{ id: string; title: string }>;
    };
    const detail = (await (await fetch(`/api/conversations/${id}`)).json()) as {
      messages: unknown[];
    };
    return {
      signedIn: me.status === 200,
      conversations: list.conversations.map((c) => `${c.id}:${c.title}`),
      messages: detail.messages.length,
    };
  }, conversationId);
}

describe('CSRF from a page on another origin, in Chromium', () => {
  for (const [name, host] of [
    ['same-site (another port of the same host): the cookie goes along', '127.0.0.1'],
    ['cross-site (another host)', 'localhost'],
  ] as const) {
    it(`${name}: every write is refused and nothing changes`, async () => {
      const before = await appState();
      expect(before).toEqual({
        signedIn: true,
        conversations: [`${conversationId}:Mine`],
        messages: 0,
      });
      sent.length = 0;
      const refusedBefore = refusedByBackend().length;
      const page = await context.newPage();
      attacker = page;
      await page.goto(`http://${host}:${evilPort}/?id=${conversationId}`);
      await expect.poll(() => page.title(), { timeout: 15_000 }).toMatch(/^done/);
      await page.waitForTimeout(500);
      await page.close();
      attacker = null;

      expect(await appState()).toEqual(before);
      // Every simple write (forms, no-cors fetches, a beacon) reached the app and was refused
      // by the Origin check, not by a missing session or a body the API could not parse. The
      // PATCH and DELETE needed a CORS preflight, which the API never grants: the browser did
      // not send them at all.
      const posts = sent.filter((s) => s.what.startsWith('POST ')).map((s) => s.what);
      expect(posts.length).toBeGreaterThanOrEqual(6);
      await expect.poll(() => refusedByBackend().slice(refusedBefore).sort()).toEqual(posts.sort());
      await Promise.all(cookieChecks);
      // Same-site, the session cookie went along: SameSite=Lax alone would not have stopped it.
      if (host === '127.0.0.1') expect(sent.some((s) => s.cookie)).toBe(true);
      else expect(sent.some((s) => s.cookie)).toBe(false);
    });
  }

  it('the same writes from the app’s own page work (the refusals above are the Origin check)', async () => {
    const status = await app.evaluate(async () => {
      const response = await fetch('/api/conversations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Made here' }),
      });
      return response.status;
    });
    expect(status).toBe(201);
  });
});
