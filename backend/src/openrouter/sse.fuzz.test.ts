import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import { createOpenRouterClient } from './client.js';
import { scriptedDispatcher } from '../test-support/scripted-dispatcher.js';
import { createSseParser, type SseEvent } from './sse.js';

// Property-based tests of the upstream stream reader. Fixed seeds keep every run the same
// (a failure prints its counterexample and the path to replay it); the run counts keep the
// file to a few seconds on a busy 2-core machine.
const SEED = 20_240_611;

const encoder = new TextEncoder();

function parseChunks(chunks: Uint8Array[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

/** `bytes` cut at the given offsets (any order, duplicates and out-of-range ones allowed). */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

/** One line of a stream, as the generator builds it (never containing CR or LF). */
type Line =
  | { kind: 'field'; name: string; value: string; form: 'space' | 'tight' | 'bare' }
  | { kind: 'comment'; text: string };

/** Text without line terminators: any Unicode (graphemes, so no lone surrogates), NUL included. */
const lineText = fc
  .string({ unit: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 1 }), fc.constant('\0')) })
  .map((s) => s.replace(/[\r\n]/g, ''));

const fieldLine: fc.Arbitrary<Line> = fc.record({
  kind: fc.constant('field' as const),
  name: fc.constantFrom('data', 'data', 'data', 'event', 'id', 'retry', 'x-unknown', 'Data'),
  value: fc.oneof(lineText, fc.stringMatching(/^[0-9]{1,6}$/), fc.constant('')),
  // `data: v`, `data:v` and a bare `data` (no colon: the value is empty).
  form: fc.constantFrom('space' as const, 'tight' as const, 'bare' as const),
});
const commentLine: fc.Arbitrary<Line> = fc.record({
  kind: fc.constant('comment' as const),
  text: lineText,
});

/** A stream: events (each ended by a blank line), maybe an unfinished one, in any line endings. */
const streamArb = fc.record({
  bom: fc.boolean(),
  events: fc.array(fc.array(fc.oneof(fieldLine, fieldLine, commentLine), { maxLength: 6 }), {
    maxLength: 8,
  }),
  unfinished: fc.array(fieldLine, { maxLength: 3 }),
  endings: fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 10 }),
  lastLineTerminated: fc.boolean(),
});
type Stream = typeof streamArb extends fc.Arbitrary<infer T> ? T : never;

function lineToText(line: Line): string {
  if (line.kind === 'comment') return `:${line.text}`;
  if (line.form === 'bare') return line.name;
  return line.form === 'space' ? `${line.name}: ${line.value}` : `${line.name}:${line.value}`;
}

function serialize(stream: Stream): Uint8Array {
  const lines = [...stream.events.flatMap((event) => [...event.map(lineToText), ''])];
  const unfinished = stream.unfinished.map(lineToText);
  let text = '';
  let i = 0;
  let previous = '';
  const eol = (line: string) => {
    let ending = stream.endings[i++ % stream.endings.length] ?? '\n';
    // CR, then an empty line ended by LF, is one CRLF: keep the blank line a blank line.
    if (line === '' && previous === '\r' && ending === '\n') ending = '\r';
    previous = ending;
    return ending;
  };
  for (const line of lines) text += line + eol(line);
  unfinished.forEach((line, index) => {
    const last = index === unfinished.length - 1;
    text += line + (last && !stream.lastLineTerminated ? '' : eol(line));
  });
  const bytes = encoder.encode(text);
  return stream.bom ? new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]) : bytes;
}

/**
 * What the WHATWG rules say these lines mean, computed from the generator's structure
 * rather than from bytes: the parser's line splitting and decoding are what is under test.
 */
