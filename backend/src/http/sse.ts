import type { ServerResponse } from 'node:http';

/**
 * A Server-Sent Events writer over a raw Node response (WHATWG HTML, section 9.2).
 * Each event is one JSON object on one `data:` line, so no payload can inject fields.
 */
export interface SseWriter {
  send(event: string, data: unknown): boolean;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
}

export function openSse(res: ServerResponse, headers: Record<string, string> = {}): SseWriter {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Tells nginx not to buffer this response (it passes everything else through).
    'x-accel-buffering': 'no',
    ...headers,
  });
  res.flushHeaders();
  const writable = () => !res.destroyed && !res.writableEnded;
  return {
    send(event, data) {
      if (/[\r\n]/.test(event)) throw new Error('An SSE event name cannot contain a line break.');
      if (!writable()) return false;
      // JSON.stringify never emits raw line breaks, so one data line carries the whole object.
      return res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      if (writable()) res.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
    },
    close() {
      if (writable()) res.end();
    },
    get closed() {
      return !writable();
    },
  };
}
