import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  deadBackendUrl,
  makeStaticDir,
  readBody,
  send,
  startFakeBackend,
  startFrontend,
  within,
  type FakeBackend,
  type Frontend,
} from './test-support/harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** One fake backend for the file; each test installs its own handler. */
let handler: Handler = (_req, res) => {
  res.writeHead(500).end();
};
let backend: FakeBackend;
let frontend: Frontend;
const staticDir = makeStaticDir();

beforeAll(async () => {
  backend = await startFakeBackend((req, res) => {
    void Promise.resolve(handler(req, res)).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  frontend = await startFrontend(backend.url, staticDir.dir);
});

afterAll(async () => {
  await frontend.app.close();
  await backend.close();
  staticDir.cleanup();
});

afterEach(() => {
  handler = (_req, res) => {
    res.writeHead(500).end();
  };
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('proxy: streaming', () => {
  it('delivers each SSE chunk as it arrives (fails if the proxy buffers)', async () => {
    const clientGotHeaders = deferred();
    const clientGotFirst = deferred();
    const first = 'event: delta\ndata: {"content":"Hel"}\n\n';
    const rest = ['event: delta\ndata: {"content":"lo"}\n\n', 'event: done\ndata: {}\n\n'];

    handler = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      // The headers alone must reach the client before any event is written.
      await within(clientGotHeaders.promise, 3000, 'headers did not get through on their own');
      res.write(first);
      // Nothing more is written until the client has seen the first event through the proxy.
      await within(clientGotFirst.promise, 3000, 'first chunk did not get through on its own');
      for (const chunk of rest) res.write(chunk);
      res.end();
    };

    const received = await within(
      new Promise<string[]>((resolve, reject) => {
        const req = httpRequest(
          `${frontend.url}/api/conversations/c1/messages`,
          { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
          (res) => {
            expect(res.statusCode).toBe(200);
            expect(res.headers['content-type']).toBe('text/event-stream');
            clientGotHeaders.resolve();
            const chunks: string[] = [];
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              chunks.push(chunk);
              if (chunks.join('') === first) clientGotFirst.resolve();
            });
            res.on('end', () => resolve(chunks));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end('{"content":"hi"}');
      }),
      8000,
      'the stream did not complete: the proxy holds chunks back',
    );

    expect(received[0]).toBe(first);
    expect(received.join('')).toBe(first + rest.join(''));
  });

  it('aborts the backend request when the browser goes away mid-stream', async () => {
    const backendSawClose = deferred();
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: delta\ndata: {"content":"x"}\n\n');
      // Never ends on its own: only the disconnect finishes this request.
      res.on('close', () => {
        if (!res.writableFinished) backendSawClose.resolve();
      });
      req.on('error', () => undefined);
    };

    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${frontend.url}/api/stream`, { agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ECONNRESET') reject(err);
      });
      req.end();
    });

    await within(backendSawClose.promise, 3000, 'the backend never saw the disconnect');
  });

  it('aborts the backend request when the browser goes away before the backend answers', async () => {
    const backendSawClose = deferred();
    const backendGotRequest = deferred();
    handler = (_req, res) => {
      backendGotRequest.resolve();
      res.on('close', () => backendSawClose.resolve());
    };
    const req = httpRequest(`${frontend.url}/api/slow`, { agent: false });
    req.on('error', () => undefined);
    req.end();
    await within(backendGotRequest.promise, 3000, 'the request never reached the backend');
    req.destroy();
    await within(backendSawClose.promise, 3000, 'the backend never saw the disconnect');
  });
});

/** A raw TCP client to the frontend: every byte it sends, as it comes. */
function rawClient(url: string): Promise<{ socket: Socket; received: () => Buffer }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), '127.0.0.1', () =>
      resolve({ socket, received: () => Buffer.concat(chunks) }),
    );
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.on('error', reject);
  });
}

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One chunked response: its head, its chunks (decoded), and the bytes after it. */
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

const rawRequest = (path: string, version = '1.1') =>
  `GET ${path} HTTP/${version}\r\nhost: localhost\r\n\r\n`;

/** The backend's side of an SSE answer: each event written on its own, `gapMs` apart. */
function sseHandler(events: (path: string) => string[], gapMs = 5): Handler {
  return async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.flushHeaders();
    for (const event of events(req.url ?? '')) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      res.write(event);
    }
    res.end();
  };
}

describe('proxy: HTTP framing of streamed answers', () => {
  it('sends each backend piece as one exact HTTP chunk and keeps the connection', async () => {
    const events = [
      'event: delta\ndata: {"content":"héllo 🌍 — ok"}\n\n',
      'event: delta\ndata: {"content":"more"}\n\n',
      'event: done\ndata: {}\n\n',
    ];
    handler = sseHandler(() => events);
    const client = await rawClient(frontend.url);
    client.socket.write(rawRequest('/api/stream'));
    await until(() => client.received().includes('0\r\n\r\n'));
    const { head, chunks, rest } = parseChunked(client.received());
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).toContain('transfer-encoding: chunked');
    expect(head.toLowerCase()).toContain('content-type: text/event-stream; charset=utf-8');
    expect(chunks).toEqual(events);
    expect(rest.length).toBe(0);

    // The same connection serves the next request.
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('still here');
    };
    client.socket.write(rawRequest('/api/again'));
    await until(() => client.received().includes('still here'));
    client.socket.destroy();
  });

  it('frames pipelined streamed answers in order', async () => {
    handler = sseHandler((path) => [`data: ${path} a\n\n`, `data: ${path} b\n\n`], 20);
    const client = await rawClient(frontend.url);
    client.socket.write(rawRequest('/api/one') + rawRequest('/api/two'));
    await until(() => client.received().toString('latin1').split('0\r\n\r\n').length === 3);
    const first = parseChunked(client.received());
    const second = parseChunked(first.rest);
    expect(first.chunks).toEqual(['data: /api/one a\n\n', 'data: /api/one b\n\n']);
    expect(second.chunks).toEqual(['data: /api/two a\n\n', 'data: /api/two b\n\n']);
    client.socket.destroy();
  });

  it('streams unframed to an HTTP/1.0 client and closes the connection at the end', async () => {
    handler = sseHandler(() => ['data: old client\n\n', 'data: bye\n\n']);
    const client = await rawClient(frontend.url);
    const closed = new Promise((resolve) => client.socket.on('close', resolve));
    client.socket.write(rawRequest('/api/stream', '1.0'));
    await within(closed, 3000, 'the connection was not closed');
    const text = client.received().toString('utf8');
    expect(text.toLowerCase()).not.toContain('transfer-encoding');
    expect(text.split('\r\n\r\n')[1]).toBe('data: old client\n\ndata: bye\n\n');
  });
});

describe('proxy: large and broken responses', () => {
  it('holds the backend back while the browser reads slowly, and loses nothing', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      let offset = 0;
      const pump = (): void => {
        while (offset < big.length) {
          const chunk = big.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    const body = await new Promise<Buffer>((resolve, reject) => {
      const req = httpRequest(`${frontend.url}/api/export`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.pause();
        // Not read for a while: the buffers on the way fill up and the proxy must pause.
        setTimeout(() => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.resume();
        }, 300);
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(body.length).toBe(big.length);
    expect(createHash('sha256').update(body).digest('hex')).toBe(
      createHash('sha256').update(big).digest('hex'),
    );
  });

  it('cuts the browser response when the backend fails mid-stream', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: delta\ndata: {"content":"x"}\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
    };
    const outcome = await within(
      new Promise<{ complete: boolean; text: string }>((resolve, reject) => {
        const req = httpRequest(`${frontend.url}/api/stream`, { agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('close', () => resolve({ complete: res.complete, text }));
        });
        req.on('error', reject);
        req.end();
      }),
      3000,
      'the browser response was left open',
    );
    expect(outcome.text).toContain('event: delta');
    expect(outcome.complete).toBe(false);
  });
});

describe('proxy: requests and responses', () => {
  it('passes method, path and query through', async () => {
    let seen = '';
    handler = (req, res) => {
      seen = `${req.method} ${req.url}`;
      res.writeHead(204).end();
    };
    const res = await send(`${frontend.url}/api/conversations/abc?limit=30&cursor=a%2Fb%3D`, {
      method: 'DELETE',
    });
    expect(res.status).toBe(204);
    expect(seen).toBe('DELETE /api/conversations/abc?limit=30&cursor=a%2Fb%3D');

    const long = `/api/${'x'.repeat(500)}/y?${'q'.repeat(2000)}=1`;
    const longRes = await send(`${frontend.url}${long}`);
    expect(longRes.status).toBe(204);
    expect(seen).toBe(`GET ${long}`);

    const head = await send(`${frontend.url}/api/auth/state`, { method: 'HEAD' });
    expect(head.status).toBe(204);
    expect(seen).toBe('HEAD /api/auth/state');
  });

  it('passes POST bodies through byte for byte, unparsed', async () => {
    handler = async (req, res) => {
      const body = await readBody(req);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          contentType: req.headers['content-type'],
          length: body.length,
          sha256: createHash('sha256').update(body).digest('hex'),
          text: body.length < 1000 ? body.toString('utf8') : null,
        }),
      );
    };

    const json = '{"content":"héllo 👋","model":"openai/gpt-4o"}';
    const small = await send(`${frontend.url}/api/conversations/c1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json,
    });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body.toString())).toMatchObject({
      contentType: 'application/json',
      text: json,
    });

    // Not JSON at all, yet labelled JSON: the proxy must not try to parse it.
    const broken = await send(`${frontend.url}/api/x`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(JSON.parse(broken.body.toString())).toMatchObject({ text: '{not json' });

    const big = randomBytes(3 * 1024 * 1024);
    const large = await send(`${frontend.url}/api/upload`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: big,
    });
    expect(JSON.parse(large.body.toString())).toMatchObject({
      contentType: 'application/octet-stream',
      length: big.length,
      sha256: createHash('sha256').update(big).digest('hex'),
    });
  });

  it('passes cookies in and several Set-Cookie headers out', async () => {
    let cookie: string | undefined;
    handler = (req, res) => {
      cookie = req.headers.cookie;
      res.setHeader('set-cookie', [
        'ai_session=new; Path=/; HttpOnly; SameSite=Lax',
        'other=1; Path=/; Max-Age=60',
      ]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"user":null}');
    };
    const res = await send(`${frontend.url}/api/auth/login`, {
      method: 'POST',
      headers: { cookie: 'ai_session=old; theme=dark', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(cookie).toBe('ai_session=old; theme=dark');
    expect(res.headers['set-cookie']).toEqual([
      'ai_session=new; Path=/; HttpOnly; SameSite=Lax',
      'other=1; Path=/; Max-Age=60',
    ]);
  });

  it('skips informational (1xx) answers and passes the final one', async () => {
    handler = (_req, res) => {
      res.writeEarlyHints({ link: '</assets/app.js>; rel=preload; as=script' });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const res = await send(`${frontend.url}/api/auth/state`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('{"ok":true}');
  });

  it('passes status, headers and error bodies back', async () => {
    handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json', 'x-backend': 'yes' });
      res.end('{"error":{"code":"conversation.not_found","message":"Conversation not found."}}');
    };
    const res = await send(`${frontend.url}/api/conversations/nope`);
    expect(res.status).toBe(404);
    expect(res.headers['x-backend']).toBe('yes');
    expect(JSON.parse(res.body.toString())).toEqual({
      error: { code: 'conversation.not_found', message: 'Conversation not found.' },
    });
  });

  it('drops hop-by-hop headers and adds X-Forwarded-* and X-Request-Id', async () => {
    let seen: IncomingMessage['headers'] = {};
    handler = (req, res) => {
      seen = req.headers;
      res.setHeader('x-hop-back', 'secret');
      res.setHeader('connection', 'keep-alive, x-hop-back');
      res.writeHead(200).end('ok');
    };
    const res = await send(`${frontend.url}/api/auth/me`, {
      headers: {
        connection: 'keep-alive, x-hop-out',
        'x-hop-out': 'secret',
        'proxy-authorization': 'Basic abc',
        'x-custom': 'kept',
        host: 'chat.example.test',
      },
    });
    expect(res.status).toBe(200);
    expect(seen['x-custom']).toBe('kept');
    expect(seen['x-hop-out']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('chat.example.test');
    expect(seen.host).toBe(new URL(backend.url).host);
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-request-id']).toBe(seen['x-request-id']);
    expect(res.headers['x-hop-back']).toBeUndefined();

    await send(`${frontend.url}/api/auth/me`, {
      headers: {
        'x-request-id': 'req-123',
        'x-forwarded-for': '203.0.113.7',
        'x-forwarded-proto': 'https',
      },
    });
    expect(seen['x-request-id']).toBe('req-123');
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('https');
  });

  it('ignores X-Forwarded-* from a client that is not a trusted proxy', async () => {
    let seen: IncomingMessage['headers'] = {};
    handler = (req, res) => {
      seen = req.headers;
      res.writeHead(200).end('ok');
    };
    const untrusting = await startFrontend(backend.url, staticDir.dir, ['10.9.9.9']);
    try {
      await send(`${untrusting.url}/api/auth/me`, {
        headers: {
          'x-forwarded-for': '203.0.113.7',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'evil.example',
          host: 'chat.example.test',
        },
      });
      expect(seen['x-forwarded-for']).toBe('127.0.0.1');
      expect(seen['x-forwarded-proto']).toBe('http');
      expect(seen['x-forwarded-host']).toBe('chat.example.test');
    } finally {
      await untrusting.app.close();
    }
  });
});

describe('proxy: routing and shutdown', () => {
  it('forwards /api URLs that only Fastify recognises (percent-encoded) the same way', async () => {
    let seen = '';
    handler = (req, res) => {
      seen = `${req.method} ${req.url}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    };
    const res = await send(`${frontend.url}/%61pi/auth/state?x=1`);
    expect(res.status).toBe(200);
    expect(seen).toBe('GET /%61pi/auth/state?x=1');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    const bare = await send(`${frontend.url}/api?y=2`);
    expect(bare.status).toBe(200);
    expect(seen).toBe('GET /api?y=2');

    // Not the proxy's: a page route and a near miss.
    const page = await send(`${frontend.url}/apix`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(seen).toBe('GET /api?y=2');
  });

  it('answers 503 to a request arriving once closing has started, as Fastify does', async () => {
    const finishStream = deferred();
    const urls: string[] = [];
    handler = async (req, res) => {
      urls.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: delta\ndata: {"content":"x"}\n\n');
      await finishStream.promise;
      res.end('event: done\ndata: {}\n\n');
    };
    const closingFrontend = await startFrontend(backend.url, staticDir.dir);
    const { port } = new URL(closingFrontend.url);
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    const firstEvent = deferred();
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('event: delta')) firstEvent.resolve();
    });
    socket.write('GET /api/stream HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await within(firstEvent.promise, 3000, 'the stream did not start');

    const closed = closingFrontend.app.close();
    await new Promise((r) => setTimeout(r, 50));
    // Pipelined on the busy connection, so it is parsed while the server is closing.
    socket.write('GET /api/other HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await new Promise((r) => setTimeout(r, 50));
    finishStream.resolve();
    await within(ended, 3000, 'the connection was not closed');
    await closed;

    expect(urls).toEqual(['/api/stream']);
    expect(text).toContain('event: done');
    const second = text.slice(text.indexOf('HTTP/1.1', 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain('connection: close');
    expect(second).toContain('"statusCode":503');
  });
});

describe('proxy: backend down', () => {
  it('answers 502 with a JSON error', async () => {
    const down = await startFrontend(await deadBackendUrl(), staticDir.dir);
    try {
      const res = await send(`${down.url}/api/health`);
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(res.body.toString())).toEqual({
        error: { code: 'backend.unavailable', message: 'The backend is not reachable.' },
      });

      const post = await send(`${down.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"username":"a","password":"b"}',
      });
      expect(post.status).toBe(502);
    } finally {
      await down.app.close();
    }
  });
});
