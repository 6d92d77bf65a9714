import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, pickModel } from './browser.js';
import { startStack, type Stack } from './stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const byTestId = (id: string) => page.getByTestId(id);
const lastAnswer = () => byTestId('message-assistant').last();
const option = (id: string) => page.locator(`[data-testid="model-option"][data-model-id="${id}"]`);

/** The ids of the options the open picker lists, in order. */
async function listed(): Promise<string[]> {
  const ids = await byTestId('model-option').evaluateAll((els) =>
    els.map((el) => el.getAttribute('data-model-id') ?? ''),
  );
  return ids;
}

async function openPicker() {
  if ((await byTestId('model-picker').getAttribute('aria-expanded')) !== 'true') {
    await byTestId('model-picker').click();
  }
  await byTestId('model-search').waitFor();
}

async function closePicker() {
  await byTestId('model-search').press('Escape');
}

/** Sends a message and waits for its answer (not the previous one) to end as `status`. */
async function send(text: string, status = 'complete') {
  const before = await byTestId('message-assistant').count();
  await byTestId('composer-input').fill(text);
  await byTestId('send-button').click();
  await expect.poll(() => byTestId('message-assistant').count()).toBe(before + 1);
  await expect
    .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
    .toBe(status);
}

/** The `provider` and `models` of the last chat request the fake OpenRouter received. */
function lastUpstream(): { provider?: unknown; models?: unknown; model?: unknown } {
  const request = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  return (request?.body ?? {}) as { provider?: unknown; models?: unknown; model?: unknown };
}

