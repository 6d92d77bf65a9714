import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFakeOpenRouter, type FakeOpenRouter } from './server.js';
import { answerPieces } from './scenarios.js';
import { jsonChunks, rawEvents } from './testing.js';

let fake: FakeOpenRouter;

beforeAll(async () => {
  fake = await startFakeOpenRouter();
});

afterAll(async () => {
  await fake.close();
});

interface ChatOptions {
  model?: string;
  /** OpenRouter's fallback list, sent as `models`. */
  models?: string[];
  content?: string;
  stream?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

function chat(options: ChatOptions = {}): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    headers: {
      authorization: 'Bearer sk-or-v1-fake',
      'content-type': 'application/json',
      ...options.headers,
    },
    body: JSON.stringify({
      model: options.model ?? 'fake/echo',
      ...(options.models ? { models: options.models } : {}),
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: options.content ?? 'hello there' },
      ],
      stream: options.stream ?? true,
    }),
    signal: options.signal,
  });
}

type Chunk = Record<string, unknown> & {
  choices: {
    delta: Record<string, unknown>;
    finish_reason: string | null;
    native_finish_reason: string | null;
  }[];
};

function contentOf(chunks: Chunk[]): string {
  return chunks.map((c) => String(c.choices[0]?.delta.content ?? '')).join('');
}

describe('GET /api/v1/models', () => {
  it('returns the catalog in the OpenRouter shape, without auth', async () => {
    const res = await fetch(`${fake.url}/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Record<string, unknown>[] };
    const ids = body.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['fake/echo', 'fake/slow', 'fake/reasoning']));
    expect(ids).toEqual(expect.arrayContaining(['fake/error', 'fake/drop', 'openai/gpt-4o-mini']));
    for (const model of body.data) {
      expect(model).toMatchObject({
        id: expect.any(String),
        canonical_slug: expect.any(String),
        name: expect.any(String),
        created: expect.any(Number),
        description: expect.stringContaining('FAKE'),
        context_length: expect.any(Number),
        architecture: {
          modality: expect.any(String),
          input_modalities: expect.any(Array),
          output_modalities: expect.any(Array),
          tokenizer: expect.any(String),
        },
        pricing: { prompt: expect.any(String), completion: expect.any(String) },
        top_provider: { is_moderated: expect.any(Boolean) },
        supported_parameters: expect.any(Array),
      });
      expect(model).toHaveProperty('per_request_limits');
    }
  });
});

describe('errors and auth', () => {
  it('answers 401 without a bearer token', async () => {
    for (const authorization of [undefined, 'Bearer ', 'Basic abc']) {
      const res = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: authorization ? { authorization } : {},
        body: JSON.stringify({ model: 'fake/echo', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: { code: 401, message: expect.any(String) } });
    }
  });

  it('answers 400 for a bad body', async () => {
    const bodies = [
      'not json',
      JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
      JSON.stringify({ model: 'fake/echo', messages: [] }),
      JSON.stringify({ model: 'fake/echo', messages: [{ role: 'wizard', content: 'x' }] }),
      JSON.stringify({ model: 'fake/echo', messages: [{ role: 'user', content: 3 }] }),
    ];
    for (const body of bodies) {
      const res = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { code: number; message: string } };
      expect(json.error.code).toBe(400);
      expect(json.error.message).not.toBe('');
    }
  });

  it('answers 404 JSON for unknown routes', async () => {
    const res = await fetch(`${fake.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ error: { code: 404 } });
    expect((await fetch(`${fake.url}/models`, { method: 'DELETE' })).status).toBe(404);
  });

  it('error scenario: status from the option, OpenRouter-shaped body', async () => {
    const byDefault = await chat({ model: 'fake/error' });
    expect(byDefault.status).toBe(500);
    for (const status of [400, 401, 402, 403, 408, 429, 502, 503]) {
      const res = await chat({ model: 'fake/error', content: `hi [fake status=${status}]` });
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { code: number; message: string } };
      expect(body.error.code).toBe(status);
      expect(body.error.message.length).toBeGreaterThan(5);
      expect(res.headers.get('retry-after')).toBe(status === 429 || status === 503 ? '1' : null);
    }
    const viaHeader = await chat({
      headers: { 'x-fake-scenario': 'error', 'x-fake-options': 'status=402' },
    });
    expect(viaHeader.status).toBe(402);
    await viaHeader.body?.cancel();
  });
});

