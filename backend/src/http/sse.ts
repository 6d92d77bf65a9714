import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A Server-Sent Events writer over a raw Node response (WHATWG HTML, section 9.2).
 * Each event is one JSON object on one `data:` line, so no payload can inject fields.
 *
 * Every event is one write of its own, never batched with the next: each must reach the
 * browser as it comes. On a chunked HTTP/1.1 response that has its socket to itself (every SSE
 * response here) the writer frames the HTTP chunk itself and writes it to the socket as one
 * string, one write(2) per event: `res.write()` would hand the socket the same bytes in four
 * pieces (size, CRLF, event, CRLF), corked until the next tick and then flushed as one
 * writev(2), which costs the relay ~15% more CPU per answer (bench/src/upstream-client.ts).
 * Otherwise (an HTTP/1.0 client, or a pipelined request whose response waits for the previous
 * one to finish) it uses `res.write()`.
 */
export interface SseWriter {
  send(event: string, data: unknown): boolean;
  comment(text: string): void;
  close(): void;
  readonly closed: boolean;
}

/** Node's own flag (read only): the body is sent in HTTP chunks. */
type NodeResponse = ServerResponse & { chunkedEncoding?: boolean };

export function openSse(res: ServerResponse, headers: Record<string, string> = {}): SseWriter {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Tells nginx not to buffer this response (it passes everything else through).
    'x-accel-buffering': 'no',
    ...headers,
  });
  // The headers go to the socket now, ahead of anything written to it directly below.
  res.flushHeaders();
  // A pipelined response still waiting for its turn has no socket yet.
  const socket: Socket | null = res.socket;
  const direct =
    socket !== null && socket.writable && (res as NodeResponse).chunkedEncoding === true;
  const writable = () => !res.destroyed && !res.writableEnded && !(socket?.destroyed ?? false);
  const write = (text: string): boolean =>
    direct
      ? socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`)
      : res.write(text);
  return {
    send(event, data) {
      if (/[\r\n]/.test(event)) throw new Error('An SSE event name cannot contain a line break.');
      if (!writable()) return false;
      // JSON.stringify never emits raw line breaks, so one data line carries the whole object.
      return write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      if (writable()) write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
    },
    close() {
      if (writable()) res.end();
    },
    get closed() {
      return !writable();
    },
  };
}
