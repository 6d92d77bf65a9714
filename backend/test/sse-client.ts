import { createSseParser } from '../src/openrouter/sse.js';
import type { ReceivedEvent } from '../src/test-support/stream.js';

/**
 * What a client got from POST /api/conversations/:id/messages, read with the WHATWG parser
 * (lines end at CR or LF only, so U+2028 inside a JSON payload stays in it, as in a browser).
 */
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
    response = await fetch(`${baseUrl}/api/conversations/${conversationId}/messages`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
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
  const parser = createSseParser((event) => {
    if (event.type !== 'message') return;
    const received: ReceivedEvent = { event: event.event, data: JSON.parse(event.data) };
    result.events.push(received);
    onEvent?.(received);
  });
  try {
    for await (const chunk of response.body) parser.push(chunk);
    parser.end();
  } catch {
    result.broken = true;
  }
  return result;
}

/** The answer's text as the client saw it: every delta, in order. */
export function streamedText(events: ReceivedEvent[]): string {
  return events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');
}
