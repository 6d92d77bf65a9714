import { describe, expect, it } from 'vitest';

import { createSseParser, type SseEvent } from './sse.js';

const encoder = new TextEncoder();

/** Parses `chunks` in order and returns every event. */
function parse(chunks: Uint8Array[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

function parseText(text: string): SseEvent[] {
  return parse([encoder.encode(text)]);
}

/** Every way to cut `bytes` in two, and byte by byte: all must give `expected`. */
function expectSplitInvariant(bytes: Uint8Array, expected: SseEvent[]): void {
  for (let cut = 0; cut <= bytes.length; cut++) {
    const events = parse([bytes.subarray(0, cut), bytes.subarray(cut)]);
    if (JSON.stringify(events) !== JSON.stringify(expected)) {
      expect.fail(`split at byte ${cut} gave different events`);
    }
  }
  const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  expect(parse(single)).toEqual(expected);
}

/** Deterministic pseudo-random chunking (for multi-cut coverage). */
function randomChunks(bytes: Uint8Array, seed: number): Uint8Array[] {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state;
  };
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length;) {
    const size = 1 + (next() % 17);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

const base = {
  id: 'gen-1737577047-0sTvAw0TfZJmnWhR6D0K',
  provider: 'Anthropic',
  model: 'anthropic/claude-3.7-sonnet',
  object: 'chat.completion.chunk',
  created: 1737577047,
};

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  const choice = { index: 0, delta, finish_reason: finish, native_finish_reason: finish };
  return JSON.stringify({ ...base, choices: [choice] });
}

/** A recorded-style OpenRouter stream: keep-alives, role, reasoning, content, finish, usage. */
const recorded = [
  ': OPENROUTER PROCESSING',
  '',
  ': OPENROUTER PROCESSING',
  '',
  `data: ${chunk({ role: 'assistant', content: '' })}`,
  '',
  `data: ${chunk({
    role: 'assistant',
    content: '',
    reasoning: 'Thinking about “naïve” 🤔…',
    reasoning_details: [
      { type: 'reasoning.text', text: 'Thinking about “naïve” 🤔…', format: 'unknown', index: 0 },
    ],
  })}`,
  '',
  `data: ${chunk({ role: 'assistant', content: 'Grüße, ' })}`,
  '',
  ': OPENROUTER PROCESSING',
  '',
  `data: ${chunk({ role: 'assistant', content: '世界 🌍!' })}`,
  '',
  `data: ${chunk({ role: 'assistant', content: '' }, 'stop')}`,
  '',
  `data: ${JSON.stringify({
    ...base,
    choices: [],
    usage: {
      prompt_tokens: 194,
      completion_tokens: 12,
      total_tokens: 206,
      cost: 0.000762,
      is_byok: false,
      prompt_tokens_details: { cached_tokens: 128, audio_tokens: 0 },
      cost_details: { upstream_inference_cost: null },
      completion_tokens_details: { reasoning_tokens: 5 },
    },
  })}`,
  '',
  'data: [DONE]',
  '',
  '',
].join('\n');

const midStreamError = [
  ': OPENROUTER PROCESSING',
  '',
  `data: ${chunk({ role: 'assistant', content: 'Partial ' })}`,
  '',
  `data: ${JSON.stringify({
    ...base,
    error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
    choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
  })}`,
  '',
  '',
].join('\n');

function messages(events: SseEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data] : []));
}

