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

const PROMPT = 'You are a pirate. Answer in one short sentence.';

/** Sends a message and waits for its answer (not the previous one) to complete. */
async function send(text: string) {
  const before = await byTestId('message-assistant').count();
  await byTestId('composer-input').fill(text);
  await byTestId('send-button').click();
  await expect.poll(() => byTestId('message-assistant').count()).toBe(before + 1);
  await expect
    .poll(() => lastAnswer().getAttribute('data-status'), { timeout: 15_000 })
    .toBe('complete');
}

/** The body of the last chat request the fake OpenRouter received (what the backend sent). */
function lastUpstream(): Record<string, unknown> {
  const request = stack.fake.requests.filter((r) => r.path === '/api/v1/chat/completions').at(-1);
  return (request?.body ?? {}) as Record<string, unknown>;
}

/** Only the generation parameters of a request body. */
function sampling(body: Record<string, unknown>): Record<string, unknown> {
  const keys = ['temperature', 'top_p', 'max_tokens', 'reasoning'];
  return Object.fromEntries(Object.entries(body).filter(([key]) => keys.includes(key)));
}

async function closePopover() {
  await byTestId('composer-input').click();
}

describe('prompting: system prompt, parameters and presets', () => {
  it('signs in', async () => {
    await page.goto(stack.url);
    await byTestId('setup-username').fill('admin');
    await byTestId('setup-password').fill('correct horse battery');
    await byTestId('setup-submit').click();
    await byTestId('composer-input').waitFor();
  });

  it('creates a preset, the parameters its model does not support greyed with a note', async () => {
    await byTestId('presets-button').click();
    await byTestId('presets-empty').waitFor();
    await byTestId('preset-new').click();
    await byTestId('preset-form-name').fill('Pirate');
    // The fake Claude 3.5 Haiku lists max_tokens, temperature and top_p, not reasoning.
    await byTestId('preset-form-model').selectOption('anthropic/claude-3.5-haiku');
    await byTestId('preset-form-prompt').fill(PROMPT);
    await byTestId('preset-param-temperature').fill('0.3');
    await byTestId('preset-param-topP').fill('0.9');
    await byTestId('preset-param-maxTokens').fill('256');
    await byTestId('preset-param-reasoningEffort').selectOption('high');
    expect(await byTestId('preset-param-reasoningEffort-note').textContent()).toBe(
      'Anthropic: Claude 3.5 Haiku (fake) does not support it: not sent.',
    );
    expect(await byTestId('preset-param-temperature-note').count()).toBe(0);
    await byTestId('preset-form-save').click();
    await byTestId('preset-form').waitFor({ state: 'detached' });
    expect(await byTestId('preset-row').count()).toBe(1);
    expect(await byTestId('preset-apply').textContent()).toBe(
      'PirateAnthropic: Claude 3.5 Haiku (fake) · system prompt · temperature 0.3 · top P 0.9 · max 256 tokens · effort high',
    );

    // A second preset of the same name is refused, with the API's reason.
    await byTestId('preset-new').click();
    await byTestId('preset-form-name').fill('pirate');
    await byTestId('preset-form-save').click();
    expect(await byTestId('preset-error').textContent()).toBe(
      'You already have a preset with this name: choose another.',
    );
    await byTestId('preset-form').getByRole('button', { name: 'Cancel' }).click();
    await closePopover();
  });

  it('starts a chat from it: the system message and the supported parameters only go upstream', async () => {
    await byTestId('presets-button').click();
    await byTestId('preset-apply').click();
    await byTestId('presets-menu').waitFor({ state: 'detached' });
    expect(await byTestId('presets-button').textContent()).toBe('Preset: Pirate');
    expect(await byTestId('model-picker').getAttribute('title')).toBe('anthropic/claude-3.5-haiku');
    expect(await byTestId('prompt-settings').textContent()).toBe('Prompt · on');

    await send('Where is the treasure?');
    const body = lastUpstream();
    expect(body.model).toBe('anthropic/claude-3.5-haiku');
    expect(body.messages).toEqual([
      { role: 'system', content: PROMPT },
      { role: 'user', content: 'Where is the treasure?' },
    ]);
    expect(sampling(body)).toEqual({ temperature: 0.3, top_p: 0.9, max_tokens: 256 });
    // The system prompt is not shown as a message of the conversation.
    expect(await byTestId('message-user').count()).toBe(1);
    expect(await page.getByText(PROMPT).count()).toBe(0);
  });

  it('edits the conversation’s prompt and parameters, refusing out-of-range values', async () => {
    await byTestId('prompt-settings').click();
    expect(await byTestId('system-prompt').inputValue()).toBe(PROMPT);
    expect(await byTestId('param-temperature').inputValue()).toBe('0.3');
    expect(await byTestId('param-reasoningEffort-field').getAttribute('data-unsupported')).toBe(
      'true',
    );
    expect(await byTestId('param-reasoningEffort-note').textContent()).toContain(
      'does not support it: not sent.',
    );
    await byTestId('param-temperature').fill('3');
    await byTestId('prompt-save').click();
    expect(await byTestId('prompt-error').textContent()).toBe(
      'Temperature must be a number from 0 to 2.',
    );
    await byTestId('param-temperature').fill('1.1');
    await byTestId('param-maxTokens').fill('');
    await byTestId('system-prompt').fill('You are a polite parrot.');
    await byTestId('prompt-save').click();
    await byTestId('prompt-form').waitFor({ state: 'detached' });

    await send('And now?');
    const body = lastUpstream();
    expect((body.messages as unknown[])[0]).toEqual({
      role: 'system',
      content: 'You are a polite parrot.',
    });
    expect(sampling(body)).toEqual({ temperature: 1.1, top_p: 0.9 });

    // A model that takes reasoning gets the effort too; its note is gone.
    await pickModel(page, 'deepseek/deepseek-r1');
    await byTestId('prompt-settings').click();
    expect(await byTestId('param-reasoningEffort-note').count()).toBe(0);
    await closePopover();
    await send('Think about it.');
    expect(lastUpstream().model).toBe('deepseek/deepseek-r1');
    expect(sampling(lastUpstream())).toEqual({
      temperature: 1.1,
      top_p: 0.9,
      reasoning: { effort: 'high' },
    });

    // Kept by the server: a reload shows the same settings.
    await page.reload();
    await byTestId('prompt-settings').click();
    expect(await byTestId('system-prompt').inputValue()).toBe('You are a polite parrot.');
    expect(await byTestId('param-temperature').inputValue()).toBe('1.1');

    // Escape closes it without saving, and focus goes back to its button.
    await byTestId('system-prompt').fill('Not saved.');
    await page.keyboard.press('Escape');
    await byTestId('prompt-form').waitFor({ state: 'detached' });
    expect(await byTestId('prompt-settings').evaluate((el) => el === document.activeElement)).toBe(
      true,
    );
    await byTestId('prompt-settings').click();
    expect(await byTestId('system-prompt').inputValue()).toBe('You are a polite parrot.');
    await closePopover();
  });

  it('edits and deletes the preset; the conversation keeps its settings', async () => {
    await byTestId('presets-button').click();
    await byTestId('preset-edit').click();
    expect(await byTestId('preset-form-name').inputValue()).toBe('Pirate');
    await byTestId('preset-form-name').fill('Pirate captain');
    await byTestId('preset-param-temperature').fill('');
    await byTestId('preset-form-save').click();
    await byTestId('preset-form').waitFor({ state: 'detached' });
    expect(await byTestId('preset-apply').textContent()).toContain('Pirate captain');
    expect(await byTestId('preset-apply').textContent()).not.toContain('temperature');

    await byTestId('preset-delete').click();
    await byTestId('preset-delete-confirm').click();
    await byTestId('presets-empty').waitFor();
    await closePopover();
    await page.reload();
    await byTestId('presets-button').click();
    await byTestId('presets-empty').waitFor();
    await closePopover();
    await byTestId('prompt-settings').click();
    expect(await byTestId('system-prompt').inputValue()).toBe('You are a polite parrot.');
  });
});
