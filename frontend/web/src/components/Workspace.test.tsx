import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { Conversation, Message, Model } from '../api/types';
import { LiveMarkdown } from '../lib/liveMarkdown';
import { controllableStream, gpt4o, workspaceHarness } from '../test-support/workspace';

const models: Model[] = [
  gpt4o,
  {
    id: 'anthropic/claude-sonnet',
    name: 'Claude Sonnet',
    description: '',
    contextLength: 200000,
    pricing: { prompt: '0.000003', completion: '0.000015' },
    inputModalities: ['text'],
    outputModalities: ['text'],
    supportedParameters: ['max_tokens', 'temperature', 'top_p'],
  },
];
const conversation: Conversation = {
  id: 'c1',
  title: 'Hello',
  model: 'openai/gpt-4o',
  fallbackModels: [],
  pinned: false,
  archived: false,
  folderId: null,
  titlePending: false,
  providerRouting: null,
  systemPrompt: null,
  params: {},
  createdAt: '2025-01-01T00:00:00Z',
  updatedAt: '2025-01-01T00:00:00Z',
};

function message(partial: Partial<Message> & Pick<Message, 'id' | 'role' | 'content'>): Message {
  return {
    conversationId: 'c1',
    parentId: null,
    reasoning: null,
    sources: null,
    model: null,
    status: 'complete',
    error: null,
    createdAt: '2025-01-01T00:00:01Z',
    updatedAt: '2025-01-01T00:00:01Z',
    generation: null,
    attachments: [],
    comparisonId: null,
    ...partial,
  };
}

const { routes, calls, container, $, $$, waitFor, render, type, press } = workspaceHarness({
  models,
  upstreamKeyConfigured: false,
});

