import { act } from 'react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { controllableStream, gpt4o, workspaceHarness } from '../test-support/workspace';

// The temporary chat in the workspace, against a fetch that answers per route: what is sent,
// what is shown, and that nothing else is asked for.

/** The JSON bodies posted to /api/chat/temporary, in order. */
const temporaryBodies: unknown[] = [];
const harness = workspaceHarness({
  models: [gpt4o],
  upstreamKeyConfigured: true,
  onRequest(key, init) {
    if (key === 'POST /api/chat/temporary') {
      temporaryBodies.push(JSON.parse(typeof init?.body === 'string' ? init.body : 'null'));
    }
  },
});
const { routes, calls, $, $$, waitFor } = harness;
beforeEach(() => {
  temporaryBodies.length = 0;
});

async function render() {
  await harness.render();
  await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
}

function ask(text: string) {
  const textarea = $('composer-input') as HTMLTextAreaElement;
  act(() => {
    Reflect.set(HTMLTextAreaElement.prototype, 'value', text, textarea);
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  });
  act(() => {
    textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  });
}

function click(testId: string) {
  act(() => $(testId)!.click());
}

/** Answers one question of the temporary chat with `text`, as the backend streams it. */
async function answer(stream: ReturnType<typeof controllableStream>, id: string, text: string) {
  stream.send('assistant_message', {
    messageId: id,
    generationId: `g-${id}`,
    model: 'openai/gpt-4o',
  });
  stream.send('delta', { content: text });
  stream.send('usage', { promptTokens: 10, completionTokens: 4, reasoningTokens: 0, cost: 0.0003 });
  stream.send('done', {
    messageId: id,
    finishReason: 'stop',
    status: 'complete',
    model: 'openai/gpt-4o',
    provider: 'OpenAI',
  });
  stream.close();
  await waitFor(() => $('send-button') !== null, 'the answer to end');
}

