import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { openSse, type SseWriter } from './sse.js';

/** What a test's server does with each response. */
type Handler = (res: ServerResponse, path: string) => void | Promise<void>;

let server: Server | null = null;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
});

async function listen(handler: Handler): Promise<number> {
  server = createServer((req, res) => void handler(res, req.url ?? '/'));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A raw TCP client: every byte the server sends, as it comes. */
function rawClient(port: number): Promise<{ socket: Socket; received: () => Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () =>
      resolve({ socket, received: () => Buffer.concat(chunks) }),
    );
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.on('error', reject);
  });
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Splits one response: its head, and the chunks of its chunked body (bytes, decoded). */
function parseChunked(bytes: Buffer): { head: string; chunks: string[]; rest: Buffer } {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const head = bytes.subarray(0, headEnd).toString('latin1');
  const chunks: string[] = [];
  let at = headEnd + 4;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) throw new Error('incomplete chunk size line');
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    const start = lineEnd + 2;
    if (bytes.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') {
      throw new Error(`chunk of ${size} bytes not followed by CRLF`);
    }
    at = start + size + 2;
    if (size === 0) return { head, chunks, rest: bytes.subarray(at) };
    chunks.push(bytes.subarray(start, start + size).toString('utf8'));
  }
}

const request = (path = '/', version = '1.1') =>
  `GET ${path} HTTP/${version}\r\nHost: localhost\r\n\r\n`;

describe('openSse', () => {
  it('writes each event as one HTTP chunk of its exact byte length, then ends the response', async () => {
    const port = await listen((res) => {
      const sse = openSse(res, { 'x-request-id': 'req-1' });
      sse.send('delta', { content: 'héllo 🌍 — ok' });
      sse.comment('keep-alive\r\nsneaky: field');
      sse.send('done', { status: 'completed' });
      sse.close();
    });
    const client = await rawClient(port);
    client.socket.write(request());
    await until(() => client.received().includes('0\r\n\r\n'));
    const { head, chunks } = parseChunked(client.received());
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).toContain('content-type: text/event-stream; charset=utf-8');
    expect(head.toLowerCase()).toContain('transfer-encoding: chunked');
    expect(head.toLowerCase()).toContain('x-request-id: req-1');
    expect(chunks).toEqual([
      'event: delta\ndata: {"content":"héllo 🌍 — ok"}\n\n',
      ': keep-alive sneaky: field\n\n',
      'event: done\ndata: {"status":"completed"}\n\n',
    ]);
    client.socket.destroy();
  });

  it('sends each event at once, without waiting for the next, and keeps the connection', async () => {
    let sse: SseWriter | null = null;
    const port = await listen((res, path) => {
      if (path === '/again') {
        res.end('still here');
        return;
      }
      sse = openSse(res);
    });
    const client = await rawClient(port);
    client.socket.write(request());
    await until(() => sse !== null && client.received().includes('\r\n\r\n'));
    for (let i = 0; i < 3; i++) {
      sse!.send('delta', { content: `part ${i}` });
      // The event is on the wire before anything else is written.
      await until(() => client.received().includes(`part ${i}`));
    }
    sse!.close();
    await until(() => client.received().includes('0\r\n\r\n'));
    const first = parseChunked(client.received());
    expect(first.chunks).toHaveLength(3);
    // The same connection serves the next request.
    client.socket.write(request('/again'));
    await until(() => client.received().includes('still here'));
    client.socket.destroy();
  });

  it('frames pipelined responses in order (the second waits for the first)', async () => {
    const port = await listen(async (res, path) => {
      const sse = openSse(res);
      sse.send('delta', { content: `${path} a` });
      await new Promise((resolve) => setTimeout(resolve, path === '/one' ? 30 : 0));
      sse.send('delta', { content: `${path} b` });
      sse.close();
    });
    const client = await rawClient(port);
    client.socket.write(request('/one') + request('/two'));
    await until(() => client.received().toString('latin1').split('0\r\n\r\n').length === 3);
    const first = parseChunked(client.received());
    const second = parseChunked(first.rest);
    expect(first.chunks.map((c) => JSON.parse(c.split('data: ')[1]!).content)).toEqual([
      '/one a',
      '/one b',
    ]);
    expect(second.chunks.map((c) => JSON.parse(c.split('data: ')[1]!).content)).toEqual([
      '/two a',
      '/two b',
    ]);
    client.socket.destroy();
  });

  it('writes plain events to an HTTP/1.0 client and closes the connection at the end', async () => {
    const port = await listen((res) => {
      const sse = openSse(res);
      sse.send('delta', { content: 'old client' });
      sse.close();
    });
    const client = await rawClient(port);
    const closed = new Promise((resolve) => client.socket.on('close', resolve));
    client.socket.write(request('/', '1.0'));
    await closed;
    const text = client.received().toString('utf8');
    expect(text.toLowerCase()).not.toContain('transfer-encoding');
    expect(text.split('\r\n\r\n')[1]).toBe('event: delta\ndata: {"content":"old client"}\n\n');
  });

  it('reports closed, and writes nothing, once the client is gone', async () => {
    let sse: SseWriter | null = null;
    const port = await listen((res) => {
      sse = openSse(res);
    });
    const client = await rawClient(port);
    client.socket.write(request());
    await until(() => sse !== null);
    expect(sse!.closed).toBe(false);
    client.socket.destroy();
    await until(() => sse!.closed);
    expect(sse!.send('delta', { content: 'lost' })).toBe(false);
    expect(() => sse!.comment('ignored')).not.toThrow();
  });

  it('refuses an event name with a line break', async () => {
    let sse: SseWriter | null = null;
    const port = await listen((res) => {
      sse = openSse(res);
    });
    const client = await rawClient(port);
    client.socket.write(request());
    await until(() => sse !== null);
    expect(() => sse!.send('delta\ndata: x', {})).toThrow(/line break/);
    client.socket.destroy();
  });
});
