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
const COLON = 58;
const SPACE = 32;
const STREAM = { stream: true };

export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  /** The previous text ended with CR: a LF starting the next text belongs to that line end. */
  let skipLeadingLf = false;
  /** The event's `data:` values joined with "\n" (the spec's buffer without its final LF). */
  let data = '';
  let dataLines = 0;
  let eventType = '';
  let lastEventId = '';
  let ended = false;

  function feed(text: string): void {
    if (text === '') return;
    let lineStart = 0;
    if (skipLeadingLf) {
      skipLeadingLf = false;
      if (text.charCodeAt(0) === LF) lineStart = 1;
    }
    // The leftover buffer holds no line terminator, so only the new text is scanned; the
    // buffer itself is never indexed, which would flatten it on every push and make a long
    // line arriving in small pieces cost quadratic time. The scan is indexOf's (native), for
    // LF and CR apart: CR is rare, so it is usually looked for once per text.
    let lf = text.indexOf('\n', lineStart);
    let cr = text.indexOf('\r', lineStart);
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        end = lf;
        next = lf + 1;
      } else {
        end = cr;
        next = cr + 1;
        if (next === text.length) skipLeadingLf = true;
        else if (text.charCodeAt(next) === LF) next++;
      }
      const line = buffer === '' ? text.slice(lineStart, end) : buffer + text.slice(lineStart, end);
      buffer = '';
      lineStart = next;
      processLine(line);
      if (lf !== -1 && lf < next) lf = text.indexOf('\n', next);
      if (cr !== -1 && cr < next) cr = text.indexOf('\r', next);
    }
    if (lineStart < text.length) buffer += text.slice(lineStart);
  }

  function processLine(line: string): void {
    if (line === '') {
      dispatch();
      return;
    }
    // The common line first: `data: …`.
    if (line.startsWith('data:')) {
      appendData(line.charCodeAt(5) === SPACE ? line.slice(6) : line.slice(5));
      return;
    }
    if (line.charCodeAt(0) === COLON) {
      onEvent({ type: 'comment', text: line.slice(line.charCodeAt(1) === SPACE ? 2 : 1) });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    switch (field) {
      case 'event':
        eventType = value;
        break;
      case 'data':
        appendData(value);
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

  function appendData(value: string): void {
    data = dataLines === 0 ? value : `${data}\n${value}`;
    dataLines++;
  }

  function dispatch(): void {
    if (dataLines === 0) {
      eventType = '';
      return;
    }
    const event = eventType === '' ? 'message' : eventType;
    const payload = data;
    data = '';
    dataLines = 0;
    eventType = '';
    onEvent({ type: 'message', event, data: payload, lastEventId });
  }

  return {
    push(chunk) {
      if (ended) throw new Error('SSE parser: push() after end()');
      feed(decoder.decode(chunk, STREAM));
    },
    end() {
      if (ended) return;
      feed(decoder.decode());
      ended = true;
      buffer = '';
      data = '';
      dataLines = 0;
      eventType = '';
    },
  };
}