describe('createSseParser', () => {
  it('parses a recorded OpenRouter stream', () => {
    const events = parseText(recorded);
    expect(events.filter((e) => e.type === 'comment')).toEqual([
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
      { type: 'comment', text: 'OPENROUTER PROCESSING' },
    ]);
    const data = messages(events);
    expect(data).toHaveLength(7);
    expect(data.at(-1)).toBe('[DONE]');
    const parsed = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
    expect(parsed[1]).toMatchObject({
      choices: [{ delta: { reasoning: 'Thinking about “naïve” 🤔…' } }],
    });
    expect(parsed[3]).toMatchObject({ choices: [{ delta: { content: '世界 🌍!' } }] });
    expect(parsed[5]).toMatchObject({ choices: [], usage: { cost: 0.000762 } });
    for (const event of events) {
      if (event.type === 'message')
        expect(event).toMatchObject({ event: 'message', lastEventId: '' });
    }
  });

  it('gives identical events for every split point and byte by byte (LF)', () => {
    const bytes = encoder.encode(recorded);
    expectSplitInvariant(bytes, parse([bytes]));
  });

  it('gives identical events with CRLF and CR line endings, at every split point', () => {
    const lf = parseText(recorded);
    for (const eol of ['\r\n', '\r']) {
      const bytes = encoder.encode(recorded.replaceAll('\n', eol));
      const events = parse([bytes]);
      expect(events).toEqual(lf);
      expectSplitInvariant(bytes, lf);
    }
  });

  it('gives identical events for random multi-cut chunkings', () => {
    const bytes = encoder.encode(recorded.replaceAll('\n', '\r\n'));
    const expected = parse([bytes]);
    for (let seed = 1; seed <= 200; seed++) {
      expect(parse(randomChunks(bytes, seed))).toEqual(expected);
    }
  });

  it('parses a mid-stream error chunk at every split point', () => {
    const bytes = encoder.encode(midStreamError);
    const events = parse([bytes]);
    const data = messages(events);
    expect(data).toHaveLength(2);
    expect(JSON.parse(data[1] ?? '')).toMatchObject({
      error: { code: 'server_error', message: 'Provider disconnected unexpectedly' },
      choices: [{ finish_reason: 'error' }],
    });
    expectSplitInvariant(bytes, events);
  });

  it('joins multi-line data with \\n and handles mixed line endings', () => {
    const text = 'data: first\r\ndata: second\rdata:third\n\ndata\n\n';
    const events = parseText(text);
    expect(messages(events)).toEqual(['first\nsecond\nthird', '']);
    expectSplitInvariant(encoder.encode(text), events);
  });

  it('strips exactly one space after the colon', () => {
    expect(messages(parseText('data:  two\n\ndata:none\n\n'))).toEqual([' two', 'none']);
  });

  it('supports event, id and retry fields', () => {
    const text = [
      'event: ping',
      'id: 42',
      'retry: 1500',
      'retry: soon',
      'data: {}',
      '',
      'data: after',
      '',
      'id: bad\0id',
      'id',
      'data: x',
      '',
      '',
    ].join('\n');
    expect(parseText(text)).toEqual([
      { type: 'retry', ms: 1500 },
      { type: 'message', event: 'ping', data: '{}', lastEventId: '42' },
      { type: 'message', event: 'message', data: 'after', lastEventId: '42' },
      { type: 'message', event: 'message', data: 'x', lastEventId: '' },
    ]);
  });

  it('ignores unknown fields and does not dispatch empty events', () => {
    const text = 'foo: bar\n\nevent: lonely\n\ndata: kept\n\n';
    expect(parseText(text)).toEqual([
      { type: 'message', event: 'message', data: 'kept', lastEventId: '' },
    ]);
  });

  it('discards an incomplete event at the end of the stream', () => {
    expect(messages(parseText('data: complete\n\ndata: cut off\n'))).toEqual(['complete']);
    expect(messages(parseText('data: no newline at all'))).toEqual([]);
  });

  it('drops a leading byte-order mark', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('data: bom\n\n')]);
    expect(messages(parse([bytes]))).toEqual(['bom']);
    expect(
      messages(parse([bytes.subarray(0, 1), bytes.subarray(1, 2), bytes.subarray(2)])),
    ).toEqual(['bom']);
  });

  it('refuses data after end()', () => {
    const parser = createSseParser(() => undefined);
    parser.end();
    expect(() => parser.push(encoder.encode('data: x\n\n'))).toThrow(/after end/);
  });
});