describe('Workspace', () => {
  it('shows the no-key notice when no OpenRouter key is configured', async () => {
    await render();
    await waitFor(() => $('no-key-notice') !== null, 'the notice');
    expect($('no-key-notice')?.textContent).toContain(
      "No OpenRouter API key is configured. Set OPENROUTER_API_KEY in the backend's environment and restart it.",
    );
  });

  it('shows no such notice to a user who saved a key of their own', async () => {
    routes.set('GET /api/keys/openrouter', () =>
      Response.json({
        serverKeyConfigured: false,
        key: {
          lastFour: 'WXYZ',
          addedAt: '2026-12-01T10:00:00.000Z',
          updatedAt: '2026-12-01T10:00:00.000Z',
          readable: true,
          lastCheck: null,
        },
      }),
    );
    await render();
    await waitFor(() => calls.includes('GET /api/keys/openrouter'), 'the key state');
    await act(async () => {
      await Promise.resolve();
    });
    expect($('no-key-notice')).toBeNull();
  });

  it('keeps the draft and shows the error when sending is refused', async () => {
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/messages', () =>
      Response.json(
        { error: { code: 'upstream.no_key', message: 'No OpenRouter API key is configured.' } },
        { status: 400 },
      ),
    );
    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    const input = $('composer-input')!;
    type(input, 'Hello there');
    press(input, 'Enter');
    await waitFor(() => $('message-error') !== null, 'the error');
    expect($('message-error')?.textContent).toBe('No OpenRouter API key is configured.');
    expect(($('composer-input') as HTMLTextAreaElement).value).toBe('Hello there');
    expect($$('message-user')).toHaveLength(0);
    expect(window.location.pathname).toBe('/c/c1');
  });

  it('takes the question back out, keeps the draft and shows the error when it could not be saved after its answer started', async () => {
    const stream = controllableStream();
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/messages', () => stream.response);
    routes.set('GET /api/conversations/c1', () =>
      Response.json({ conversation, comparisons: [], messages: [] }),
    );
    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    const input = $('composer-input')!;
    type(input, 'Keep me');
    press(input, 'Enter');
    await waitFor(() => $('stop-button') !== null, 'the stream');
    stream.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    stream.send('delta', { content: 'Half an ' });
    await waitFor(
      () => $('message-assistant')?.textContent?.includes('Half an') === true,
      'a token',
    );
    // The commit failed: the stream ends with an error and no user_message.
    stream.send('error', { code: 'internal', message: 'Something went wrong on the server.' });
    stream.close();
    await waitFor(() => $('message-error') !== null, 'the error');
    expect($('message-error')?.textContent).toBe('Something went wrong on the server.');
    expect($$('message-user')).toHaveLength(0);
    expect($$('message-assistant')).toHaveLength(0);
    expect(($('composer-input') as HTMLTextAreaElement).value).toBe('Keep me');
  });

  it('streams an answer token by token, stops it, and shows its status and cost', async () => {
    const stream = controllableStream();
    let sentBody: unknown;
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/messages', (init) => {
      sentBody = JSON.parse(typeof init?.body === 'string' ? init.body : 'null');
      return stream.response;
    });
    routes.set('POST /api/generations/g1/stop', () => {
      stream.send('done', { messageId: 'a1', finishReason: null, status: 'stopped' });
      stream.close();
      return Response.json({ stopped: true });
    });
    const userMsg = message({ id: 'm1', role: 'user', content: '<b>Hi</b> *there*' });
    routes.set('GET /api/conversations/c1', () =>
      Response.json({
        conversation,
        comparisons: [],
        messages: [
          userMsg,
          message({
            id: 'a1',
            parentId: 'm1',
            role: 'assistant',
            content: 'Hello **world**',
            model: 'openai/gpt-4o',
            status: 'stopped',
            createdAt: '2025-01-01T00:00:02Z',
            generation: {
              id: 'g1',
              model: 'openai/gpt-4o',
              provider: 'OpenAI',
              upstreamId: null,
              promptTokens: 12,
              completionTokens: 3,
              reasoningTokens: 0,
              cost: 0.00042,
              timeToFirstTokenMs: 100,
              durationMs: 300,
              finishReason: null,
            },
          }),
        ],
      }),
    );

    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    const input = $('composer-input')!;
    type(input, 'line one');
    press(input, 'Enter', true); // Shift+Enter: no send
    expect(calls).not.toContain('POST /api/conversations');
    type(input, '<b>Hi</b> *there*');
    press(input, 'Enter');

    await waitFor(() => $('stop-button') !== null, 'the stop button');
    // A first message: its parent is null (a root of the tree).
    expect(sentBody).toEqual({
      content: '<b>Hi</b> *there*',
      model: 'openai/gpt-4o',
      parentId: null,
    });

    // The answer streams before the backend says the question is saved (`user_message`).
    stream.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    await waitFor(() => $('message-assistant') !== null, 'the answer');
    expect($('message-assistant')?.dataset['status']).toBe('streaming');
    // User messages are plain text: no HTML, no Markdown.
    expect($('message-user')?.textContent).toBe('<b>Hi</b> *there*');
    expect($('message-user')?.querySelector('b, em')).toBeNull();
    stream.send('delta', { content: 'Hello ' });
    await waitFor(() => $('message-assistant')?.textContent?.trim() === 'Hello', 'the first token');
    // Not yet accepted: the text stays in the composer.
    expect(($('composer-input') as HTMLTextAreaElement).value).toBe('<b>Hi</b> *there*');

    stream.send('user_message', userMsg);
    await waitFor(
      () => ($('composer-input') as HTMLTextAreaElement).value === '',
      'the draft to clear',
    );
    // The saved question took the optimistic one's place, with the answer under it.
    expect($$('message-user')).toHaveLength(1);
    expect($('message-assistant')?.textContent?.trim()).toBe('Hello');
    stream.send('delta', { content: '**world**' });
    await waitFor(() => $('message-assistant')?.querySelector('strong') !== null, 'markdown');

    act(() => $('stop-button')!.click());
    await waitFor(() => calls.includes('POST /api/generations/g1/stop'), 'the stop call');
    await waitFor(() => $('send-button') !== null, 'the stream to end');
    await waitFor(() => $('message-assistant')?.dataset['status'] === 'stopped', 'stopped');
    const text = $('message-assistant')?.textContent ?? '';
    expect(text).toContain('Stopped');
    expect(text).toContain('GPT-4o');
    expect(text).toContain('12 in · 3 out');
    expect(text).toContain('$0.0004');
    expect($$('conversation-item').map((el) => el.textContent)).toEqual(['Hello']);
  });

  it('reattaches to an answer still streaming when the conversation opens, without repeating text', async () => {
    window.history.replaceState(null, '', '/c/c1');
    const stream = controllableStream();
    const question = message({ id: 'm1', role: 'user', content: 'Hi' });
    const answer = (status: Message['status'], content: string) =>
      message({
        id: 'a1',
        parentId: 'm1',
        role: 'assistant',
        content,
        model: 'openai/gpt-4o',
        status,
        createdAt: '2025-01-01T00:00:02Z',
        generation: {
          id: 'g1',
          model: 'openai/gpt-4o',
          provider: null,
          upstreamId: null,
          promptTokens: null,
          completionTokens: null,
          reasoningTokens: null,
          cost: null,
          timeToFirstTokenMs: null,
          durationMs: null,
          finishReason: null,
        },
      });
    let loads = 0;
    routes.set('GET /api/conversations/c1', () => {
      loads++;
      return Response.json({
        conversation,
        comparisons: [],
        // Saved a moment ago while streaming; complete once it has ended.
        messages: [
          question,
          loads === 1 ? answer('streaming', 'Hello wo') : answer('complete', 'Hello world!'),
        ],
      });
    });
    routes.set('GET /api/generations/g1/stream', () => stream.response);
    routes.set('POST /api/generations/g1/stop', () => Response.json({ stopped: true }));

    await render();
    await waitFor(() => calls.includes('GET /api/generations/g1/stream'), 'the reattach');
    const shown = () => $('message-assistant')?.textContent?.trim();
    expect(shown()).toBe('Hello wo');
    expect($('message-assistant')?.dataset['status']).toBe('streaming');
    expect($('stop-button')).not.toBeNull();

    stream.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    stream.send('delta', { content: 'Hello world' }); // the whole text so far
    await waitFor(() => shown() === 'Hello world', 'the replayed text');
    stream.send('delta', { content: '!' });
    await waitFor(() => shown() === 'Hello world!', 'the live text');

    // The stop button stops the reattached answer too.
    act(() => $('stop-button')!.click());
    await waitFor(() => calls.includes('POST /api/generations/g1/stop'), 'the stop call');
    stream.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    stream.close();
    await waitFor(() => loads === 2, 'the reload');
    await waitFor(() => $('send-button') !== null, 'the end');
    expect($('message-assistant')?.dataset['status']).toBe('complete');
    expect(shown()).toContain('Hello world!');
    expect(calls.filter((c) => c === 'GET /api/generations/g1/stream')).toHaveLength(1);
  });

  it('reattaches to every answer of a comparison still streaming when the conversation opens', async () => {
    window.history.replaceState(null, '', '/c/c1');
    const streams = { g1: controllableStream(), g2: controllableStream() };
    const generation = (id: string) => ({
      id,
      model: 'openai/gpt-4o',
      provider: null,
      upstreamId: null,
      promptTokens: null,
      completionTokens: null,
      reasoningTokens: null,
      cost: null,
      timeToFirstTokenMs: null,
      durationMs: null,
      finishReason: null,
    });
    const answer = (id: string, model: string, status: Message['status'], content: string) =>
      message({
        id,
        parentId: 'm1',
        role: 'assistant',
        content,
        model,
        status,
        comparisonId: 'k1',
        createdAt: id === 'a1' ? '2025-01-01T00:00:02.001Z' : '2025-01-01T00:00:02.002Z',
        generation: generation(id === 'a1' ? 'g1' : 'g2'),
      });
    let loads = 0;
    routes.set('GET /api/conversations/c1', () => {
      loads++;
      const status = loads === 1 ? 'streaming' : 'complete';
      return Response.json({
        conversation,
        comparisons: [
          {
            id: 'k1',
            questionId: 'm1',
            answerIds: ['a1', 'a2'],
            chosenId: null,
            chosenAt: null,
            createdAt: '2025-01-01T00:00:02Z',
          },
        ],
        messages: [
          message({ id: 'm1', role: 'user', content: 'Which?' }),
          answer('a1', 'openai/gpt-4o', status, loads === 1 ? 'Le' : 'Left'),
          answer('a2', 'anthropic/claude-sonnet', status, loads === 1 ? 'Ri' : 'Right'),
        ],
      });
    });
    routes.set('GET /api/generations/g1/stream', () => streams.g1.response);
    routes.set('GET /api/generations/g2/stream', () => streams.g2.response);
    routes.set('POST /api/conversations/c1/comparisons/k1/stop', () => {
      for (const [g, stream] of Object.entries(streams)) {
        const messageId = g === 'g1' ? 'a1' : 'a2';
        stream.send('done', { messageId, finishReason: null, status: 'stopped' });
        stream.close();
      }
      return Response.json({ stopped: 2 });
    });

    await render();
    await waitFor(
      () =>
        calls.includes('GET /api/generations/g1/stream') &&
        calls.includes('GET /api/generations/g2/stream'),
      'both reattached',
    );
    await waitFor(() => $$('compare-column').length === 2, 'side by side');
    for (const [g, stream] of Object.entries(streams)) {
      const messageId = g === 'g1' ? 'a1' : 'a2';
      stream.send('assistant_message', { messageId, generationId: g, model: 'openai/gpt-4o' });
      stream.send('delta', { content: g === 'g1' ? 'Left' : 'Right' });
    }
    await waitFor(
      () =>
        $$('compare-column')[0]?.textContent?.includes('Left') === true &&
        $$('compare-column')[1]?.textContent?.includes('Right') === true,
      'each answer its own text',
    );
    // Stop (the composer's) stops every answer of the comparison.
    await act(async () => {
      $('stop-button')!.click();
      await Promise.resolve();
    });
    await waitFor(() => calls.includes('POST /api/conversations/c1/comparisons/k1/stop'), 'stop');
    await waitFor(() => loads === 2, 'the reload');
    await waitFor(() => $('send-button') !== null, 'the end');
    expect($$('compare-choose')).toHaveLength(2);
  });

  it('reattaches when the answer stream drops mid-way and shows the rest once', async () => {
    const first = controllableStream();
    const again = controllableStream();
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/messages', () => first.response);
    routes.set('GET /api/generations/g1/stream', () => again.response);
    const question = message({ id: 'm1', role: 'user', content: 'Hi' });
    routes.set('GET /api/conversations/c1', () =>
      Response.json({
        conversation,
        comparisons: [],
        messages: [
          question,
          message({
            id: 'a1',
            parentId: 'm1',
            role: 'assistant',
            content: 'Hello there',
            status: 'complete',
            createdAt: '2025-01-01T00:00:02Z',
          }),
        ],
      }),
    );

    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    type($('composer-input')!, 'Hi');
    press($('composer-input')!, 'Enter');
    await waitFor(() => calls.includes('POST /api/conversations/c1/messages'), 'the send');
    first.send('user_message', question);
    first.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    first.send('delta', { content: 'Hel' });
    // The answer's text (a finished answer also shows its buttons).
    const shown = () => $('message-assistant')?.querySelector('.markdown')?.textContent?.trim();
    await waitFor(() => shown() === 'Hel', 'the first token');
    first.fail();

    await waitFor(() => calls.includes('GET /api/generations/g1/stream'), 'the reattach');
    expect($('message-assistant')?.dataset['status']).toBe('streaming');
    expect(shown()).toBe('Hel');
    again.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    again.send('delta', { content: 'Hello' });
    again.send('delta', { content: ' there' });
    await waitFor(() => shown() === 'Hello there', 'the rest of the answer');
    again.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    again.close();
    await waitFor(() => $('send-button') !== null, 'the end');
    await waitFor(() => calls.includes('GET /api/conversations/c1'), 'the reload');
    expect($('message-assistant')?.dataset['status']).toBe('complete');
    expect(shown()).toBe('Hello there');
    expect($('message-error')).toBeNull();
  });
  /** Sends a message in a new conversation and opens its answer's stream. */
  async function startAnswer(saved = '') {
    const stream = controllableStream();
    const question = message({ id: 'm1', role: 'user', content: 'Hi' });
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/messages', () => stream.response);
    // The reload once the answer has ended.
    routes.set('GET /api/conversations/c1', () =>
      Response.json({
        conversation,
        comparisons: [],
        messages: [
          question,
          message({
            id: 'a1',
            parentId: 'm1',
            role: 'assistant',
            content: saved,
            createdAt: '2025-01-01T00:00:02Z',
          }),
        ],
      }),
    );
    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    type($('composer-input')!, 'Hi');
    press($('composer-input')!, 'Enter');
    await waitFor(() => calls.includes('POST /api/conversations/c1/messages'), 'the send');
    stream.send('user_message', question);
    stream.send('assistant_message', {
      messageId: 'a1',
      generationId: 'g1',
      model: 'openai/gpt-4o',
    });
    await waitFor(() => $('message-assistant') !== null, 'the answer');
    return stream;
  }

  it('never renders HTML from the model while it streams, however the deltas split it', async () => {
    const pieces = [
      'Look: <im',
      'g src=x one',
      'rror="window.pwned=1">',
      ' and <scr',
      'ipt>window.pwned=2</scr',
      'ipt> and <svg onl',
      'oad="window.pwned=3">',
      '\n\n<img src=x onerror="window.pwned=4">',
      ' done',
    ];
    const stream = await startAnswer(pieces.join(''));
    // Catches an element that would be in an answer only between two checks.
    const added: string[] = [];
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target instanceof Element ? record.target : null;
        if (!target?.closest('[data-testid="message-assistant"]')) continue;
        for (const node of record.addedNodes) {
          if (!(node instanceof Element)) continue;
          for (const el of [node, ...node.querySelectorAll('*')]) {
            if (/^(IMG|SCRIPT|SVG|IFRAME)$/i.test(el.tagName)) added.push(el.outerHTML);
            for (const attr of el.attributes) {
              if (attr.name.startsWith('on')) added.push(`${el.tagName}[${attr.name}]`);
            }
          }
        }
      }
    });
    observer.observe(container(), { childList: true, subtree: true });
    let text = '';
    const answer = () => $('message-assistant')!;
    for (const piece of pieces) {
      text += piece;
      stream.send('delta', { content: piece });
      const want = text.trimEnd().slice(-4);
      await waitFor(() => answer().textContent?.includes(want) === true, `"${want}"`);
      expect(answer().querySelector('img, script, svg, iframe')).toBeNull();
      expect(answer().dataset['status']).toBe('streaming');
    }
    expect(answer().textContent).toContain('<img src=x onerror="window.pwned=1">');
    expect(answer().textContent).toContain('<script>window.pwned=2</script>');
    stream.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    stream.close();
    await waitFor(() => $('send-button') !== null, 'the end');
    await waitFor(() => calls.includes('GET /api/conversations/c1'), 'the reload');
    await waitFor(() => answer().dataset['status'] === 'complete', 'the saved answer');
    // The saved answer, rendered whole, is sanitized too.
    expect(answer().textContent).toContain('<img src=x onerror="window.pwned=4"> done');
    expect(answer().querySelector('img, script, svg, iframe')).toBeNull();
    observer.disconnect();
    expect(added).toEqual([]);
    expect((window as { pwned?: number }).pwned).toBeUndefined();
  });

  it('shows a burst of deltas in one update, and all of their text', async () => {
    const stream = await startAnswer();
    const update = vi.spyOn(LiveMarkdown.prototype, 'update');
    const words = Array.from({ length: 200 }, (_, i) => `w${i} `);
    stream.sendMany(words.map((w) => ['delta', { content: w }]));
    await waitFor(
      () => $('message-assistant')?.textContent?.trim() === words.join('').trim(),
      'all the words',
    );
    expect(update.mock.calls.length).toBeGreaterThan(0);
    expect(update.mock.calls.length).toBeLessThanOrEqual(2);
    update.mockRestore();
    stream.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    stream.close();
    await waitFor(() => $('send-button') !== null, 'the end');
  });

  it('creates a chat untitled, then reads it again until the title model has named it', async () => {
    const stream = controllableStream();
    let created: unknown;
    routes.set('POST /api/conversations', (init) => {
      created = JSON.parse(typeof init?.body === 'string' ? init.body : 'null');
      return Response.json({ ...conversation, title: 'New chat' }, { status: 201 });
    });
    routes.set('POST /api/conversations/c1/messages', () => stream.response);
    let reads = 0;
    routes.set('GET /api/conversations/c1', () => {
      reads += 1;
      const named = reads > 1;
      return Response.json({
        conversation: {
          ...conversation,
          title: named ? 'Greeting The World' : 'hello world',
          titlePending: !named,
        },
        messages: [],
        comparisons: [],
      });
    });
    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    const input = $('composer-input')!;
    type(input, 'hello world');
    press(input, 'Enter');
    await waitFor(() => $('stop-button') !== null, 'the stream');
    expect(created).toEqual({ model: 'openai/gpt-4o' });
    // Until the conversation is read again, the sidebar shows the question's first words.
    expect(container().querySelector('.conversation-link')?.textContent).toBe('hello world');
    stream.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    stream.close();
    const title = () => container().querySelector('.topbar-title')?.textContent;
    for (let i = 0; i < 300 && title() !== 'Greeting The World'; i++) {
      await act(async () => {
        await new Promise((r) => setTimeout(r, 10));
      });
    }
    expect(title()).toBe('Greeting The World');
    expect(container().querySelector('.conversation-link')?.textContent).toBe('Greeting The World');
    // No longer pending: no more reads.
    await act(async () => {
      await new Promise((r) => setTimeout(r, 900));
    });
    expect(reads).toBe(2);
  });

  it('starts a new chat from a preset: its model, system prompt and parameters', async () => {
    const stream = controllableStream();
    let created: unknown;
    routes.set('GET /api/presets', () =>
      Response.json({
        presets: [
          {
            id: 'p1',
            name: 'Pirate',
            model: 'anthropic/claude-sonnet',
            systemPrompt: 'Talk like a pirate.',
            params: { temperature: 0.5, reasoningEffort: 'high' },
            createdAt: '2025-01-01T00:00:00Z',
            updatedAt: '2025-01-01T00:00:00Z',
          },
        ],
      }),
    );
    routes.set('POST /api/conversations', (init) => {
      created = JSON.parse(typeof init?.body === 'string' ? init.body : 'null');
      return Response.json({ ...conversation, model: 'anthropic/claude-sonnet' }, { status: 201 });
    });
    routes.set('POST /api/conversations/c1/messages', () => stream.response);
    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    act(() => $('presets-button')!.click());
    await waitFor(() => $$('preset-apply').length === 1, 'the presets');
    expect($('preset-apply')?.textContent).toContain('Claude Sonnet');
    await act(async () => {
      $('preset-apply')!.click();
      await Promise.resolve();
    });
    expect($('presets-button')?.textContent).toBe('Preset: Pirate');
    expect($('model-picker')?.textContent).toBe('Claude Sonnet');
    act(() => $('prompt-settings')!.click());
    expect(($('system-prompt') as HTMLTextAreaElement).value).toBe('Talk like a pirate.');
    expect(($('param-temperature') as HTMLInputElement).value).toBe('0.5');
    // Claude Sonnet's catalog entry has no reasoning: greyed, with a note.
    expect($('param-reasoningEffort-field')?.dataset.unsupported).toBe('true');
    expect($('param-reasoningEffort-note')?.textContent).toBe(
      'Claude Sonnet does not support it: not sent.',
    );
    expect($('param-temperature-note')).toBeNull();

    const input = $('composer-input')!;
    type(input, 'Ahoy');
    press(input, 'Enter');
    await waitFor(() => $('stop-button') !== null, 'the stream');
    expect(created).toEqual({
      model: 'anthropic/claude-sonnet',
      systemPrompt: 'Talk like a pirate.',
      params: { temperature: 0.5, reasoningEffort: 'high' },
    });
    stream.send('done', { messageId: 'a1', finishReason: 'stop', status: 'complete' });
    stream.close();
    await waitFor(() => $('send-button') !== null, 'the end');
  });

  it('compares two models side by side, stops one, and continues with the answer chosen', async () => {
    const stream = controllableStream();
    const sent: Record<string, unknown> = {};
    const body = (init: RequestInit | undefined) =>
      JSON.parse(typeof init?.body === 'string' ? init.body : 'null') as unknown;
    routes.set('POST /api/conversations', () => Response.json(conversation, { status: 201 }));
    routes.set('POST /api/conversations/c1/compare', (init) => {
      sent['compare'] = body(init);
      return stream.response;
    });
    routes.set('POST /api/generations/g2/stop', () => {
      stream.send('done', {
        messageId: 'a2',
        finishReason: null,
        status: 'stopped',
        model: 'anthropic/claude-sonnet',
        provider: null,
      });
      return Response.json({ stopped: true });
    });
    const question = message({ id: 'm1', role: 'user', content: 'Which is better?' });
    const answer = (id: string, model: string, content: string, status: Message['status']) =>
      message({
        id,
        parentId: 'm1',
        role: 'assistant',
        content,
        model,
        status,
        comparisonId: 'k1',
        createdAt: id === 'a1' ? '2025-01-01T00:00:02.001Z' : '2025-01-01T00:00:02.002Z',
      });
    const comparison = {
      id: 'k1',
      questionId: 'm1',
      answerIds: ['a1', 'a2'],
      chosenId: null as string | null,
      chosenAt: null as string | null,
      createdAt: '2025-01-01T00:00:02Z',
    };
    routes.set('GET /api/conversations/c1', () =>
      Response.json({
        conversation,
        comparisons: [comparison],
        messages: [
          question,
          answer('a1', 'openai/gpt-4o', 'Left **answer**', 'complete'),
          answer('a2', 'anthropic/claude-sonnet', 'Right', 'stopped'),
        ],
      }),
    );
    routes.set('POST /api/conversations/c1/comparisons/k1/choose', (init) => {
      sent['choose'] = body(init);
      comparison.chosenId = 'a1';
      comparison.chosenAt = '2025-01-01T00:01:00Z';
      return Response.json({ comparison, conversation });
    });

    await render();
    await waitFor(() => $('model-picker')?.textContent === 'GPT-4o', 'the models');
    act(() => $('compare-toggle')!.click());
    // The current model and another one, each in a picker of its own.
    expect($('compare-model-1')?.textContent).toBe('GPT-4o');
    expect($('compare-model-2')?.textContent).toBe('Claude Sonnet');
    const input = $('composer-input')!;
    type(input, 'Which is better?');
    press(input, 'Enter');
    await waitFor(() => sent['compare'] !== undefined, 'the comparison request');
    expect(sent['compare']).toEqual({
      content: 'Which is better?',
      models: ['openai/gpt-4o', 'anthropic/claude-sonnet'],
      parentId: null,
    });

    stream.send('user_message', question);
    stream.send('comparison', {
      id: 'k1',
      questionId: 'm1',
      answers: [
        { messageId: 'a1', generationId: 'g1', model: 'openai/gpt-4o' },
        { messageId: 'a2', generationId: 'g2', model: 'anthropic/claude-sonnet' },
      ],
    });
    stream.send('delta', { messageId: 'a1', content: 'Left **answer**' });
    stream.send('delta', { messageId: 'a2', content: 'Right' });
    await waitFor(() => $$('compare-column').length === 2, 'two columns');
    await waitFor(
      () => $$('compare-column')[1]?.textContent?.includes('Right') === true,
      'the second answer',
    );
    const [left, right] = $$('compare-column');
    expect(left!.querySelector('[data-testid="compare-model"]')?.textContent).toBe('GPT-4o');
    expect(left!.querySelector('.markdown strong')?.textContent).toBe('answer');
    expect(left!.textContent).not.toContain('Right');
    expect(left!.querySelector('[data-testid="compare-live-stats"]')?.textContent).toContain(
      'to first token',
    );
    expect(right!.querySelector('[data-testid="compare-model"]')?.textContent).toBe(
      'Claude Sonnet',
    );

    // One answer stopped, the other goes on to its end.
    await act(async () => {
      (right!.querySelector('[data-testid="compare-stop"]') as HTMLElement).click();
      await Promise.resolve();
    });
    await waitFor(() => calls.includes('POST /api/generations/g2/stop'), 'the stop call');
    await waitFor(() => right!.textContent?.includes('Stopped') === true, 'the answer stopped');
    expect(left!.querySelector('[data-testid="compare-stop"]')).not.toBeNull();
    stream.send('done', {
      messageId: 'a1',
      finishReason: 'stop',
      status: 'complete',
      model: 'openai/gpt-4o',
      provider: null,
    });
    stream.close();
    await waitFor(() => $('send-button') !== null, 'the stream to end');
    await waitFor(() => $$('compare-choose').length === 2, 'a choice on each answer');

    await act(async () => {
      $$('compare-choose')[0]!.click();
      await Promise.resolve();
    });
    await waitFor(() => $('compare-chosen') !== null, 'the chosen mark');
    expect(sent['choose']).toEqual({ messageId: 'a1' });
    expect($('compare-chosen')?.closest('[data-testid="compare-column"]')).toBe(
      $$('compare-column')[0],
    );
    expect($('compare-hint')?.textContent).toBe('Continuing with GPT-4o');
    // The next question continues from the chosen answer.
    routes.set('POST /api/conversations/c1/messages', (init) => {
      sent['next'] = body(init);
      return Response.json({ error: { code: 'x', message: 'not now' } }, { status: 400 });
    });
    act(() => $('compare-close')!.click());
    type($('composer-input')!, 'Go on');
    press($('composer-input')!, 'Enter');
    await waitFor(() => sent['next'] !== undefined, 'the next question');
    expect(sent['next']).toMatchObject({ content: 'Go on', parentId: 'a1' });
    await waitFor(() => $('message-error')?.textContent === 'not now', 'the refusal');
  });

  it('shows search results with the matches marked, user text as text', async () => {
    routes.set('GET /api/search?q=quokka', () =>
      Response.json({
        results: [
          {
            conversationId: 'c1',
            conversationTitle: 'Animals <i>here</i>',
            archived: true,
            messageId: 'm1',
            role: 'user',
            createdAt: '2025-01-01T00:00:00Z',
            snippet: [
              { text: '<img src=x onerror="window.pwned=5"> the ', match: false },
              { text: 'Quokka', match: true },
              { text: ' and a ', match: false },
              { text: 'quokka', match: true },
            ],
          },
        ],
      }),
    );
    await render();
    const search = $('search-input') as HTMLInputElement;
    act(() => {
      Reflect.set(HTMLInputElement.prototype, 'value', 'quokka', search);
      search.dispatchEvent(new Event('input', { bubbles: true }));
    });
    for (let i = 0; i < 100 && $$('search-result').length === 0; i++) {
      await act(async () => {
        await new Promise((r) => setTimeout(r, 10));
      });
    }
    const [result] = $$('search-result');
    expect([...result!.querySelectorAll('mark')].map((m) => m.textContent)).toEqual([
      'Quokka',
      'quokka',
    ]);
    expect(result!.textContent).toContain('<img src=x onerror="window.pwned=5"> the Quokka');
    expect(result!.textContent).toContain('Animals <i>here</i>');
    expect(result!.querySelector('img, i')).toBeNull();
    expect((window as { pwned?: number }).pwned).toBeUndefined();
    expect(result!.getAttribute('href')).toBe('/c/c1');
  });
});
