import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../../tools/fake-openrouter/src/server.js';
import { AppError } from '../errors.js';
import {
  createOpenRouterClient,
  createUpstreamAgent,
  type OpenRouterClientOptions,
} from './client.js';
import { scriptedDispatcher } from '../test-support/scripted-dispatcher.js';
import type { ChatStreamEvent, OpenRouterClient } from './types.js';

const KEY = 'sk-or-v1-test-secret-key-0123456789';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

function client(options: Partial<OpenRouterClientOptions> = {}): OpenRouterClient {
  return createOpenRouterClient({ baseUrl: fake.url, apiKey: KEY, ...options });
}

function chat(content: string, model = 'fake/echo') {
  return { model, messages: [{ role: 'user' as const, content }] };
}

/** Runs a stream to its end; returns the events and the error it threw, if any. */
async function collect(
  stream: AsyncGenerator<ChatStreamEvent, void, undefined>,
): Promise<{ events: ChatStreamEvent[]; error: unknown }> {
  const events: ChatStreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

function text(events: ChatStreamEvent[], type: 'delta' | 'reasoning' = 'delta'): string {
  return events.map((e) => (e.type === type ? e.content : '')).join('');
}

function expectAppError(error: unknown, code: string, message?: string | RegExp): AppError {
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe(code);
  if (typeof message === 'string') expect(appError.message).toBe(message);
  else if (message) expect(appError.message).toMatch(message);
  expect(appError.message).not.toContain(KEY);
  return appError;
}

/** An upstream answering `parts` as the body, for protocol edge cases the fake never sends. */
function scripted(
  parts: string[],
  init: { status?: number; contentType?: string } = {},
): Partial<OpenRouterClientOptions> {
  const { dispatcher } = scriptedDispatcher([
    {
      status: init.status ?? 200,
      headers: { 'content-type': init.contentType ?? 'text/event-stream' },
      body: parts,
    },
  ]);
  return { dispatcher };
}

const chunkBase = { id: 'gen-1-abc', object: 'chat.completion.chunk', created: 1 };

function sseChunk(extra: Record<string, unknown>): string {
  return `data: ${JSON.stringify({ ...chunkBase, ...extra })}\n\n`;
}

function contentChunk(content: string, extra: Record<string, unknown> = {}): string {
  return sseChunk({ choices: [{ index: 0, delta: { content }, finish_reason: null }], ...extra });
}

const finishChunk = sseChunk({
  choices: [{ index: 0, delta: {}, finish_reason: 'stop', native_finish_reason: 'end_turn' }],
});

describe('streamChat against the fake OpenRouter', () => {
  it('streams meta, deltas, finish and usage with cost', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('hello'), { signal: new AbortController().signal }),
    );
    expect(error).toBeNull();
    expect(events[0]).toEqual({
      type: 'meta',
      upstreamId: expect.stringMatching(/^gen-/),
      model: 'fake/echo',
      provider: 'FakeProvider',
    });
    expect(events.filter((e) => e.type === 'meta')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(8);
    expect(text(events)).toMatch(/^You said: hello\. /);
    expect(events.at(-2)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      nativeFinishReason: 'stop',
    });
    const last = events.at(-1);
    expect(last).toEqual({
      type: 'usage',
      usage: {
        promptTokens: Math.ceil('hello'.length / 4),
        completionTokens: 8,
        reasoningTokens: 0,
        cachedTokens: 0,
        cost: expect.any(Number),
      },
    });
    expect(last?.type === 'usage' && last.usage.cost).toBeGreaterThan(0);
  });

  it('maps cached tokens and the length finish reason', async () => {
    const { events } = await collect(
      client().streamChat(chat('a message long enough for tokens [fake cached=3]', 'fake/length'), {
        signal: new AbortController().signal,
      }),
    );
    expect(events).toContainEqual({
      type: 'finish',
      finishReason: 'length',
      nativeFinishReason: 'length',
    });
    const usage = events.find((e) => e.type === 'usage');
    expect(usage?.type === 'usage' && usage.usage.cachedTokens).toBe(3);
  });

  it('sends auth, attribution and request-id headers and the documented body', async () => {
    const before = fake.requests.length;
    const { error } = await collect(
      client({ appUrl: 'https://chat.example.test', appTitle: 'Self-hosted Chat' }).streamChat(
        {
          model: 'fake/echo',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'hi' },
          ],
        },
        { signal: new AbortController().signal, requestId: 'req-123' },
      ),
    );
    expect(error).toBeNull();
    const request = fake.requests[before];
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/api/v1/chat/completions');
    expect(request?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'http-referer': 'https://chat.example.test',
      'x-openrouter-title': 'Self-hosted Chat',
      'x-title': 'Self-hosted Chat',
      'x-request-id': 'req-123',
    });
    expect(request?.body).toEqual({
      model: 'fake/echo',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      stream: true,
      usage: { include: true },
    });
  });

  it('omits attribution headers that are not configured', async () => {
    const before = fake.requests.length;
    await collect(client().streamChat(chat('x'), { signal: new AbortController().signal }));
    const headers = fake.requests[before]?.headers ?? {};
    expect(headers['http-referer']).toBeUndefined();
    expect(headers['x-title']).toBeUndefined();
    expect(headers['x-openrouter-title']).toBeUndefined();
    expect(headers['x-request-id']).toBeUndefined();
  });

  it('streams reasoning before the answer and reports reasoning tokens', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('why?', 'fake/reasoning'), { signal: new AbortController().signal }),
    );
    expect(error).toBeNull();
    const firstDelta = events.findIndex((e) => e.type === 'delta');
    const reasoning = events.flatMap((e, i) => (e.type === 'reasoning' ? [i] : []));
    expect(reasoning).toHaveLength(4);
    expect(Math.max(...reasoning)).toBeLessThan(firstDelta);
    expect(text(events, 'reasoning')).toContain('"why?"');
    const usage = events.find((e) => e.type === 'usage');
    expect(usage?.type === 'usage' && usage.usage).toMatchObject({
      reasoningTokens: 4,
      completionTokens: 12,
    });
  });

  const statuses: [number, string][] = [
    [400, 'upstream.bad_request'],
    [401, 'upstream.unauthorized'],
    [402, 'upstream.insufficient_credits'],
    [403, 'upstream.moderation'],
    [404, 'upstream.bad_request'],
    [408, 'upstream.timeout'],
    [429, 'upstream.rate_limited'],
    [500, 'upstream.unavailable'],
    [502, 'upstream.unavailable'],
    [503, 'upstream.no_provider'],
    [504, 'upstream.unavailable'],
  ];
  it.each(statuses)(
    'maps HTTP %i to %s naming the status and keeping the upstream message',
    async (status, code) => {
      const direct = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer x', 'x-fake-scenario': 'error' },
        body: JSON.stringify(chat(`[fake status=${status}]`, 'fake/error')),
      });
      const upstreamMessage = ((await direct.json()) as { error: { message: string } }).error
        .message;

      const before = fake.streams.length;
      const { events, error } = await collect(
        client({ maxRetries: 0 }).streamChat(chat(`[fake status=${status}]`, 'fake/error'), {
          signal: new AbortController().signal,
        }),
      );
      expect(events).toEqual([]);
      const appError = expectAppError(error, code);
      expect(appError.message).toContain(`(${status}): ${upstreamMessage.replace(/\.$/, '')}`);
      expect(appError.upstreamStatus).toBe(status);
      expect(fake.streams.length).toBe(before);
    },
  );

  it('names the cause and the wait of a 429', async () => {
    const { error } = await collect(
      client({ maxRetries: 0 }).streamChat(chat('[fake status=429 retryafter=30]', 'fake/error'), {
        signal: new AbortController().signal,
      }),
    );
    expectAppError(
      error,
      'upstream.rate_limited',
      'Rate limited by the provider (429): fake/error is temporarily rate-limited upstream. Please retry shortly. Try again in 30 s.',
    );
  });

  it('throws upstream.stream_error after the deltas sent before a mid-stream error', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x [fake after=2]', 'fake/midstream-error'), {
        signal: new AbortController().signal,
      }),
    );
    expect(events.map((e) => e.type)).toEqual(['meta', 'delta', 'delta']);
    expectAppError(
      error,
      'upstream.stream_error',
      'The model provider reported an error mid-answer (server_error): Provider disconnected unexpectedly (fake mid-stream error).',
    );
  });

  it('throws upstream.stream_error when the connection drops mid-answer', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x [fake after=2]', 'fake/drop'), {
        signal: new AbortController().signal,
      }),
    );
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(2);
    expectAppError(
      error,
      'upstream.stream_error',
      'The connection to the model provider was lost mid-answer.',
    );
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record.endedBy).toBe('dropped');
  });

  it('aborting the signal closes the upstream stream and rethrows the AbortError', async () => {
    const controller = new AbortController();
    const index = fake.streams.length;
    const stream = client().streamChat(chat('x [fake chunks=200 delay=20]', 'fake/slow'), {
      signal: controller.signal,
    });
    const events: ChatStreamEvent[] = [];
    const error = await (async () => {
      for await (const event of stream) {
        events.push(event);
        if (event.type === 'delta') controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(AppError);
    expect((error as Error).name).toBe('AbortError');
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(1);
    const record = await fake.waitForStreamClosed(index, 1000);
    expect(record.endedBy).toBe('client-closed');
    expect(record.chunksSent).toBeLessThan(50);
  });

  it('an abort while waiting for the next chunk also closes the upstream', async () => {
    const controller = new AbortController();
    const index = fake.streams.length;
    const stream = client().streamChat(chat('x [fake chunks=5 delay=5000]', 'fake/slow'), {
      signal: controller.signal,
    });
    const first = await stream.next();
    expect(first.value).toMatchObject({ type: 'meta' });
    setTimeout(() => controller.abort(), 50);
    const error = await stream.next().catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect((await fake.waitForStreamClosed(index, 1000)).endedBy).toBe('client-closed');
  });

  it('breaking out of the loop early cancels the upstream response', async () => {
    const index = fake.streams.length;
    for await (const event of client().streamChat(
      chat('x [fake chunks=200 delay=20]', 'fake/slow'),
      {
        signal: new AbortController().signal,
      },
    )) {
      if (event.type === 'delta') break;
    }
    const record = await fake.waitForStreamClosed(index, 1000);
    expect(record.endedBy).toBe('client-closed');
    expect(record.chunksSent).toBeLessThan(50);
  });

  it('an already aborted signal makes no request', async () => {
    const before = fake.requests.length;
    const { error } = await collect(
      client().streamChat(chat('x'), { signal: AbortSignal.abort() }),
    );
    expect((error as Error).name).toBe('AbortError');
    expect(fake.requests.length).toBe(before);
  });

  it('an abort with a custom reason still surfaces as an AbortError', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user pressed stop'));
    const { error } = await collect(client().streamChat(chat('x'), { signal: controller.signal }));
    expect((error as Error).name).toBe('AbortError');
    expect((error as Error).cause).toEqual(new Error('user pressed stop'));
  });
});

