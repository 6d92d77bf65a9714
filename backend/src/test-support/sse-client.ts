import { request, type IncomingMessage } from 'node:http';
import type { ReceivedEvent } from './stream.js';

/**
 * SSE over a real socket of its own (node:http, no keep-alive): the connection closes when the
 * response ends or when `close()` is called, as a browser tab's would, so tests can count the
 * sockets left open. Our backend writes one `event:` and one `data:` line per event.
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
    let text = '';
    for await (const chunk of response) text += String(chunk);
    json = text === '' ? null : JSON.parse(text);
  }
  let dropped = false;
  return {
    status,
    json,
    events: isStream ? readEvents(response, () => dropped) : empty(),
    close: () => {
      dropped = true;
      response.destroy();
    },
  };
}

async function* readEvents(
  response: IncomingMessage,
  dropped: () => boolean,
): AsyncGenerator<ReceivedEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response) {
      buffer += decoder.decode(chunk as Buffer, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith(':')) continue;
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = /^data: (.*)$/m.exec(block)?.[1];
        yield { event, data: data === undefined ? null : JSON.parse(data) };
      }
    }
  } catch (error) {
    // A connection the test dropped itself just ends the events.
    if (!dropped()) throw error;
  } finally {
    response.destroy();
  }
}

async function* empty(): AsyncGenerator<ReceivedEvent> {}