describe('streams', () => {
  it('echo: comments, role chunk, content, finish, usage, [DONE]', async () => {
    const res = await chat({ content: 'hello there' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const raw = await res.text();
    const events = rawEvents(raw);
    expect(events[0]).toEqual({ kind: 'comment', text: 'OPENROUTER PROCESSING' });
    expect(events.at(-1)).toEqual({ kind: 'data', text: '[DONE]' });

    const chunks = jsonChunks(raw) as Chunk[];
    expect(chunks).toHaveLength(1 + 8 + 1 + 1);
    const [first] = chunks;
    expect(first).toMatchObject({
      id: expect.stringMatching(/^gen-\d+-[A-Za-z0-9]{20}$/),
      provider: 'FakeProvider',
      model: 'fake/echo',
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    expect(res.headers.get('x-generation-id')).toBe(first?.id);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const text = contentOf(chunks);
    expect(text).toMatch(/^You said: hello there\. /);
    const finish = chunks[9];
    expect(finish?.choices[0]).toMatchObject({
      finish_reason: 'stop',
      native_finish_reason: 'stop',
    });

    const usageChunk = chunks[10] as Chunk & { usage: Record<string, unknown> };
    expect(usageChunk.choices).toEqual([]);
    const inputChars = 'Be brief.'.length + 'hello there'.length;
    expect(usageChunk.usage).toEqual({
      prompt_tokens: Math.ceil(inputChars / 4),
      completion_tokens: 8,
      total_tokens: Math.ceil(inputChars / 4) + 8,
      cost: expect.closeTo(Math.ceil(inputChars / 4) * 0.000001 + 8 * 0.000002, 12),
      is_byok: false,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      cost_details: {
        upstream_inference_cost: null,
        upstream_inference_prompt_cost: expect.any(Number),
        upstream_inference_completions_cost: expect.any(Number),
      },
      completion_tokens_details: { reasoning_tokens: 0, image_tokens: 0 },
    });

    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ model: 'fake/echo', chunksSent: 11, endedBy: 'complete' });
    expect(record.closedAt).toEqual(expect.any(Number));
  });

  it('records requests with headers and the parsed body', async () => {
    const before = fake.requests.length;
    const res = await chat({ headers: { 'x-title': 'Test App' }, content: 'recorded?' });
    await res.text();
    const request = fake.requests[before];
    expect(request).toMatchObject({
      method: 'POST',
      path: '/api/v1/chat/completions',
      headers: { authorization: 'Bearer sk-or-v1-fake', 'x-title': 'Test App' },
      body: { model: 'fake/echo', stream: true },
      receivedAt: expect.any(Number),
    });
    expect(fake.streams.at(-1)?.requestIndex).toBe(before);
  });

  it('directive in the last user message sets options; the header overrides it', async () => {
    const viaDirective = jsonChunks(await (await chat({ content: 'x [fake chunks=3]' })).text());
    expect(viaDirective).toHaveLength(1 + 3 + 2);
    const overridden = await chat({
      content: 'x [fake chunks=3]',
      headers: { 'x-fake-options': 'chunks=5' },
    });
    expect(jsonChunks(await overridden.text())).toHaveLength(1 + 5 + 2);
  });

  it('X-Fake-Scenario overrides the model', async () => {
    const res = await chat({
      model: 'openai/gpt-4o-mini',
      headers: { 'x-fake-scenario': 'length' },
    });
    const chunks = jsonChunks(await res.text()) as Chunk[];
    expect(chunks[0]?.provider).toBe('OpenAI');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('length');
  });

  it('length: finish_reason "length"', async () => {
    const chunks = jsonChunks(await (await chat({ model: 'fake/length' })).text()) as Chunk[];
    expect(chunks.at(-2)?.choices[0]).toMatchObject({
      finish_reason: 'length',
      native_finish_reason: 'length',
    });
  });

  it('limit: cuts the answer at that many chunks with "length", and continues a trailing assistant message', async () => {
    const content = 'go [fake chunks=8 limit=5]';
    const post = (messages: Array<{ role: string; content: string }>, stream = true) =>
      fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-or-v1-fake', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake/echo', messages, stream }),
      });
    const text = (chunks: Chunk[]) =>
      chunks.map((c) => (c.choices[0]?.delta.content as string | undefined) ?? '').join('');

    const first = jsonChunks(await (await post([{ role: 'user', content }])).text()) as Chunk[];
    expect(first.filter((c) => c.choices[0]?.delta.content)).toHaveLength(5);
    expect(first.at(-2)?.choices[0]?.finish_reason).toBe('length');
    const start = text(first);
    expect(start).toMatch(/^You said: go/);

    // Continued: the rest of the same answer (3 chunks), finishing normally.
    const messages = [
      { role: 'user', content },
      { role: 'assistant', content: start },
    ];
    const rest = jsonChunks(await (await post(messages)).text()) as Chunk[];
    expect(rest.filter((c) => c.choices[0]?.delta.content)).toHaveLength(3);
    expect(rest.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(rest.at(-1)?.usage).toMatchObject({ completion_tokens: 3 });
    expect(start + text(rest)).toBe(answerPieces(content, 8).join(''));
    expect(text(rest)).toMatch(/^\S/);

    // Without streaming, the same.
    const completion = (await (await post(messages, false)).json()) as {
      choices: Array<{ finish_reason: string; message: { content: string } }>;
    };
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(start + completion.choices[0]?.message.content).toBe(start + text(rest));
  });

  it('sources: url_citation annotations as web search returns them, streamed and not', async () => {
    const chunks = jsonChunks(
      await (await chat({ content: 'search this [fake sources=2]' })).text(),
    ) as Chunk[];
    const annotated = chunks.filter((c) => c.choices[0]?.delta.annotations);
    expect(annotated).toHaveLength(1);
    const annotations = annotated[0]?.choices[0]?.delta.annotations as Array<{
      type: string;
      url_citation: { url: string; title: string };
    }>;
    expect(annotations).toHaveLength(2);
    expect(annotations[0]).toMatchObject({
      type: 'url_citation',
      url_citation: { url: expect.stringMatching(/^https:\/\//), title: expect.any(String) },
    });
    expect(annotations[0]?.url_citation.url).not.toBe(annotations[1]?.url_citation.url);

    const completion = (await (
      await chat({ content: 'search this [fake sources=2]', stream: false })
    ).json()) as { choices: Array<{ message: { annotations: unknown[] } }> };
    expect(completion.choices[0]?.message.annotations).toEqual(annotations);
  });

  it('slow: paces chunks and sends keep-alive comments during long pauses', async () => {
    const started = Date.now();
    const res = await chat({
      model: 'fake/slow',
      content: 'go [fake chunks=3 delay=250 keepalive=100]',
    });
    const raw = await res.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    const events = rawEvents(raw);
    const contentIndexes = events
      .map((e, i) => (e.kind === 'data' && e.text.includes('You said') ? i : -1))
      .filter((i) => i >= 0);
    const firstContent = contentIndexes[0] ?? 0;
    // Two keep-alives (at 100 and 200 ms) before each 250 ms-delayed content chunk.
    expect(events.slice(firstContent - 2, firstContent).map((e) => e.kind)).toEqual([
      'comment',
      'comment',
    ]);
    expect(jsonChunks(raw)).toHaveLength(1 + 3 + 2);
  });

  it('reasoning: reasoning chunks with reasoning_details before the content', async () => {
    const raw = await (await chat({ model: 'fake/reasoning', content: 'think' })).text();
    const chunks = jsonChunks(raw) as Chunk[];
    const reasoning = chunks.filter((c) => typeof c.choices[0]?.delta.reasoning === 'string');
    expect(reasoning).toHaveLength(4);
    for (const chunk of reasoning) {
      const delta = chunk.choices[0]?.delta;
      expect(delta?.content).toBe('');
      expect(delta?.reasoning_details).toEqual([
        { type: 'reasoning.text', text: delta?.reasoning, format: 'unknown', index: 0 },
      ]);
    }
    const firstContent = chunks.findIndex((c) => String(c.choices[0]?.delta.content ?? '') !== '');
    const lastReasoning = chunks.lastIndexOf(reasoning.at(-1) as Chunk);
    expect(lastReasoning).toBeLessThan(firstContent);
    const usage = (chunks.at(-1) as unknown as { usage: Record<string, unknown> }).usage;
    expect(usage).toMatchObject({
      completion_tokens: 8 + 4,
      completion_tokens_details: { reasoning_tokens: 4 },
    });
    expect(usage.cost).toBeGreaterThan(0);
  });

  it('midstream-error: `after` chunks then an error chunk, no [DONE]', async () => {
    const res = await chat({ model: 'fake/midstream-error', content: 'x [fake after=2]' });
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).not.toContain('[DONE]');
    const chunks = jsonChunks(raw) as Chunk[];
    expect(chunks).toHaveLength(1 + 2 + 1);
    expect(chunks.at(-1)).toMatchObject({
      object: 'chat.completion.chunk',
      error: { code: 'server_error', message: expect.any(String) },
      choices: [{ finish_reason: 'error', native_finish_reason: 'error' }],
    });
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ endedBy: 'error', chunksSent: 4 });
  });

  it('drop: `after` chunks then the socket is destroyed', async () => {
    const res = await chat({ model: 'fake/drop', content: 'x [fake after=2]' });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        received += decoder.decode(value, { stream: true });
      }
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(jsonChunks(received)).toHaveLength(1 + 2);
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ endedBy: 'dropped', chunksSent: 3 });
  });

  it('detects the client going away and stops writing', async () => {
    const controller = new AbortController();
    const res = await chat({
      model: 'fake/slow',
      content: 'x [fake chunks=100 delay=20]',
      signal: controller.signal,
    });
    const index = fake.streams.length - 1;
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const started = Date.now();
    const record = await fake.waitForStreamClosed(index, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(record.endedBy).toBe('client-closed');
    expect(record.chunksSent).toBeLessThan(100);
    const sent = record.chunksSent;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(record.chunksSent).toBe(sent);
  });

  it('close() can be called twice', async () => {
    const other = await startFakeOpenRouter();
    await Promise.all([other.close(), other.close()]);
    await other.close();
  });

  it('waitForStreamClosed rejects after its timeout', async () => {
    await expect(fake.waitForStreamClosed(10_000, 50)).rejects.toThrow(/did not close/);
  });
});