describe('streamChat over one shared connection pool', () => {
  it('reuses the connection of a whole answer for the next one', async () => {
    const agent = createUpstreamAgent();
    const connections: number[] = [];
    agent.on('connect', () => connections.push(Date.now()));
    try {
      const shared = client({ dispatcher: agent });
      for (let i = 0; i < 3; i++) {
        const { events, error } = await collect(
          shared.streamChat(chat(`x [fake chunks=3 delay=5]`, 'fake/slow'), {
            signal: new AbortController().signal,
          }),
        );
        expect(error).toBeNull();
        expect(events.filter((e) => e.type === 'delta')).toHaveLength(3);
        // The body's end may come just after [DONE]: let it arrive before the next request.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(connections).toHaveLength(1);
    } finally {
      await agent.close();
    }
  });

  it('closes the connection of an answer cut short; the next answer gets a new one', async () => {
    const agent = createUpstreamAgent();
    let connections = 0;
    agent.on('connect', () => connections++);
    try {
      const shared = client({ dispatcher: agent });
      const index = fake.streams.length;
      for await (const event of shared.streamChat(
        chat('x [fake chunks=50 delay=20]', 'fake/slow'),
        { signal: new AbortController().signal },
      )) {
        if (event.type === 'delta') break;
      }
      expect((await fake.waitForStreamClosed(index, 1000)).endedBy).toBe('client-closed');
      const { error } = await collect(
        shared.streamChat(chat('x'), { signal: new AbortController().signal }),
      );
      expect(error).toBeNull();
      expect(connections).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.close();
    }
  });

  it('the idle timeout counts the wait for bytes, not the time the consumer takes', async () => {
    const stream = client({ idleTimeoutMs: 150 }).streamChat(
      chat('x [fake chunks=4 delay=5]', 'fake/slow'),
      { signal: new AbortController().signal },
    );
    const events: ChatStreamEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      // A consumer slower than the idle timeout, while the upstream keeps sending.
      if (event.type === 'delta') await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(4);
    expect(events.at(-1)?.type).toBe('usage');
  });
});

describe('streamChat without a key or a network', () => {
  it('throws upstream.no_key before any request', async () => {
    for (const apiKey of [undefined, '', '   ']) {
      const before = fake.requests.length;
      const noKey = client({ apiKey });
      expect(noKey.hasKey).toBe(false);
      const { error } = await collect(
        noKey.streamChat(chat('x'), { signal: new AbortController().signal }),
      );
      expectAppError(error, 'upstream.no_key');
      expect(fake.requests.length).toBe(before);
    }
    expect(client().hasKey).toBe(true);
  });

  it('throws upstream.network when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const { error } = await collect(
      client({ baseUrl: `http://127.0.0.1:${port}/api/v1`, maxRetries: 0 }).streamChat(chat('x'), {
        signal: new AbortController().signal,
      }),
    );
    expectAppError(
      error,
      'upstream.network',
      `Could not connect to the model provider (127.0.0.1:${port}): connection refused.`,
    );
  });

  it('throws upstream.timeout when the headers do not come in time', async () => {
    const { error } = await collect(
      client({ connectTimeoutMs: 30 }).streamChat(chat('x [fake headerwait=5000]'), {
        signal: new AbortController().signal,
      }),
    );
    expectAppError(error, 'upstream.timeout', 'The model did not start answering within 30 ms.');
  });

  it('rejects a key that cannot be sent as a header without quoting it', async () => {
    const { error } = await collect(
      client({ apiKey: 'sk-or-v1-bad key\u00e9' }).streamChat(chat('x'), {
        signal: new AbortController().signal,
      }),
    );
    expectAppError(error, 'upstream.unauthorized');
    expect((error as Error).message).not.toContain('bad key');
  });
});

