import { request, type IncomingMessage } from 'node:http';

/**
 * The tests' one SSE client: a line parser following the WHATWG "event stream interpretation"
 * rules, and the three ways the tests reach the backend's streams with it:
 *
 * - `postMessage` (+ `collect`): posts a message over fetch and yields its events; throws when
 *   the answer is not a stream;
 * - `sendMessage` (+ `streamedText`): posts a message over fetch and reads the stream to its
 *   end, with callbacks; network failures are in its result, never thrown (the chaos load);
 * - `openSseRequest`: GET or POST over a socket of its own, with `close()` to drop it, and the
 *   status / JSON body when the answer is not a stream.
 */

/** An event as the tests see it: its name and its `data` parsed as JSON. */
export interface ReceivedEvent {
  event: string;
  // Test code reads fields freely; the schema tests check shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

/** A dispatched event, as the parser gives it: `event` is "message" unless a field named it. */
export interface SseMessage {
  event: string;
  data: string;
}

export interface SseLineParser {
  /** Feeds the next bytes; returns the events they complete, in order. */
  push(chunk: Uint8Array): SseMessage[];
}

const LF = 10;
const CR = 13;

/**
 * Decodes UTF-8 across chunk boundaries (a leading BOM is dropped) and splits lines at CRLF, LF
 * or CR only (never at U+2028 / U+2029; a CRLF split between two chunks counts once). Handles
 * `event:` and `data:` fields (one space after the colon is dropped; `data:` lines are joined
 * with "\n"), ignores comments (`:` lines) and other fields, and dispatches on a blank line an
 * event that has data. What follows the last blank line is an incomplete event: never dispatched.
 */
export function createSseLineParser(): SseLineParser {
  const decoder = new TextDecoder('utf-8');
  /** The current line's text so far: it holds no line terminator. */
  let line = '';
  /** The previous text ended with CR: a LF starting the next text ends nothing more. */
  let skipLeadingLf = false;
  let eventType = '';
  let data: string[] = [];

  function processLine(text: string, out: SseMessage[]): void {
    if (text === '') {
      if (data.length > 0) out.push({ event: eventType || 'message', data: data.join('\n') });
      eventType = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventType = value;
    else if (field === 'data') data.push(value);
  }

  return {
    push(chunk) {
      let text = decoder.decode(chunk, { stream: true });
      const out: SseMessage[] = [];
      if (text === '') return out;
      if (skipLeadingLf) {
        skipLeadingLf = false;
        if (text.charCodeAt(0) === LF) text = text.slice(1);
      }
      let start = 0;
      for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if (code !== LF && code !== CR) continue;
        const complete = line + text.slice(start, i);
        line = '';
        if (code === CR) {
          if (i + 1 === text.length) skipLeadingLf = true;
          else if (text.charCodeAt(i + 1) === LF) i++;
        }
        start = i + 1;
        processLine(complete, out);
      }
      line += text.slice(start);
      return out;
    },
  };
}

/** The events of an SSE body, their data parsed as JSON, as the chunks arrive. */
export async function* readEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ReceivedEvent> {
  const parser = createSseLineParser();
  for await (const chunk of body) {
    for (const message of parser.push(chunk)) {
      yield { event: message.event, data: JSON.parse(message.data) };
    }
  }
}

export async function collect(events: AsyncIterable<ReceivedEvent>): Promise<ReceivedEvent[]> {
  const all: ReceivedEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}

/** The answer's text as the client saw it: every delta, in order. */
export function streamedText(events: ReceivedEvent[]): string {
  return events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');
}

export function fetchPostMessage(
  baseUrl: string,
  cookie: string,
  conversationId: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${baseUrl}/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/**
 * Posts a message (POST /api/conversations/:id/messages, over fetch) and yields the backend's
 * SSE events as they arrive. Throws when the answer is not a stream.
 */
export async function* postMessage(
  baseUrl: string,
  cookie: string,
  conversationId: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): AsyncGenerator<ReceivedEvent> {
  const response = await fetchPostMessage(baseUrl, cookie, conversationId, body, signal);
  if (!response.ok || !response.body) {
    throw new Error(`expected a stream, got ${response.status}: ${await response.text()}`);
  }
  yield* readEvents(response.body);
}

/** What a client got from POST /api/conversations/:id/messages. */
export interface MessageStream {
  /** The HTTP status, or 0 when no response arrived (refused or cut before the headers). */
  status: number;
  events: ReceivedEvent[];
  /** The JSON body of a non-200 answer. */
  body: unknown;
  /** True when the connection broke before the server ended the stream. */
  broken: boolean;
}

export interface StreamHandlers {
  /** The status, as soon as the headers arrive (a 200 means the message was saved). */
  onStatus?(status: number): void;
  onEvent?(event: ReceivedEvent): void;
}

/**
 * Posts a message and reads the stream to its end (or until the connection breaks), calling
 * the handlers as the answer arrives. Never throws for network failures: they are in the result.
 */
export async function sendMessage(
  baseUrl: string,
  cookie: string,
  conversationId: string,
  body: Record<string, unknown>,
  handlers: StreamHandlers | ((event: ReceivedEvent) => void) = {},
): Promise<MessageStream> {
  const { onStatus, onEvent } = typeof handlers === 'function' ? { onEvent: handlers } : handlers;
  const result: MessageStream = { status: 0, events: [], body: null, broken: false };
  let response: Response;
  try {
    response = await fetchPostMessage(baseUrl, cookie, conversationId, body);
  } catch {
    result.broken = true;
    return result;
  }
  result.status = response.status;
  onStatus?.(response.status);
  if (response.status !== 200 || !response.body) {
    try {
      result.body = await response.json();
    } catch {
      result.broken = true;
    }
    return result;
  }
  try {
    for await (const event of readEvents(response.body)) {
      result.events.push(event);
      onEvent?.(event);
    }
  } catch {
    result.broken = true;
  }
  return result;
}

/**
 * SSE over a real socket of its own (node:http, no keep-alive): the connection closes when the
 * response ends or when `close()` is called, as a browser tab's would, so tests can count the
 * sockets left open.
 */
export interface SseConnection {
  status: number;
  /** The JSON body, when the answer was not a stream. */
  json: unknown;
  events: AsyncGenerator<ReceivedEvent>;
  /** Drops the connection (destroys the socket), as a lost network or closed tab does. */
  close(): void;
}

export async function openSseRequest(
  url: string,
  options: { method: 'GET' | 'POST'; cookie: string; body?: unknown },
): Promise<SseConnection> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method,
        agent: false,
        headers: {
          cookie: options.cookie,
          accept: 'text/event-stream',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(payload);
  });
  const status = response.statusCode ?? 0;
  const isStream = (response.headers['content-type'] ?? '').startsWith('text/event-stream');
  let json: unknown = null;
  if (!isStream) {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    json = text === '' ? null : JSON.parse(text);
  }
  let dropped = false;
  return {
    status,
    json,
    events: isStream ? eventsOf(response, () => dropped) : empty(),
    close: () => {
      dropped = true;
      response.destroy();
    },
  };
}

async function* eventsOf(
  response: IncomingMessage,
  dropped: () => boolean,
): AsyncGenerator<ReceivedEvent> {
  try {
    yield* readEvents(response);
  } catch (error) {
    // A connection the test dropped itself just ends the events.
    if (!dropped()) throw error;
  } finally {
    response.destroy();
  }
}

async function* empty(): AsyncGenerator<ReceivedEvent> {}
