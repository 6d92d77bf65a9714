/**
 * Upstream faults, end to end: the real backend on a DuckDB file, the real client, the fake
 * OpenRouter misbehaving one way per test. For each fault: the SSE `error` event names the
 * cause, the partial answer is kept with status `error`, the user's message is kept, and the
 * backend goes on serving (a normal chat right after works).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenRouter } from '../../../tools/fake-openrouter/src/server.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  createConversation,
  buildUser,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, postMessage, type ReceivedEvent } from '../test-support/sse-client.js';

/** Small enough for quick tests, large enough for a loaded 2-core machine. */
const FIRST_BYTE_TIMEOUT_MS = 1000;
const IDLE_TIMEOUT_MS = 1000;

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp({
    upstream: { connectTimeoutMs: FIRST_BYTE_TIMEOUT_MS, idleTimeoutMs: IDLE_TIMEOUT_MS },
  });
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

function newConversation(
  user: SignedInUser,
  model: string,
  fallbackModels?: string[],
): Promise<string> {
  return createConversation(ctx.app, user, {
    model,
    ...(fallbackModels ? { fallbackModels } : {}),
  });
}

async function messagesOf(user: SignedInUser, id: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${id}`,
    headers: { cookie: user.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json().messages;
}

const deltas = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');

const chatRequests = () => ctx.fake.requests.filter((r) => r.path === '/api/v1/chat/completions');

/** A message no other test sends, so that `failfirst` counts start afresh. */
const unique = (text: string) => `${text} (${crypto.randomUUID()})`;

/**
 * Sends `content` in a new conversation on `model`, expects the stream to end with an error
 * event of `code` whose message matches `message`, and checks what was saved.
 */
async function expectFault(
  model: string,
  content: string,
  code: string,
  message: RegExp,
  partial: 'some' | 'none',
) {
  const id = await newConversation(admin, model);
  const events = await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content }));
  const last = events.at(-1);
  expect(last?.event, JSON.stringify(last)).toBe('error');
  expect(last?.data.code).toBe(code);
  expect(last?.data.message).toMatch(message);
  expect(events.filter((e) => e.event === 'done')).toHaveLength(0);

  const written = deltas(events);
  if (partial === 'some') expect(written.length).toBeGreaterThan(0);
  else expect(written).toBe('');
  const [question, answer] = await messagesOf(admin, id);
  expect(question).toMatchObject({ role: 'user', content, status: 'complete' });
  expect(answer).toMatchObject({
    role: 'assistant',
    status: 'error',
    content: written,
    error: last?.data.message,
  });
  expect(answer.generation.finishReason).toBe('error');
  await expectStillServing();
  return { events, answer };
}

/** The backend answers a normal chat, completely. */
async function expectStillServing(user: SignedInUser = admin) {
  const id = await newConversation(user, 'fake/echo');
  const events = await collect(
    postMessage(ctx.baseUrl, user.cookie, id, { content: 'still there?' }),
  );
  expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
  expect(deltas(events)).toMatch(/^You said: still there\?\. /);
}

describe('upstream faults: each is named, the partial answer and the question are kept', () => {
  it('429 with a Retry-After past the retry budget: reported at once with the wait', async () => {
    const started = performance.now();
    await expectFault(
      'fake/error',
      unique('[fake status=429 retryafter=30]'),
      'upstream.rate_limited',
      /^Rate limited by the provider \(429\): fake\/error is temporarily rate-limited upstream\. Please retry shortly\. Try again in 30 s\.$/,
      'none',
    );
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it.each([
    [500, 'upstream.unavailable', /^The model provider had an internal error \(500\): /],
    [502, 'upstream.unavailable', /^The model provider is unavailable \(502\): /],
    [503, 'upstream.no_provider', /^No provider is available for this model \(503\): /],
  ])('%i: retried, then reported with the attempts', async (status, code, message) => {
    const before = chatRequests().length;
    const { answer } = await expectFault(
      'fake/error',
      unique(`[fake status=${status} retryafter=0]`),
      code,
      message,
      'none',
    );
    expect(answer.error).toContain('Tried 3 times.');
    // Three attempts for the fault, one for the normal chat after it.
    expect(chatRequests().length - before).toBe(3 + 1);
  });

  it('connection refused: names the host, then serves again once the upstream is back', async () => {
    const { port, host } = new URL(ctx.fake.url);
    const id = await newConversation(admin, 'fake/echo');
    await ctx.stopUpstream();
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'anyone?' }),
    );
    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'error', data: { code: 'upstream.network' } });
    expect(last?.data.message).toBe(
      `Could not connect to the model provider (${host}): connection refused. Tried 3 times.`,
    );
    const [question, answer] = await messagesOf(admin, id);
    expect(question).toMatchObject({ role: 'user', content: 'anyone?' });
    expect(answer).toMatchObject({ status: 'error', content: '', error: last?.data.message });

    const back = await startFakeOpenRouter({ port: Number(port) });
    try {
      await expectStillServing();
    } finally {
      await back.close();
    }
  });

  it('no first byte within the timeout: upstream.timeout naming the wait', async () => {
    const before = chatRequests().length;
    await expectFault(
      'fake/echo',
      unique('[fake headerwait=20000]'),
      'upstream.timeout',
      /^The model did not start answering within 1 s\.$/,
      'none',
    );
    expect(chatRequests().length - before).toBe(1 + 1);
  });

  it('a stream that stalls mid-answer: upstream.timeout after the idle timeout', async () => {
    await expectFault(
      'fake/stall',
      'stall please [fake after=3]',
      'upstream.timeout',
      /^The model stopped sending mid-answer: nothing arrived for 1 s\.$/,
      'some',
    );
    expect((await ctx.fake.waitForStreamClosed(0, 2000)).endedBy).toBe('client-closed');
  });

  it('the connection reset mid-stream: upstream.stream_error', async () => {
    await expectFault(
      'fake/reset',
      'reset please [fake after=3]',
      'upstream.stream_error',
      /^The connection to the model provider was lost mid-answer\.$/,
      'some',
    );
    expect(ctx.fake.streams[0]?.endedBy).toBe('reset');
  });

  it('a malformed JSON chunk: upstream.bad_response', async () => {
    await expectFault(
      'fake/malformed',
      'malformed please [fake after=3]',
      'upstream.bad_response',
      /^The model provider sent a malformed chunk \(invalid JSON\) mid-answer\.$/,
      'some',
    );
  });

  it('an error chunk mid-stream: upstream.stream_error with the upstream message', async () => {
    await expectFault(
      'fake/midstream-error',
      'error chunk please [fake after=3]',
      'upstream.stream_error',
      /^The model provider reported an error mid-answer \(server_error\): Provider disconnected unexpectedly \(fake mid-stream error\)\.$/,
      'some',
    );
  });

  it('a stream that ends without [DONE] or a finish reason: upstream.stream_error', async () => {
    await expectFault(
      'fake/no-done',
      'cut short please',
      'upstream.stream_error',
      /^The model provider closed the stream before the answer was complete \(no finish reason\)\.$/,
      'some',
    );
  });
});

describe('other users are not affected', () => {
  it("a normal stream completes intact while another user's stream faults", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const normal = await newConversation(admin, 'fake/slow');
    const faulty = await newConversation(bob, 'fake/reset');
    const faultyStall = await newConversation(bob, 'fake/stall');
    const [good, bad, stalled] = await Promise.all([
      collect(
        postMessage(ctx.baseUrl, admin.cookie, normal, {
          content: 'a long answer [fake chunks=40 delay=30]',
        }),
      ),
      collect(
        postMessage(ctx.baseUrl, bob.cookie, faulty, {
          content: 'break [fake after=5 delay=30]',
        }),
      ),
      collect(
        postMessage(ctx.baseUrl, bob.cookie, faultyStall, { content: 'hang [fake after=2]' }),
      ),
    ]);
    expect(bad.at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream.stream_error' } });
    expect(stalled.at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream.timeout' } });
    expect(good.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    expect(good.filter((e) => e.event === 'delta')).toHaveLength(40);
    expect(good.filter((e) => e.event === 'error')).toHaveLength(0);
    const text = deltas(good);
    expect(text).toMatch(/^You said: a long answer \[fake chunks=40 delay=30\]\. /);
    const [, answer] = await messagesOf(admin, normal);
    expect(answer).toMatchObject({ status: 'complete', content: text, error: null });
  });
});

describe('retries before the first byte', () => {
  it('retries with backoff and succeeds (failfirst=2)', async () => {
    const id = await newConversation(admin, 'fake/echo');
    const content = unique('[fake failfirst=2 status=502]');
    const before = chatRequests().length;
    const events = await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content }));
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    expect(events.filter((e) => e.event === 'error')).toHaveLength(0);
    expect(chatRequests().length - before).toBe(3);
    const [, answer] = await messagesOf(admin, id);
    expect(answer).toMatchObject({ status: 'complete', error: null });
    expect(answer.content).toContain('You said:');
  });

  it('does not retry a 401', async () => {
    const before = chatRequests().length;
    const id = await newConversation(admin, 'fake/error');
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: '[fake status=401]' }),
    );
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: {
        code: 'upstream.unauthorized',
        message:
          'The model provider rejected the API key (401): User not found. Check OPENROUTER_API_KEY on the backend.',
      },
    });
    expect(chatRequests().length - before).toBe(1);
  });

  it('honours Retry-After', async () => {
    const id = await newConversation(admin, 'fake/echo');
    const before = chatRequests().length;
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, {
        content: unique('[fake failfirst=1 status=429 retryafter=1]'),
      }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    const [first, second] = chatRequests().slice(before);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('stop during a backoff wait ends the answer at once', async () => {
    const id = await newConversation(admin, 'fake/echo');
    const before = chatRequests().length;
    const events: ReceivedEvent[] = [];
    let stoppedAt = 0;
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: unique('[fake failfirst=1 status=429 retryafter=15]'),
    })) {
      events.push(event);
      if (event.event === 'assistant_message') {
        await expect.poll(() => chatRequests().length - before).toBe(1);
        stoppedAt = performance.now();
        const stop = await ctx.app.inject({
          method: 'POST',
          url: `/api/generations/${event.data.generationId}/stop`,
          headers: { cookie: admin.cookie },
        });
        expect(stop.statusCode).toBe(200);
      }
    }
    expect(performance.now() - stoppedAt).toBeLessThan(2000);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    const [question, answer] = await messagesOf(admin, id);
    expect(question.role).toBe('user');
    expect(answer).toMatchObject({ status: 'stopped', content: '' });
    expect(chatRequests().length - before).toBe(1);
  });
});

describe('fallback models', () => {
  it('falls through to the next model, which the generation records', async () => {
    const id = await newConversation(admin, 'fake/error', ['openai/gpt-4o-mini', 'fake/echo']);
    const before = chatRequests().length;
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'who answers? [fake status=503]' }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    expect(events.find((e) => e.event === 'assistant_message')?.data.model).toBe('fake/error');

    const sent = chatRequests().slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body).toMatchObject({
      model: 'fake/error',
      models: ['openai/gpt-4o-mini', 'fake/echo'],
    });
    const [, answer] = await messagesOf(admin, id);
    expect(answer.status).toBe('complete');
    expect(answer.generation).toMatchObject({ model: 'openai/gpt-4o-mini', provider: 'OpenAI' });
  });

  it('reports the last model’s error when every model fails', async () => {
    const id = await newConversation(admin, 'fake/error', ['fake/error']);
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: '[fake status=403]' }),
    );
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream.moderation' } });
    const [, answer] = await messagesOf(admin, id);
    expect(answer.generation.model).toBe('fake/error');
  });
});
