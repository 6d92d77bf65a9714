/**
 * The client against upstream faults: timeouts, a connection lost mid-answer, broken chunks,
 * retries before the first byte (and never after), and OpenRouter's model fallbacks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../../tools/fake-openrouter/src/server.js';
import { AppError } from '../errors.js';
import { createOpenRouterClient, type OpenRouterClientOptions } from './client.js';
import { scriptedDispatcher } from '../test-support/scripted-dispatcher.js';
import type { ChatStreamEvent, OpenRouterClient } from './types.js';

const KEY = 'sk-or-v1-test-secret-key-faults';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

function client(options: Partial<OpenRouterClientOptions> = {}): OpenRouterClient {
  return createOpenRouterClient({
    baseUrl: fake.url,
    apiKey: KEY,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 50,
    ...options,
  });
}

function chat(content: string, model = 'fake/echo', models?: string[]) {
  return { model, models, messages: [{ role: 'user' as const, content }] };
}

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

function text(events: ChatStreamEvent[]): string {
  return events.map((e) => (e.type === 'delta' ? e.content : '')).join('');
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

const signal = () => new AbortController().signal;
const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

/** Chat requests the fake received since `before`. */
function chatRequestsSince(before: number) {
  return fake.requests.slice(before).filter((r) => r.path === '/api/v1/chat/completions');
}