function expectedEvents(stream: Stream): SseEvent[] {
  const out: SseEvent[] = [];
  let data: string[] = [];
  let type = '';
  let lastId = '';
  const apply = (line: Line) => {
    if (line.kind === 'comment') {
      out.push({
        type: 'comment',
        text: line.text.startsWith(' ') ? line.text.slice(1) : line.text,
      });
      return;
    }
    const value =
      line.form === 'bare' ? '' : line.form === 'space' ? line.value : line.value.replace(/^ /, '');
    if (line.name === 'data') data.push(value);
    else if (line.name === 'event') type = value;
    else if (line.name === 'id' && !value.includes('\0')) lastId = value;
    else if (line.name === 'retry' && /^[0-9]+$/.test(value))
      out.push({ type: 'retry', ms: Number(value) });
  };
  for (const event of stream.events) {
    event.forEach(apply);
    if (data.length > 0) {
      out.push({
        type: 'message',
        event: type === '' ? 'message' : type,
        data: data.join('\n'),
        lastEventId: lastId,
      });
    }
    data = [];
    type = '';
  }
  // Lines of the unfinished event still take effect (comments, retry); its message is dropped.
  const complete = stream.lastLineTerminated ? stream.unfinished : stream.unfinished.slice(0, -1);
  complete.forEach(apply);
  return out;
}

const offsets = fc.array(fc.nat(), { maxLength: 12 });