describe('streamChat protocol edge cases', () => {
  const signal = new AbortController().signal;

  it('throws upstream.bad_response on an invalid JSON data line', async () => {
    const upstream = scripted([contentChunk('ok'), 'data: {not json\n\n']);
    const { events, error } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expect(text(events)).toBe('ok');
    expectAppError(
      error,
      'upstream.bad_response',
      'The model provider sent a malformed chunk (invalid JSON) mid-answer.',
    );
  });

  it('throws upstream.stream_error when the stream ends without [DONE] or a finish_reason', async () => {
    const upstream = scripted([': OPENROUTER PROCESSING\n\n', contentChunk('partial')]);
    const { events, error } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expect(text(events)).toBe('partial');
    expectAppError(
      error,
      'upstream.stream_error',
      'The model provider closed the stream before the answer was complete (no finish reason).',
    );
  });

  it('accepts a stream that has a finish_reason but no [DONE]', async () => {
    const upstream = scripted([contentChunk('done'), finishChunk]);
    const { events, error } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expect(error).toBeNull();
    expect(events.at(-1)).toEqual({
      type: 'finish',
      finishReason: 'stop',
      nativeFinishReason: 'end_turn',
    });
  });

  it('stops at [DONE] and ignores anything after it', async () => {
    const upstream = scripted([contentChunk('a'), 'data: [DONE]\n\n', contentChunk('b')]);
    const { events, error } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expect(error).toBeNull();
    expect(text(events)).toBe('a');
  });

  it('emits meta again when the provider becomes known or changes', async () => {
    const upstream = scripted([
      contentChunk('a', { model: 'openai/gpt-4o' }),
      contentChunk('b', { model: 'openai/gpt-4o', provider: 'OpenAI' }),
      contentChunk('c', { model: 'openai/gpt-4o', provider: 'OpenAI' }),
      contentChunk('d', { model: 'openai/gpt-4o', provider: 'Azure' }),
      finishChunk,
      'data: [DONE]\n\n',
    ]);
    const { events } = await collect(
      client(upstream).streamChat(chat('x', 'openai/gpt-4o'), { signal }),
    );
    expect(events.filter((e) => e.type === 'meta')).toEqual([
      { type: 'meta', upstreamId: 'gen-1-abc', model: 'openai/gpt-4o', provider: null },
      { type: 'meta', upstreamId: 'gen-1-abc', model: 'openai/gpt-4o', provider: 'OpenAI' },
      { type: 'meta', upstreamId: 'gen-1-abc', model: 'openai/gpt-4o', provider: 'Azure' },
    ]);
    expect(text(events)).toBe('abcd');
  });

  it('reads reasoning from reasoning_details when there is no plain reasoning field', async () => {
    const upstream = scripted([
      sseChunk({
        choices: [
          {
            index: 0,
            delta: {
              content: '',
              reasoning_details: [
                { type: 'reasoning.summary', summary: 'Summary. ', format: 'openai-responses-v1' },
                { type: 'reasoning.encrypted', data: 'opaque' },
                { type: 'reasoning.text', text: 'Text.' },
              ],
            },
          },
        ],
      }),
      finishChunk,
    ]);
    const { events } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expect(text(events, 'reasoning')).toBe('Summary. Text.');
  });

  it('maps a JSON error body answered with status 200', async () => {
    const upstream = scripted(
      [JSON.stringify({ error: { code: 429, message: 'Slow down, please.' } })],
      { contentType: 'application/json' },
    );
    const { error } = await collect(
      client({ ...upstream, maxRetries: 0 }).streamChat(chat('x'), { signal }),
    );
    expectAppError(
      error,
      'upstream.rate_limited',
      'Rate limited by the provider (429): Slow down, please. Try again shortly, or choose another model.',
    );
  });

  it('keeps the catalog message when the error body is not OpenRouter JSON', async () => {
    const upstream = scripted(['<html>Bad gateway</html>'], {
      status: 502,
      contentType: 'text/html',
    });
    const { error } = await collect(
      client({ ...upstream, maxRetries: 0 }).streamChat(chat('x'), { signal }),
    );
    const appError = expectAppError(
      error,
      'upstream.unavailable',
      'The model provider is unavailable (502). Try again shortly, or choose another model.',
    );
    expect(appError.upstreamStatus).toBe(502);
  });

  it('never repeats the key, even when the upstream message contains it', async () => {
    const upstream = scripted(
      [JSON.stringify({ error: { code: 401, message: `Key ${KEY} is disabled.` } })],
      { status: 401, contentType: 'application/json' },
    );
    const { error } = await collect(client(upstream).streamChat(chat('x'), { signal }));
    expectAppError(
      error,
      'upstream.unauthorized',
      'The model provider rejected the API key (401): Key [redacted] is disabled. Check OPENROUTER_API_KEY on the backend.',
    );
  });
});

