import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium, with the flags this closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

/** Chooses a model in the SPA's picker; waits for the catalog to have loaded (the option exists only then). */
export async function pickModel(page: Page, id: string): Promise<void> {
  await page.getByTestId('model-picker').click();
  await page.getByTestId('model-search').fill(id);
  await page.locator(`[data-testid="model-option"][data-model-id="${id}"]`).click();
  await expect.poll(() => page.getByTestId('model-picker').getAttribute('title')).toBe(id);
}

/** Everything the page holds that its script could read: the DOM, inputs' values and storage. */
export function scriptVisibleText(page: Page): Promise<string> {
  return page.evaluate(() =>
    [
      document.documentElement.outerHTML,
      ...Array.from(document.querySelectorAll('input'), (i) => i.value),
      JSON.stringify({ ...localStorage }),
      JSON.stringify({ ...sessionStorage }),
    ].join('\n'),
  );
}