describe('models: picker, favourites, default model, routing', () => {
  it('signs in', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
  });

  it('searches the catalog and shows prices per million tokens and context lengths', async () => {
    await openPicker();
    await option('fake/echo').waitFor();
    const total = (await listed()).length;
    expect(total).toBeGreaterThan(10);
    await byTestId('model-search').fill('gpt mini');
    await expect.poll(listed).toEqual(['openai/gpt-4o-mini']);
    const gpt = option('openai/gpt-4o-mini');
    expect(await gpt.getByTestId('model-price').textContent()).toBe('$0.15 in · $0.6 out /M');
    expect(await gpt.getByTestId('model-context').textContent()).toBe('128K context');
    expect(await byTestId('model-count').textContent()).toContain(`1 of ${total} models`);
    await byTestId('model-search').fill('');
  });

  it('filters by free, input modality, parameters, context and price', async () => {
    await openPicker();
    await byTestId('model-filter-freeOnly').click();
    await expect
      .poll(listed)
      .toEqual(['google/gemini-2.0-flash-exp:free', 'meta-llama/llama-3.3-70b-instruct:free']);
    expect(
      await option('google/gemini-2.0-flash-exp:free').getByTestId('model-price').textContent(),
    ).toBe('free');
    await byTestId('model-filter-image').click();
    await expect.poll(listed).toEqual(['google/gemini-2.0-flash-exp:free']);
    await byTestId('model-filter-freeOnly').click();
    await byTestId('model-filter-file').click();
    await expect.poll(listed).toEqual(['google/gemini-2.0-flash-exp:free', 'openai/gpt-4o-mini']);
    await byTestId('model-filter-image').click();
    await byTestId('model-filter-file').click();

    await byTestId('model-filter-tools').click();
    await byTestId('model-filter-reasoning').click();
    await expect.poll(listed).toEqual(['deepseek/deepseek-r1']);
    await byTestId('model-filter-tools').click();
    await byTestId('model-filter-reasoning').click();

    await byTestId('model-filter-context').selectOption('1000000');
    await expect.poll(listed).toEqual(['google/gemini-2.0-flash-exp:free']);
    await byTestId('model-filter-context').selectOption('');

    await byTestId('model-filter-max-input').fill('0.2');
    await byTestId('model-filter-max-output').fill('1');
    await expect
      .poll(listed)
      .toEqual([
        'google/gemini-2.0-flash-exp:free',
        'meta-llama/llama-3.3-70b-instruct:free',
        'openai/gpt-4o-mini',
      ]);
    await byTestId('model-filter-max-input').fill('');
    await byTestId('model-filter-max-output').fill('');
    await expect.poll(async () => (await listed()).length).toBeGreaterThan(10);
    await closePicker();
  });

  it('stars a favourite: it comes first, and stays after a reload', async () => {
    await openPicker();
    await option('fake/slow').getByTestId('model-favorite').click();
    await expect.poll(async () => (await listed())[0]).toBe('fake/slow');
    expect(await option('fake/slow').getAttribute('data-favorite')).toBe('true');
    await closePicker();

    await page.reload();
    await byTestId('composer-input').waitFor();
    await openPicker();
    await option('fake/echo').waitFor();
    await expect.poll(async () => (await listed())[0]).toBe('fake/slow');
    await closePicker();
  });

  it('sets a default model that new conversations get', async () => {
    await openPicker();
    await option('fake/reasoning').getByTestId('model-set-default').click();
    await option('fake/reasoning').getByTestId('model-default-badge').waitFor();
    await closePicker();
    await page.reload();
    await byTestId('composer-input').waitFor();
    await expect
      .poll(() => byTestId('model-picker').getAttribute('title'), { timeout: 10_000 })
      .toBe('fake/reasoning');
    await send('Which model answers?');
    expect(lastUpstream().model).toBe('fake/reasoning');
  });

  it('routes a conversation by throughput, and shows the provider under the answer', async () => {
    await pickModel(page, 'fake/echo');
    await byTestId('conversation-settings').click();
    await byTestId('routing-sort').selectOption('throughput');
    await byTestId('routing-save').click();
    await byTestId('routing-form').waitFor({ state: 'detached' });
    await send('Fast, please');
    expect(lastUpstream().provider).toEqual({ sort: 'throughput' });
    expect(await lastAnswer().locator('.meta-provider').textContent()).toBe('via Fake Turbo');
  });

  it('keeps to providers that store nothing, with a fallback model, and says who served', async () => {
    await byTestId('conversation-settings').click();
    await byTestId('routing-sort').selectOption('');
    await byTestId('routing-deny-data-collection').check();
    await byTestId('routing-zdr').check();
    await byTestId('routing-max-prompt').fill('5');
    await byTestId('fallback-0').selectOption('openai/gpt-4o-mini');
    await byTestId('routing-save').click();
    await byTestId('routing-form').waitFor({ state: 'detached' });
    expect(await byTestId('conversation-settings').textContent()).toContain('on');

    // The conversation's model fails; its fallback answers through the zero-retention provider.
    await pickModel(page, 'fake/error');
    await send('Private, please');
    expect(lastUpstream()).toMatchObject({
      model: 'fake/error',
      models: ['openai/gpt-4o-mini'],
      provider: { data_collection: 'deny', zdr: true, max_price: { prompt: 5 } },
    });
    const meta = lastAnswer().locator('.message-meta');
    expect(await meta.textContent()).toContain('OpenAI: GPT-4o-mini (fake)');
    expect(await lastAnswer().locator('.meta-provider').textContent()).toBe('via Fake Vault');

    // Saved: after a reload the settings and the serving providers are still there.
    await page.reload();
    await expect.poll(() => page.locator('.meta-provider').count()).toBe(3);
    const providers = await page.locator('.meta-provider').allTextContents();
    expect(providers.slice(1)).toEqual(['via Fake Turbo', 'via Fake Vault']);
    await byTestId('conversation-settings').click();
    expect(await byTestId('routing-zdr').isChecked()).toBe(true);
    expect(await byTestId('routing-max-prompt').inputValue()).toBe('5');
    expect(await byTestId('fallback-0').inputValue()).toBe('openai/gpt-4o-mini');
  });

  it('shows the error when no provider matches the routing', async () => {
    await byTestId('routing-only').fill('fake-budget');
    await byTestId('routing-save').click();
    await byTestId('routing-form').waitFor({ state: 'detached' });
    await pickModel(page, 'fake/echo');
    await send('Nobody can serve this', 'error');
    expect(await lastAnswer().getByTestId('message-error').textContent()).toContain(
      'No endpoints found matching your data policy',
    );
  });
});
