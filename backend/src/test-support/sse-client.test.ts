import { describe, expect, it } from 'vitest';
import { createSseLineParser, readEvents, type SseMessage } from './sse-client.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** Parses the stream fed in the given pieces (bytes, or text encoded as UTF-8). */
function parse(...pieces: Array<string | Uint8Array>): SseMessage[] {
  const parser = createSseLineParser();
  return pieces.flatMap((piece) => parser.push(typeof piece === 'string' ? encode(piece) : piece));
}

describe('the test SSE line parser', () => {
  it('ends lines at LF, CRLF and CR alike', () => {
    const expected = [
      { event: 'delta', data: '{"content":"a"}' },
      { event: 'done', data: '{}' },
    ];
    for (const eol of ['\n', '\r\n', '\r']) {
      const stream = `event: delta${eol}data: {"content":"a"}${eol}${eol}event: done${eol}data: {}${eol}${eol}`;
      expect(parse(stream), JSON.stringify(eol)).toEqual(expected);
    }
  });

  it('counts a CRLF split between two chunks as one line end', () => {
    expect(parse('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([
      { event: 'message', data: 'a\nb' },
    ]);
  });

  it('keeps U+2028 and U+2029 inside the data', () => {
    const data = JSON.stringify({ content: 'one\u2028two\u2029three' });
    const events = parse(`event: delta\ndata: ${data}\n\n`);
    expect(events).toEqual([{ event: 'delta', data }]);
    expect(JSON.parse(events[0]!.data).content).toBe('one\u2028two\u2029three');
  });

  it('joins multi-line data with \\n and drops only one space after the colon', () => {
    expect(parse('data: first\ndata:second\ndata:  third\ndata\n\n')).toEqual([
      { event: 'message', data: 'first\nsecond\n third\n' },
    ]);
  });

  it('ignores comments, unknown fields, events without data and an unfinished event', () => {
    expect(
      parse(
        ': keep-alive\n\n',
        'event: lonely\n\n',
        ':comment\nid: 7\nretry: 10\nfoo: bar\nevent: delta\n: between\ndata: x\n\n',
        'data: y\n\n',
        'event: cut\ndata: never dispatched\n',
      ),
    ).toEqual([
      { event: 'delta', data: 'x' },
      // The event name does not carry over to the next event.
      { event: 'message', data: 'y' },
    ]);
  });

  it('drops a leading BOM', () => {
    expect(parse('\uFEFFdata: a\n\n')).toEqual([{ event: 'message', data: 'a' }]);
  });

  it('gives the same events however the bytes are split, even inside a UTF-8 character', () => {
    const data = JSON.stringify({ content: 'é 日本 🙂 \u2028 end' });
    const bytes = encode(`: hi\r\nevent: delta\r\ndata: ${data}\r\n\r\nevent: done\rdata: 🙂\r\r`);
    const expected = [
      { event: 'delta', data },
      { event: 'done', data: '🙂' },
    ];
    expect(parse(bytes)).toEqual(expected);
    for (let at = 0; at <= bytes.length; at++) {
      expect(parse(bytes.subarray(0, at), bytes.subarray(at)), `split at ${at}`).toEqual(expected);
    }
    expect(parse(...Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(expected);
  });
});

describe('readEvents', () => {
  it('yields events with their data parsed as JSON, as chunks arrive', async () => {
    async function* body() {
      yield encode('event: delta\ndata: {"content":"\u2028');
      yield encode('"}\n');
      yield encode('\n');
    }
    const events = [];
    for await (const event of readEvents(body())) events.push(event);
    expect(events).toEqual([{ event: 'delta', data: { content: '\u2028' } }]);
  });
});