describe('the temporary chat', () => {
  it('sends the history it holds, stores nothing, and shows the answers as a chat does', async () => {
    const streams = [controllableStream(), controllableStream()];
    let next = 0;
    routes.set('POST /api/chat/temporary', () => streams[next++]!.response);
    await render();
    expect($('attach-button')).not.toBeNull();

    click('temporary-chat');
    expect(window.location.pathname).toBe('/temporary');
    expect($('temporary-banner')?.textContent).toContain('Temporary chat: not saved.');
    expect($('temporary-toggle')?.getAttribute('aria-pressed')).toBe('true');
    // It sends no files (nothing could hold them): no paperclip, as a saved chat has.
    expect($('attach-button')).toBeNull();

    ask('first question');
    await waitFor(() => temporaryBodies.length === 1, 'the first send');
    expect(temporaryBodies[0]).toEqual({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'first question' }],
    });
    await answer(streams[0]!, 'a1', 'first **answer**');
    expect($('message-assistant')?.querySelector('strong')?.textContent).toBe('answer');
    expect($('message-assistant')?.textContent).toContain('$0.0003');

    ask('second question');
    await waitFor(() => temporaryBodies.length === 2, 'the second send');
    expect(temporaryBodies[1]).toEqual({
      model: 'openai/gpt-4o',
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first **answer**' },
        { role: 'user', content: 'second question' },
      ],
    });
    await answer(streams[1]!, 'a2', 'second answer');
    expect($$('message-user').map((m) => m.textContent)).toEqual([
      'first question',
      'second question',
    ]);
    // Nothing of it is stored to edit, answer again or delete: its messages can be copied only.
    expect($$('copy-message')).toHaveLength(4);
    for (const action of ['edit-message', 'regenerate-message', 'delete-message']) {
      expect($$(action), action).toEqual([]);
    }

    // No conversation was made or read, nothing reloaded, and the sidebar lists nothing new.
    expect(
      calls.filter(
        (c) => c.includes('/api/conversations') && c !== 'GET /api/conversations?limit=30',
      ),
    ).toEqual([]);
    expect($$('conversation-item')).toEqual([]);
    expect(JSON.stringify({ ...window.localStorage })).not.toContain('first question');
  });

  it('sends the Prompt menu’s system prompt and parameters, as a new chat would get them', async () => {
    const stream = controllableStream();
    routes.set('POST /api/chat/temporary', () => stream.response);
    window.history.replaceState(null, '', '/temporary');
    await render();

    act(() => $('prompt-settings')!.click());
    const prompt = $('system-prompt') as HTMLTextAreaElement;
    const temperature = $('param-temperature') as HTMLInputElement;
    act(() => {
      Reflect.set(HTMLTextAreaElement.prototype, 'value', 'Talk like a pirate.', prompt);
      prompt.dispatchEvent(new Event('input', { bubbles: true }));
      Reflect.set(HTMLInputElement.prototype, 'value', '0.5', temperature);
      temperature.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => {
      $('prompt-save')!.click();
      await Promise.resolve();
    });
    expect($('prompt-settings')?.textContent).toBe('Prompt · on');

    ask('Ahoy?');
    await waitFor(() => temporaryBodies.length === 1, 'the send');
    expect(temporaryBodies[0]).toEqual({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: 'Ahoy?' }],
      systemPrompt: 'Talk like a pirate.',
      params: { temperature: 0.5 },
    });
    await answer(stream, 'a1', 'Arr.');
  });

  it('stops an answer with its generation id, and queues a question typed meanwhile', async () => {
    const first = controllableStream();
    const second = controllableStream();
    const responses = [first, second];
    routes.set('POST /api/chat/temporary', () => responses.shift()!.response);
    routes.set('POST /api/generations/g-a1/stop', () => {
      first.send('done', { messageId: 'a1', finishReason: null, status: 'stopped' });
      first.close();
      return Response.json({ stopped: true });
    });
    window.history.replaceState(null, '', '/temporary');
    await render();

    ask('write a lot');
    await waitFor(() => temporaryBodies.length === 1, 'the send');
    first.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g-a1',
      model: 'openai/gpt-4o',
    });
    first.send('delta', { content: 'Once upon' });
    await waitFor(() => $('message-assistant')?.textContent?.trim() === 'Once upon', 'the answer');
    expect($('stop-button')).not.toBeNull();

    ask('and then?');
    await waitFor(() => $('queued-message') !== null, 'the queued question');
    click('stop-button');
    await waitFor(() => calls.includes('POST /api/generations/g-a1/stop'), 'the stop');
    await waitFor(() => temporaryBodies.length === 2, 'the queued question sent');
    expect(temporaryBodies[1]).toMatchObject({
      messages: [
        { role: 'user', content: 'write a lot' },
        { role: 'assistant', content: 'Once upon' },
        { role: 'user', content: 'and then?' },
      ],
    });
    expect($$('message-assistant')[0]?.dataset['status']).toBe('stopped');
    await answer(second, 'a2', 'a dragon');
  });

  it('asks before it is left with messages, and is gone once left', async () => {
    const stream = controllableStream();
    routes.set('POST /api/chat/temporary', () => stream.response);
    const confirm = vi.spyOn(window, 'confirm');
    window.history.replaceState(null, '', '/temporary');
    await render();
    ask('remember this?');
    await waitFor(() => temporaryBodies.length === 1, 'the send');
    await answer(stream, 'a1', 'Not for long.');

    // "No": still here, untouched.
    confirm.mockReturnValueOnce(false);
    click('new-chat');
    expect(confirm).toHaveBeenCalledTimes(1);
    await waitFor(() => window.location.pathname === '/temporary', 'the way back');
    expect($$('message-user').map((m) => m.textContent)).toEqual(['remember this?']);

    // The browser asks too before a reload or a closed tab.
    const unload = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(unload);
    expect(unload.defaultPrevented).toBe(true);

    // "Yes": gone, also when coming back.
    confirm.mockReturnValueOnce(true);
    click('temporary-toggle');
    await waitFor(() => window.location.pathname === '/', 'the new chat');
    expect($('temporary-banner')).toBeNull();
    click('temporary-chat');
    await waitFor(() => $('temporary-banner') !== null, 'the temporary chat again');
    expect($$('message-user')).toEqual([]);
    const quiet = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(quiet);
    expect(quiet.defaultPrevented).toBe(false);

    // Nothing held: left without a question.
    click('new-chat');
    await waitFor(() => window.location.pathname === '/', 'the new chat');
    expect(confirm).toHaveBeenCalledTimes(2);
  });

  it('says why a send is refused and keeps the draft; a lost answer is not followed', async () => {
    routes.set('POST /api/chat/temporary', () =>
      Response.json(
        { error: { code: 'request.too_large', message: 'The request body is too large.' } },
        { status: 413 },
      ),
    );
    window.history.replaceState(null, '', '/temporary');
    await render();
    ask('a very long history');
    await waitFor(() => $('message-error') !== null, 'the refusal');
    expect($('message-error')?.textContent).toContain('too long to send');
    expect(($('composer-input') as HTMLTextAreaElement).value).toBe('a very long history');
    expect($$('message-user')).toEqual([]);

    const stream = controllableStream();
    routes.set('POST /api/chat/temporary', () => stream.response);
    ask('try again');
    await waitFor(() => temporaryBodies.length === 2, 'the second send');
    stream.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g-a1',
      model: 'openai/gpt-4o',
    });
    stream.send('delta', { content: 'Half of' });
    await waitFor(() => $('message-assistant') !== null, 'the answer');
    stream.fail();
    await waitFor(() => $('message-assistant')?.dataset['status'] === 'interrupted', 'the loss');
    expect($('message-assistant')?.textContent).toContain('cannot be resumed');
    expect(calls.some((c) => c.includes('/stream'))).toBe(false);
  });
});