const okStream = [
  `data: ${JSON.stringify({ id: 'gen-1', model: 'm', choices: [{ index: 0, delta: { content: 'ok' }, finish_reason: null }] })}\n\n`,
  `data: ${JSON.stringify({ id: 'gen-1', model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
  'data: [DONE]\n\n',
];

/** What undici's request() rejects with when the connection is refused. */
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });

describe('timeouts', () => {
  it('first byte: no response headers in time → upstream.timeout naming the wait', async () => {
    const before = fake.requests.length;
    const started = performance.now();
    const { error } = await collect(
      client({ connectTimeoutMs: 200 }).streamChat(chat('x [fake headerwait=5000]'), {
        signal: signal(),
      }),
    );
    expectAppError(error, 'upstream.timeout', 'The model did not start answering within 200 ms.');
    // Not retried: a model that does not answer would only make the user wait longer.
    expect(chatRequestsSince(before)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('idle: a stream that stalls mid-answer → upstream.timeout, after the partial answer', async () => {
    const index = fake.streams.length;
    const { events, error } = await collect(
      client({ idleTimeoutMs: 300 }).streamChat(chat('x [fake after=2]', 'fake/stall'), {
        signal: signal(),
      }),
    );
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(2);
    expectAppError(
      error,
      'upstream.timeout',
      'The model stopped sending mid-answer: nothing arrived for 300 ms.',
    );
    // The client hung up: the stalled connection does not linger.
    expect((await fake.waitForStreamClosed(index, 2000)).endedBy).toBe('client-closed');
  });

  it('keep-alive comments count as activity: a long think is not a stall', async () => {
    const { events, error } = await collect(
      client({ idleTimeoutMs: 300 }).streamChat(chat('x [fake wait=900 keepalive=100]'), {
        signal: signal(),
      }),
    );
    expect(error).toBeNull();
    expect(text(events)).toMatch(/^You said: x/);
  });
});

describe('the connection or the stream failing mid-answer', () => {
  it('reset (TCP RST) → upstream.stream_error, the deltas before it delivered', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x [fake after=2]', 'fake/reset'), { signal: signal() }),
    );
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(2);
    expectAppError(
      error,
      'upstream.stream_error',
      'The connection to the model provider was lost mid-answer.',
    );
  });

  it('malformed chunk → upstream.bad_response', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x [fake after=2]', 'fake/malformed'), { signal: signal() }),
    );
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(2);
    expectAppError(
      error,
      'upstream.bad_response',
      'The model provider sent a malformed chunk (invalid JSON) mid-answer.',
    );
  });

  it('no [DONE] and no finish reason → upstream.stream_error', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x', 'fake/no-done'), { signal: signal() }),
    );
    expect(events.filter((e) => e.type === 'delta')).toHaveLength(8);
    expectAppError(
      error,
      'upstream.stream_error',
      'The model provider closed the stream before the answer was complete (no finish reason).',
    );
  });

  it('is never retried once the answer has started', async () => {
    for (const model of ['fake/drop', 'fake/reset', 'fake/midstream-error']) {
      const before = fake.requests.length;
      const { error } = await collect(
        client().streamChat(chat('x [fake after=1]', model), { signal: signal() }),
      );
      expect(error).toBeInstanceOf(AppError);
      expect(chatRequestsSince(before)).toHaveLength(1);
    }
  });
});

describe('retries before the first byte', () => {
  it('retries 5xx with backoff and succeeds (failfirst=2)', async () => {
    const before = fake.requests.length;
    const content = unique('[fake failfirst=2 status=502]');
    const { events, error } = await collect(
      client().streamChat(chat(content), { signal: signal() }),
    );
    expect(error).toBeNull();
    expect(text(events)).toContain('You said:');
    expect(chatRequestsSince(before)).toHaveLength(3);
  });

  it('gives up after maxRetries and says how often it tried', async () => {
    const before = fake.requests.length;
    const content = unique('[fake failfirst=5 status=500]');
    const { error } = await collect(
      client({ maxRetries: 2 }).streamChat(chat(content), { signal: signal() }),
    );
    expectAppError(
      error,
      'upstream.unavailable',
      'The model provider had an internal error (500): Internal Server Error (fake 500). Tried 3 times. Try again shortly, or choose another model.',
    );
    expect(chatRequestsSince(before)).toHaveLength(3);
  });

  it.each([400, 401, 402, 403])('does not retry %i', async (status) => {
    const before = fake.requests.length;
    const { error } = await collect(
      client().streamChat(chat(`[fake status=${status}]`, 'fake/error'), { signal: signal() }),
    );
    expect((error as AppError).upstreamStatus).toBe(status);
    expect(chatRequestsSince(before)).toHaveLength(1);
  });

  it('honours Retry-After in seconds', async () => {
    const before = fake.requests.length;
    const content = unique('[fake failfirst=1 status=429 retryafter=1]');
    const started = performance.now();
    const { error } = await collect(client().streamChat(chat(content), { signal: signal() }));
    expect(error).toBeNull();
    const [first, second] = chatRequestsSince(before);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 1500).toUTCString(); // whole seconds: 0.5–1.5 s away
    const { dispatcher, calls } = scriptedDispatcher([
      {
        status: 429,
        body: '{"error":{"code":429,"message":"Busy."}}',
        headers: { 'content-type': 'application/json', 'retry-after': at },
      },
      { body: okStream },
    ]);
    const { error } = await collect(
      client({ dispatcher }).streamChat(chat('x'), { signal: signal() }),
    );
    expect(error).toBeNull();
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(400);
  });

  it('reports a Retry-After past the budget at once, with the wait asked for', async () => {
    const before = fake.requests.length;
    const started = performance.now();
    const { error } = await collect(
      client({ retryBudgetMs: 5000 }).streamChat(
        chat(unique('[fake status=429 retryafter=30]'), 'fake/error'),
        { signal: signal() },
      ),
    );
    expectAppError(
      error,
      'upstream.rate_limited',
      /^Rate limited by the provider \(429\): fake\/error is temporarily rate-limited upstream\. Please retry shortly\. Try again in 30 s\.$/,
    );
    expect(chatRequestsSince(before)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('retries a refused connection, then names it', async () => {
    const { dispatcher, calls } = scriptedDispatcher([{ throws: refused() }]);
    const { error } = await collect(
      client({ dispatcher, baseUrl: 'https://upstream.example.test/api/v1' }).streamChat(
        chat('x'),
        { signal: signal() },
      ),
    );
    expectAppError(
      error,
      'upstream.network',
      'Could not connect to the model provider (upstream.example.test): connection refused. Tried 3 times.',
    );
    expect(calls).toHaveLength(3);
  });

  it('a refused connection that comes back succeeds', async () => {
    const { dispatcher, calls } = scriptedDispatcher([{ throws: refused() }, { body: okStream }]);
    const { events, error } = await collect(
      client({ dispatcher }).streamChat(chat('x'), { signal: signal() }),
    );
    expect(error).toBeNull();
    expect(text(events)).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('an abort during a backoff wait returns at once with an AbortError', async () => {
    const before = fake.requests.length;
    const controller = new AbortController();
    const stream = client().streamChat(
      chat(unique('[fake failfirst=1 status=429 retryafter=10]')),
      { signal: controller.signal },
    );
    const pending = collect(stream);
    await expect.poll(() => chatRequestsSince(before).length).toBe(1);
    const abortedAt = performance.now();
    controller.abort();
    const { error } = await pending;
    expect((error as Error).name).toBe('AbortError');
    expect(performance.now() - abortedAt).toBeLessThan(500);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(chatRequestsSince(before)).toHaveLength(1);
  });
});

describe('model fallbacks', () => {
  it('sends `models` after `model`, without repeating the primary', async () => {
    const before = fake.requests.length;
    await collect(
      client().streamChat(chat('x', 'fake/echo', ['fake/echo', 'openai/gpt-4o-mini']), {
        signal: signal(),
      }),
    );
    expect(chatRequestsSince(before)[0]?.body).toMatchObject({
      model: 'fake/echo',
      models: ['openai/gpt-4o-mini'],
    });
    const none = fake.requests.length;
    await collect(client().streamChat(chat('x', 'fake/echo', []), { signal: signal() }));
    expect(chatRequestsSince(none)[0]?.body).not.toHaveProperty('models');
  });

  it('the meta event names the model that answered when the primary failed', async () => {
    const { events, error } = await collect(
      client().streamChat(chat('x', 'fake/error', ['openai/gpt-4o-mini']), { signal: signal() }),
    );
    expect(error).toBeNull();
    expect(events[0]).toMatchObject({ type: 'meta', model: 'openai/gpt-4o-mini' });
  });
});