describe('createSseParser under fuzzing', () => {
  it('reads any valid stream as the spec says, however its bytes are split', () => {
    fc.assert(
      fc.property(streamArb, offsets, (stream, cuts) => {
        const bytes = serialize(stream);
        const expected = expectedEvents(stream);
        expect(parseChunks([bytes])).toEqual(expected);
        expect(parseChunks(cut(bytes, cuts))).toEqual(expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('gives the same events byte by byte as in one piece', () => {
    fc.assert(
      fc.property(streamArb, (stream) => {
        const bytes = serialize(stream);
        const single = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
        expect(parseChunks(single)).toEqual(parseChunks([bytes]));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  /** Bytes biased towards what matters to the parser: line ends, colons, field names, UTF-8 lead and continuation bytes. */
  const nastyBytes = fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }),
        fc.constantFrom(...[10, 13, 58, 32, 0xef, 0xbb, 0xbf, 0xf0, 0x9f, 0x80, 0xc3, 0xff]),
        fc.constantFrom(...[...'data:event:id:retry:'].map((c) => c.charCodeAt(0))),
      ),
      { maxLength: 600 },
    )
    .map((values) => Uint8Array.from(values));

  it('never throws on random bytes, and their events do not depend on how they are split', () => {
    fc.assert(
      fc.property(nastyBytes, offsets, (bytes, cuts) => {
        const whole = parseChunks([bytes]);
        expect(parseChunks(cut(bytes, cuts))).toEqual(whole);
        for (const event of whole) {
          if (event.type === 'message') expect(typeof event.data).toBe('string');
          if (event.type === 'retry') expect(Number.isInteger(event.ms)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('reads a long line arriving in small pieces in linear time', () => {
    // 8 MB without a line break, in 1 KB pieces: ~0.1 s when each push scans only the new
    // text; it took ~27 s when every push re-indexed (and so re-flattened) the whole buffer.
    const piece = encoder.encode('x'.repeat(1024));
    const events: SseEvent[] = [];
    const parser = createSseParser((event) => events.push(event));
    const started = performance.now();
    parser.push(encoder.encode('data: '));
    for (let i = 0; i < 8192; i++) parser.push(piece);
    parser.push(encoder.encode('\n\n'));
    parser.end();
    expect(performance.now() - started).toBeLessThan(4000);
    expect(events).toHaveLength(1);
    expect(events[0]?.type === 'message' && events[0].data.length).toBe(8 * 1024 * 1024);
  });
});

/** A client whose upstream answers 200 text/event-stream with exactly these chunks. */
function clientStreaming(chunks: Uint8Array[]) {
  return createOpenRouterClient({
    baseUrl: 'http://upstream.invalid/api/v1',
    apiKey: 'sk-or-fuzz',
    dispatcher: scriptedDispatcher([{ status: 200, body: chunks }]).dispatcher,
  });
}

/** Reads the whole stream: its events and how it ended. Fails the run if it hangs. */
async function drain(chunks: Uint8Array[]) {
  const client = clientStreaming(chunks);
  const events: unknown[] = [];
  const reading = (async () => {
    try {
      for await (const event of client.streamChat(
        { model: 'fuzz/model', messages: [{ role: 'user', content: 'hi' }] },
        { signal: new AbortController().signal },
      )) {
        events.push(event);
      }
      return { events, error: null as unknown };
    } catch (error) {
      return { events, error };
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the stream reader hung')), 5000);
  });
  try {
    return await Promise.race([reading, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** A `chat.completion.chunk`-like object whose fields may hold anything at all. */
const chunkLike = fc.record(
  {
    id: fc.oneof(fc.string(), fc.anything()),
    model: fc.oneof(fc.string(), fc.anything()),
    provider: fc.oneof(fc.string(), fc.anything()),
    choices: fc.oneof(
      fc.array(
        fc.record(
          {
            delta: fc.oneof(
              fc.record(
                {
                  content: fc.oneof(fc.string(), fc.anything()),
                  reasoning: fc.oneof(fc.string(), fc.anything()),
                  reasoning_details: fc.anything(),
                },
                { requiredKeys: [] },
              ),
              fc.anything(),
            ),
            finish_reason: fc.oneof(
              fc.constantFrom('stop', 'length', 'error', null),
              fc.anything(),
            ),
            native_finish_reason: fc.anything(),
            error: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 2 },
      ),
      fc.anything(),
    ),
    usage: fc.oneof(
      fc.record(
        {
          prompt_tokens: fc.anything(),
          completion_tokens: fc.oneof(fc.double(), fc.anything()),
          cost: fc.oneof(fc.double(), fc.anything()),
          prompt_tokens_details: fc.anything(),
          completion_tokens_details: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    ),
    error: fc.oneof(fc.constant(undefined), fc.anything()),
  },
  { requiredKeys: [] },
);

describe('the upstream stream reader under fuzzing', () => {
  it('ends every random byte stream with events or a typed AppError, never a crash or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 800 }), offsets, async (bytes, cuts) => {
        const { error } = await drain(cut(bytes, cuts));
        if (error !== null) expect(isAppError(error), String(error)).toBe(true);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('turns any chunk contents into well-formed events or a typed AppError', async () => {
    const streamOfChunks = fc.record({
      chunks: fc.array(fc.oneof(chunkLike, fc.jsonValue()), { maxLength: 6 }),
      done: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(streamOfChunks, offsets, async ({ chunks, done }, cuts) => {
        // JSON.stringify drops undefined fields and fails on bigint: anything() yields both.
        const lines = chunks.flatMap((chunk) => {
          try {
            const json = JSON.stringify(chunk);
            return json === undefined ? [] : [`data: ${json}\n\n`];
          } catch {
            return [];
          }
        });
        const text = lines.join('') + (done ? 'data: [DONE]\n\n' : '');
        const { events, error } = await drain(cut(encoder.encode(text), cuts));
        if (error !== null) expect(isAppError(error), String(error)).toBe(true);
        for (const event of events as Array<Record<string, unknown>>) {
          switch (event.type) {
            case 'delta':
            case 'reasoning':
              expect(typeof event.content).toBe('string');
              expect(event.content).not.toBe('');
              break;
            case 'usage': {
              const usage = event.usage as Record<string, unknown>;
              for (const key of ['promptTokens', 'completionTokens', 'reasoningTokens']) {
                expect(Number.isInteger(usage[key]), key).toBe(true);
              }
              expect(usage.cost === null || Number.isFinite(usage.cost)).toBe(true);
              break;
            }
            case 'meta':
              expect(typeof event.upstreamId).toBe('string');
              expect(typeof event.model).toBe('string');
              break;
            case 'finish':
              expect(typeof event.finishReason).toBe('string');
              break;
            default:
              expect.fail(`unknown event ${JSON.stringify(event)}`);
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