describe('listModels', () => {
  it('maps the catalog and sends no Authorization header without a key', async () => {
    const before = fake.requests.length;
    const models = await client({ apiKey: undefined }).listModels();
    expect(fake.requests[before]?.path).toBe('/api/v1/models');
    expect(fake.requests[before]?.headers.authorization).toBeUndefined();
    expect(models.map((m) => m.id)).toContain('fake/echo');
    expect(models.find((m) => m.id === 'openai/gpt-4o-mini')).toEqual({
      id: 'openai/gpt-4o-mini',
      name: 'OpenAI: GPT-4o-mini (fake)',
      description: expect.stringContaining('FAKE'),
      contextLength: 128000,
      pricing: {
        prompt: '0.00000015',
        completion: '0.0000006',
        request: '0',
        inputCacheRead: '0.000000075',
        internalReasoning: '0',
      },
      inputModalities: ['text', 'image', 'file'],
      outputModalities: ['text'],
      supportedParameters: expect.arrayContaining(['tools', 'temperature']),
      created: 1721260800,
    });
  });

  it('sends the key and attribution headers when set', async () => {
    const before = fake.requests.length;
    await client({ appTitle: 'Chat', appUrl: 'https://chat.example.test' }).listModels({
      signal: new AbortController().signal,
    });
    expect(fake.requests[before]?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'x-title': 'Chat',
      'x-openrouter-title': 'Chat',
      'http-referer': 'https://chat.example.test',
    });
  });

  it('tolerates missing fields', async () => {
    const body = JSON.stringify({
      data: [
        { id: 'bare/model' },
        {
          id: 'old/model',
          name: 'Old',
          architecture: { modality: 'text+image->text' },
          top_provider: { context_length: 4096 },
          pricing: { prompt: 0.000001 },
        },
        { name: 'no id' },
        'junk',
      ],
    });
    const models = await client(scripted([body], { contentType: 'application/json' })).listModels();
    expect(models).toEqual([
      {
        id: 'bare/model',
        name: 'bare/model',
        description: '',
        contextLength: null,
        pricing: { prompt: '0', completion: '0' },
        inputModalities: ['text'],
        outputModalities: ['text'],
        supportedParameters: [],
        created: null,
      },
      {
        id: 'old/model',
        name: 'Old',
        description: '',
        contextLength: 4096,
        pricing: { prompt: '0.000001', completion: '0' },
        inputModalities: ['text', 'image'],
        outputModalities: ['text'],
        supportedParameters: [],
        created: null,
      },
    ]);
  });

  it('maps errors and unreadable answers', async () => {
    const unavailable = scripted(
      [JSON.stringify({ error: { code: 503, message: 'Models are resting.' } })],
      { status: 503, contentType: 'application/json' },
    );
    const error = await client(unavailable)
      .listModels()
      .catch((e: unknown) => e);
    expectAppError(
      error,
      'upstream.no_provider',
      'No provider is available for this model (503): Models are resting. Try again shortly, or choose another model.',
    );

    for (const body of ['not json', '{"nodata":true}']) {
      const bad = scripted([body], { contentType: 'application/json' });
      const badError = await client(bad)
        .listModels()
        .catch((e: unknown) => e);
      expectAppError(badError, 'upstream.bad_response');
    }
  });

  it('rethrows an abort as an AbortError', async () => {
    const error = await client()
      .listModels({ signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
  });
});

describe('generationStats (GET /generation)', () => {
  it("reads OpenRouter's generation object; null while it answers 404", async () => {
    const client = createOpenRouterClient({ baseUrl: fake.url, apiKey: 'sk-or-v1-stats' });
    const events = [];
    for await (const event of client.streamChat(
      { model: 'fake/reasoning', messages: [{ role: 'user', content: 'hi [fake chunks=3]' }] },
      { signal: AbortSignal.timeout(5000) },
    ))
      events.push(event);
    const meta = events.find((e) => e.type === 'meta');
    const usage = events.find((e) => e.type === 'usage');
    if (meta?.type !== 'meta' || usage?.type !== 'usage') throw new Error('no meta or usage');
    expect(await client.generationStats(meta.upstreamId)).toEqual({
      id: meta.upstreamId,
      model: 'fake/reasoning',
      providerName: 'FakeProvider',
      totalCost: usage.usage.cost,
      promptTokens: usage.usage.promptTokens,
      completionTokens: usage.usage.completionTokens,
      reasoningTokens: 4,
      cachedTokens: 0,
      latencyMs: expect.any(Number),
      generationTimeMs: expect.any(Number),
      finishReason: 'stop',
      cancelled: false,
    });
    expect(await client.generationStats('gen-nobody-knows')).toBeNull();
    // Another key does not see it.
    const other = createOpenRouterClient({ baseUrl: fake.url, apiKey: 'sk-or-v1-other' });
    expect(await other.generationStats(meta.upstreamId)).toBeNull();
  });
});
