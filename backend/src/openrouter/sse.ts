/**
 * An incremental Server-Sent Events parser following the WHATWG "event stream interpretation"
 * rules: UTF-8 decoding across chunk boundaries (a leading BOM is dropped), lines ending in
 * CRLF, LF or CR (a CRLF split between two chunks counts once), `:` comment lines, `data:`
 * lines joined with "\n", `event:` / `id:` / `retry:` fields, and an event dispatched on each
 * blank line. An incomplete event at the end of the stream is discarded, as the spec says.
 */

export type SseEvent =
  /** A dispatched event; `event` is "message" unless an `event:` field said otherwise. */
  | { type: 'message'; event: string; data: string; lastEventId: string }
  /** A comment line (e.g. OpenRouter's `: OPENROUTER PROCESSING` keep-alive), without the colon. */
  | { type: 'comment'; text: string }
  /** A valid `retry:` field: the reconnection time the server asks for, in ms. */
  | { type: 'retry'; ms: number };

export interface SseParser {
  /** Feeds the next bytes; may call onEvent any number of times, synchronously. */
  push(chunk: Uint8Array): void;
  /** Ends the stream: flushes the decoder and drops any incomplete line or event. */
  end(): void;
}

const LF = 10;
const CR = 13;

export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  /** The previous text ended with CR: a LF starting the next text belongs to that line end. */
  let skipLeadingLf = false;
  let data = '';
  let eventType = '';
  let lastEventId = '';
  let ended = false;

  function feed(text: string): void {
    if (text === '') return;
    if (skipLeadingLf) {
      skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) text = text.slice(1);
    }
    // The leftover buffer holds no line terminator, so only the new text is scanned; the
    // buffer itself is never indexed, which would flatten it on every push and make a long
    // line arriving in small pieces cost quadratic time.
    let lineStart = 0;
    for (let scan = 0; scan < text.length; scan++) {
      const code = text.charCodeAt(scan);
      if (code !== LF && code !== CR) continue;
      const line = buffer + text.slice(lineStart, scan);
      buffer = '';
      if (code === CR) {
        if (scan + 1 === text.length) skipLeadingLf = true;
        else if (text.charCodeAt(scan + 1) === LF) scan++;
      }
      lineStart = scan + 1;
      processLine(line);
    }
    buffer += text.slice(lineStart);
  }

  function processLine(line: string): void {
    if (line === '') {
      dispatch();
      return;
    }
    if (line.startsWith(':')) {
      onEvent({ type: 'comment', text: line.slice(line.startsWith(': ') ? 2 : 1) });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        data += `${value}\n`;
        break;
      case 'id':
        if (!value.includes('\0')) lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) onEvent({ type: 'retry', ms: Number(value) });
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  function dispatch(): void {
    if (data === '') {
      eventType = '';
      return;
    }
    const event = eventType === '' ? 'message' : eventType;
    const payload = data.slice(0, -1); // drop the trailing "\n"
    data = '';
    eventType = '';
    onEvent({ type: 'message', event, data: payload, lastEventId });
  }

  return {
    push(chunk) {
      if (ended) throw new Error('SSE parser: push() after end()');
      feed(decoder.decode(chunk, { stream: true }));
    },
    end() {
      if (ended) return;
      feed(decoder.decode());
      ended = true;
      buffer = '';
      data = '';
      eventType = '';
    },
  };
}
