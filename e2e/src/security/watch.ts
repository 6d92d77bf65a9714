import type { BrowserContext, Page } from 'playwright-core';

/**
 * Everything a page does that rendered text must never make it do, recorded at the level of
 * the browser context (every page, frame and worker in it):
 *
 * - `canary`: calls of `window.__xss(n)`, the function every payload of the corpus tries to call;
 * - `dialogs`: alert / confirm / prompt / beforeunload;
 * - `navigations`: main-frame URLs other than the app's own pages, and any new page (a popup);
 * - `foreignRequests`: any request to another origin than the app's (each is also aborted, so
 *   nothing leaves the machine even if a test failed to notice);
 * - `cspViolations`: `securitypolicyviolation` events and the console errors Chromium prints
 *   for them: the sanitizer must not have let through anything the CSP then had to block;
 * - `consoleErrors`: every other console error and uncaught page error.
 *
 * Open pages with `watch.newPage()`: any other page that appears is a popup.
 */
export interface Watch {
  canary: number[];
  dialogs: string[];
  navigations: string[];
  foreignRequests: string[];
  cspViolations: string[];
  consoleErrors: string[];
  /** Every request the context made, as `METHOD url`. */
  requests: string[];
  /** What went wrong, as lines; empty when nothing did. */
  problems(): string[];
  /** Opens a page of the test's own (any other new page counts as a popup). */
  newPage(): Promise<Page>;
  /** Forgets everything recorded so far (after a deliberate probe). */
  reset(): void;
}

/** App pages: the SPA's routes. */
const APP_PATH = /^\/(?:c\/[0-9a-f-]{36})?$/;

export async function watchContext(context: BrowserContext, appOrigin: string): Promise<Watch> {
  const watch: Watch = {
    canary: [],
    dialogs: [],
    navigations: [],
    foreignRequests: [],
    cspViolations: [],
    consoleErrors: [],
    requests: [],
    problems() {
      const lines: string[] = [];
      if (this.canary.length) lines.push(`canary called by payloads ${this.canary.join(', ')}`);
      for (const d of this.dialogs) lines.push(`dialog: ${d}`);
      for (const n of this.navigations) lines.push(`navigation: ${n}`);
      for (const r of this.foreignRequests) lines.push(`request to another origin: ${r}`);
      for (const v of this.cspViolations) lines.push(`CSP violation: ${v}`);
      // A failed load is already reported above when it matters (another origin); the app's
      // own 4xx answers (e.g. /api/auth/me before sign-in) are expected.
      for (const e of this.consoleErrors) {
        if (!/^Failed to load resource/.test(e)) lines.push(`console error: ${e}`);
      }
      return lines;
    },
    reset() {
      for (const list of [
        this.canary,
        this.dialogs,
        this.navigations,
        this.foreignRequests,
        this.cspViolations,
        this.consoleErrors,
      ]) {
        list.length = 0;
      }
    },
    async newPage() {
      opening = true;
      try {
        return await context.newPage();
      } finally {
        opening = false;
      }
    },
  };
  let opening = false;

  await context.exposeBinding('__xss', (_source, n: unknown) => {
    watch.canary.push(Number(n));
  });
  await context.exposeBinding('__cspViolation', (_source, text: unknown) => {
    watch.cspViolations.push(String(text));
  });
  // Runs before the app's own scripts, in every frame.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (window as unknown as { __cspViolation(text: string): void }).__cspViolation;
      report(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.documentURI}`);
    });
  });

  await context.route(
    (url) => url.origin !== appOrigin && url.protocol !== 'data:' && url.protocol !== 'blob:',
    async (route) => {
      watch.foreignRequests.push(`${route.request().method()} ${route.request().url()}`);
      await route.abort('blockedbyclient');
    },
  );
  context.on('request', (request) => {
    const url = request.url();
    watch.requests.push(`${request.method()} ${url}`);
    if (!url.startsWith(`${appOrigin}/`) && !/^(data|blob):/.test(url)) {
      if (!watch.foreignRequests.some((r) => r.endsWith(` ${url}`))) {
        watch.foreignRequests.push(`${request.method()} ${url}`);
      }
    }
  });

  const watchPage = (page: Page, popup: boolean) => {
    if (popup) watch.navigations.push(`new page opened: ${page.url()}`);
    page.on('dialog', (dialog) => {
      watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss().catch(() => undefined);
    });
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) {
        // A frame inside the page: the sanitizer allows none.
        watch.navigations.push(`frame navigated to ${frame.url()}`);
        return;
      }
      const url = new URL(frame.url());
      if (url.origin !== appOrigin || !APP_PATH.test(url.pathname)) {
        watch.navigations.push(frame.url());
      }
    });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (/Content Security Policy/i.test(text)) watch.cspViolations.push(text);
      else watch.consoleErrors.push(text);
    });
    page.on('pageerror', (error) => watch.consoleErrors.push(`uncaught: ${error.message}`));
  };
  context.on('page', (page) => watchPage(page, !opening));
  return watch;
}
