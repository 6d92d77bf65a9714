import { describe, expect, it } from 'vitest';
import { readSse, SseParser, type SseEvent } from './sse';

function parseChunks(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

/** Every way of cutting `text` into two pieces, plus one-character pieces. */
function splits(text: string): string[][] {
  const out: string[][] = [[text], Array.from(text)];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

const STREAM =
  'event: user_message\ndata: {"id":"u1","content":"hi"}\n\n' +
  ': keep-alive\n\n' +
  'event: delta\ndata: {"content":"Hel"}\n\n' +
  'event: delta\r\ndata: {"content":"lo\\nworld"}\r\n\r\n' +
  'event: usage\rdata: {"promptTokens":3}\r\r' +
  'data: line one\ndata: line two\n\n' +
  'event: done\ndata: {"status":"complete"}\n\n';

const EXPECTED: Array<Pick<SseEvent, 'event' | 'data'>> = [
  { event: 'user_message', data: '{"id":"u1","content":"hi"}' },
  { event: 'delta', data: '{"content":"Hel"}' },
  { event: 'delta', data: '{"content":"lo\\nworld"}' },
  { event: 'usage', data: '{"promptTokens":3}' },
  { event: 'message', data: 'line one\nline two' },
  { event: 'done', data: '{"status":"complete"}' },
];

describe('SseParser', () => {
  it('parses a whole stream', () => {
    expect(parseChunks([STREAM]).map(({ event, data }) => ({ event, data }))).toEqual(EXPECTED);
  });

  it('gives the same events however the stream is split', () => {
    for (const chunks of splits(STREAM)) {
      const events = parseChunks(chunks).map(({ event, data }) => ({ event, data }));
      expect(events, JSON.stringify(chunks.slice(0, 2))).toEqual(EXPECTED);
    }
  });

  it('gives the same events when split into random pieces', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const chunks: string[] = [];
      let i = 0;
      while (i < STREAM.length) {
        const n = 1 + Math.floor(random() * 12);
        chunks.push(STREAM.slice(i, i + n));
        i += n;
      }
      expect(parseChunks(chunks).map(({ event, data }) => ({ event, data }))).toEqual(EXPECTED);
    }
  });

  it('treats a CRLF split across chunks as one line break', () => {
    const events = parseChunks(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('follows the spec on fields: no space, bare field, id, unknown, BOM', () => {
    const events = parseChunks([
      '\uFEFFdata:x\nid: 7\nretry: 100\nfoo: bar\ndata\n\nevent: ping\n\n',
    ]);
    // "data" alone adds an empty line; an event without data is not dispatched.
    expect(events).toEqual([{ event: 'message', data: 'x\n', id: '7' }]);
  });

  it('drops an event the stream cut off before its blank line', () => {
    expect(parseChunks(['event: delta\ndata: {"content":"a"}\n\nevent: delta\ndata: {"c'])).toEqual(
      [{ event: 'delta', data: '{"content":"a"}', id: undefined }],
    );
  });
});

describe('readSse', () => {
  it('decodes UTF-8 characters split across byte chunks', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"content":"héllo 👋"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // One byte at a time: every multi-byte character is split.
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    const events: SseEvent[] = [];
    for await (const event of readSse(body)) events.push(event);
    expect(events).toEqual([{ event: 'delta', data: '{"content":"héllo 👋"}', id: undefined }]);
  });
});