describe('non-streamed completions', () => {
  it('returns a chat.completion with usage and cost', async () => {
    const res = await chat({ stream: false, model: 'openai/gpt-4o-mini', content: 'plain' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: expect.stringMatching(/^gen-/),
      provider: 'OpenAI',
      model: 'openai/gpt-4o-mini',
      object: 'chat.completion',
      choices: [
        {
          finish_reason: 'stop',
          native_finish_reason: 'stop',
          message: { role: 'assistant', content: expect.stringMatching(/^You said: plain\. /) },
        },
      ],
      usage: { completion_tokens: 8, cost: expect.any(Number), is_byok: false },
    });
    expect((body.usage as { cost: number }).cost).toBeGreaterThan(0);
  });

  it('reports the free model at cost 0 and cached tokens when asked', async () => {
    const res = await chat({
      stream: false,
      model: 'meta-llama/llama-3.3-70b-instruct:free',
      content: 'a long enough message to have several prompt tokens [fake cached=2]',
    });
    const body = (await res.json()) as { usage: Record<string, unknown> };
    expect(body.usage).toMatchObject({ cost: 0, prompt_tokens_details: { cached_tokens: 2 } });
  });
});

/** Reads a body until it ends or fails; returns the text and the failure (null when it ended). */
async function readAll(res: Response): Promise<{ text: string; failure: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, failure: null };
      text += decoder.decode(value, { stream: true });
    }
  } catch (failure) {
    return { text, failure };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fault scenarios', () => {
  it('stall: `after` chunks, then silence (no keep-alives) until the client leaves', async () => {
    const controller = new AbortController();
    const res = await chat({
      model: 'fake/stall',
      content: 'x [fake after=2]',
      signal: controller.signal,
    });
    const index = fake.streams.length - 1;
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (jsonChunks(text.slice(0, text.lastIndexOf('\n\n') + 2)).length < 3) {
      const { value } = await reader.read();
      text += decoder.decode(value, { stream: true });
    }
    const next = reader.read();
    const outcome = await Promise.race([next.then(() => 'data'), sleep(400).then(() => 'silent')]);
    expect(outcome).toBe('silent');
    expect(fake.streams[index]?.closedAt).toBeNull();
    controller.abort();
    await next.catch(() => undefined);
    const record = await fake.waitForStreamClosed(index);
    expect(record).toMatchObject({ scenario: 'stall', endedBy: 'client-closed', chunksSent: 3 });
  });

  it('reset: `after` chunks, then a TCP reset', async () => {
    const res = await chat({ model: 'fake/reset', content: 'x [fake after=2]' });
    expect(res.status).toBe(200);
    const { text, failure } = await readAll(res);
    expect(failure).toBeInstanceOf(Error);
    expect(jsonChunks(text)).toHaveLength(1 + 2);
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ endedBy: 'reset', chunksSent: 3 });
  });

  it('malformed: a data event with broken JSON after `after` chunks, then the rest', async () => {
    const res = await chat({ model: 'fake/malformed', content: 'x [fake after=2]' });
    const raw = await res.text();
    const data = rawEvents(raw).filter((e) => e.kind === 'data');
    const broken = data.filter((e) => {
      if (e.text === '[DONE]') return false;
      try {
        JSON.parse(e.text);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toHaveLength(1);
    expect(broken[0]?.text).toMatch(/^\{"id":"gen-/);
    // role chunk, two content chunks, then the broken one
    expect(data.indexOf(broken[0]!)).toBe(3);
    expect(data.at(-1)?.text).toBe('[DONE]');
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ endedBy: 'complete', chunksSent: 1 + 8 + 1 + 2 });
  });

  it('no-done: content chunks, then a clean end without finish_reason or [DONE]', async () => {
    const res = await chat({ model: 'fake/no-done', content: 'x' });
    const { text, failure } = await readAll(res);
    expect(failure).toBeNull();
    expect(text).not.toContain('[DONE]');
    const chunks = jsonChunks(text) as Chunk[];
    expect(chunks).toHaveLength(1 + 8);
    expect(chunks.every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
    const record = await fake.waitForStreamClosed(fake.streams.length - 1);
    expect(record).toMatchObject({ endedBy: 'truncated', chunksSent: 9 });
  });

  it('headerwait: nothing at all, not even the status line, for that long', async () => {
    const started = Date.now();
    const res = await chat({ content: 'x [fake headerwait=300]' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(res.status).toBe(200);
    await res.text();

    const controller = new AbortController();
    const streamsBefore = fake.streams.length;
    setTimeout(() => controller.abort(), 50);
    const error = await chat({
      content: 'y [fake headerwait=5000]',
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    await sleep(100);
    expect(fake.streams.length).toBe(streamsBefore);
  });

  it('retryafter: the Retry-After seconds of an error answer', async () => {
    const limited = await chat({
      model: 'fake/error',
      content: 'x [fake status=429 retryafter=30]',
    });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    await limited.text();
    const failed = await chat({ model: 'fake/error', content: 'x [fake status=500 retryafter=2]' });
    expect(failed.headers.get('retry-after')).toBe('2');
    await failed.text();
  });

  it('failfirst: the first N requests with this message fail, the next ones succeed', async () => {
    const content = `failfirst ${crypto.randomUUID()} [fake failfirst=2 status=503]`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await chat({ content });
      statuses.push(res.status);
      if (i === 0) expect(res.headers.get('retry-after')).toBe('1');
      await res.text();
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
    // Another message has its own count.
    const other = await chat({ content: `other ${crypto.randomUUID()} [fake failfirst=1]` });
    expect(other.status).toBe(500);
    await other.text();
  });
});

describe('model fallbacks (the `models` parameter)', () => {
  it('serves the next model when the primary fails before its first byte', async () => {
    const res = await chat({ model: 'fake/error', models: ['openai/gpt-4o-mini'], content: 'fb' });
    expect(res.status).toBe(200);
    const chunks = jsonChunks(await res.text()) as Chunk[];
    expect(chunks[0]).toMatchObject({ model: 'openai/gpt-4o-mini', provider: 'OpenAI' });
    expect(contentOf(chunks)).toMatch(/^You said: fb\. /);
    expect(fake.streams.at(-1)?.model).toBe('openai/gpt-4o-mini');
  });

  it('accepts `models` alone, its first entry being the primary', async () => {
    const res = await fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({
        models: ['fake/error', 'fake/echo'],
        messages: [{ role: 'user', content: 'x' }],
        stream: false,
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: 'fake/echo' });
  });

  it('returns the last error when every model fails', async () => {
    const res = await chat({
      model: 'openai/gpt-4o-mini',
      models: ['fake/error'],
      headers: { 'x-fake-scenario': 'error', 'x-fake-options': 'status=502' },
    });
    expect(res.status).toBe(502);
    await res.text();
    const limited = await chat({
      model: 'openai/gpt-4o-mini',
      models: ['fake/error', 'fake/error'],
      headers: { 'x-fake-scenario': 'error' },
      content: 'x [fake status=429]',
    });
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { error: { message: string } };
    expect(body.error.message).toContain('fake/error');
  });

  it('does not fall back on account errors (401, 402)', async () => {
    for (const status of [401, 402]) {
      const res = await chat({
        model: 'fake/error',
        models: ['fake/echo'],
        content: `x [fake status=${status}]`,
      });
      expect(res.status).toBe(status);
      await res.text();
    }
  });

  it('falls back when the primary fails through failfirst', async () => {
    const content = `ff-fallback ${crypto.randomUUID()} [fake failfirst=1 status=429]`;
    const res = await chat({ model: 'fake/echo', models: ['openai/gpt-4o-mini'], content });
    expect(res.status).toBe(200);
    expect((jsonChunks(await res.text())[0] as Chunk).model).toBe('openai/gpt-4o-mini');
  });

  it('rejects a `models` that is not a list of ids', async () => {
    for (const models of ['fake/echo', [''], [3]]) {
      const res = await fetch(`${fake.url}/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'fake/echo',
          models,
          messages: [{ role: 'user', content: 'x' }],
        }),
      });
      expect(res.status).toBe(400);
      await res.text();
    }
  });
});

describe('title requests', () => {
  const titleBody = (stream: boolean, model = 'fake/echo') =>
    JSON.stringify({
      model,
      stream,
      messages: [
        { role: 'system', content: 'You write the title of a chat conversation.' },
        { role: 'user', content: 'how do I plan a trip to Lisbon? [fake chunks=3]' },
        { role: 'assistant', content: 'You said: how do I plan…' },
        { role: 'user', content: 'Write the title of this conversation.' },
      ],
    });
  const post = (body: string) =>
    fetch(`${fake.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-or-v1-fake', 'content-type': 'application/json' },
      body,
    });

  it('streams a title made from the first user message, one word a chunk, with usage', async () => {
    const res = await post(titleBody(true));
    expect(res.status).toBe(200);
    const chunks = jsonChunks(await res.text()) as Chunk[];
    expect(contentOf(chunks)).toBe('How Do I Plan A');
    const content = chunks.filter((c) => typeof c.choices[0]?.delta.content === 'string');
    // The role chunk (empty content), then one chunk per word.
    expect(content.map((c) => c.choices[0]?.delta.content).filter((t) => t !== '')).toEqual([
      'How ',
      'Do ',
      'I ',
      'Plan ',
      'A',
    ]);
    const usage = chunks.at(-1)?.usage as { completion_tokens: number; cost: number };
    expect(usage.completion_tokens).toBe(5);
    expect(usage.cost).toBeGreaterThan(0);
  });

  it('answers a non-streamed title request with one completion', async () => {
    const res = await post(titleBody(false));
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe('How Do I Plan A');
  });

  it('keeps the scenario of the model: fake/error fails', async () => {
    const res = await post(titleBody(true, 'fake/error'));
    expect(res.status).toBe(500);
  });
});

describe('GET /api/v1/generation (a completion’s statistics)', () => {
  const getGeneration = (id: string, key = 'sk-or-v1-fake') =>
    fetch(`${fake.url}/generation?id=${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${key}` },
    });

  it('tells what a streamed completion cost and counted, in OpenRouter’s shape', async () => {
    const res = await chat({ content: 'stats please [fake chunks=5]' });
    const chunks = jsonChunks(await res.text()) as Chunk[];
    const id = String(chunks[0]?.id);
    const usage = chunks.at(-1)?.usage as Record<string, number> & {
      completion_tokens_details: { reasoning_tokens: number };
      prompt_tokens_details: { cached_tokens: number };
    };
    const stats = await getGeneration(id);
    expect(stats.status).toBe(200);
    const { data } = (await stats.json()) as { data: Record<string, unknown> };
    expect(data).toMatchObject({
      id,
      model: 'fake/echo',
      provider_name: 'FakeProvider',
      streamed: true,
      cancelled: false,
      finish_reason: 'stop',
      total_cost: usage.cost,
      usage: usage.cost,
      tokens_prompt: usage.prompt_tokens,
      tokens_completion: 5,
      native_tokens_prompt: usage.prompt_tokens,
      native_tokens_completion: 5,
      native_tokens_reasoning: 0,
      native_tokens_cached: 0,
      is_byok: false,
    });
    expect(typeof data.latency).toBe('number');
    expect(typeof data.generation_time).toBe('number');
    expect(Date.parse(String(data.created_at))).not.toBeNaN();
  });

  it('omitusage: the stream ends without a usage chunk; omitcost: usage without cost', async () => {
    const bare = jsonChunks(await (await chat({ content: 'x [fake omitusage=1]' })).text());
    expect(bare.some((c) => 'usage' in c)).toBe(false);
    const stats = await getGeneration(String(bare[0]?.id));
    expect(
      ((await stats.json()) as { data: { total_cost: number } }).data.total_cost,
    ).toBeGreaterThan(0);

    const noCost = jsonChunks(await (await chat({ content: 'y [fake omitcost=1]' })).text());
    const usage = noCost.at(-1)?.usage as Record<string, unknown>;
    expect(usage.prompt_tokens).toEqual(expect.any(Number));
    expect('cost' in usage).toBe(false);
  });

  it('404 until statsdelay has passed, for unknown ids and for another key', async () => {
    const chunks = jsonChunks(await (await chat({ content: 'z [fake statsdelay=300]' })).text());
    const id = String(chunks[0]?.id);
    const early = await getGeneration(id);
    expect(early.status).toBe(404);
    expect(await early.json()).toEqual({ error: { code: 404, message: 'Generation not found' } });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect((await getGeneration(id)).status).toBe(200);
    expect((await getGeneration(id, 'sk-or-v1-someone-else')).status).toBe(404);
    expect((await getGeneration('gen-unknown')).status).toBe(404);
    const missing = await fetch(`${fake.url}/generation`, {
      headers: { authorization: 'Bearer sk-or-v1-fake' },
    });
    expect(missing.status).toBe(400);
  });

  it('a stream the client cancels is on record too, with what was sent', async () => {
    const controller = new AbortController();
    const res = await chat({
      content: 'cancel me [fake chunks=40 delay=30]',
      signal: controller.signal,
    });
    const id = res.headers.get('x-generation-id')!;
    const reader = res.body!.getReader();
    let text = '';
    // Two content chunks in, the client goes away.
    while ((text.match(/"content":"[^"]/g) ?? []).length < 2) {
      const next = await reader.read();
      if (next.done) throw new Error('the stream ended early');
      text += new TextDecoder().decode(next.value);
    }
    controller.abort();
    const index = fake.streams.findIndex((s) => s.endedBy === null || s.closedAt === null);
    await fake.waitForStreamClosed(index === -1 ? fake.streams.length - 1 : index, 2000);
    const stats = await getGeneration(id);
    const { data } = (await stats.json()) as {
      data: { cancelled: boolean; native_tokens_completion: number; finish_reason: null };
    };
    expect(data.cancelled).toBe(true);
    expect(data.finish_reason).toBeNull();
    expect(data.native_tokens_completion).toBeGreaterThan(0);
    expect(data.native_tokens_completion).toBeLessThan(40);
  });
});
