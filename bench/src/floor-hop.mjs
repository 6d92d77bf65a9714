/**
 * The least an HTTP hop in Node costs a streamed answer: the relay benchmark's `bare hops`
 * variant puts two of these in a row, in the backend's and the frontend's places. Each is an
 * HTTP server that forwards a POST's body to its upstream (undici, one shared Agent) and writes
 * every chunk of the answer to its client as it arrives, pausing the upstream while the client's
 * socket is full (as the frontend does): no parsing, no JSON, no database, no log, no auth.
 * What our two services cost above this is the work they do; what this costs is the machine's
 * price for two Node processes in between. Plain JavaScript, run by `node` itself (no tsx
 * loader in its memory).
 *
 *   PORT=… UPSTREAM=http://127.0.0.1:…/api/v1 node src/floor-hop.mjs
 */
import { createServer } from 'node:http';
import { Agent } from 'undici';

const upstream = new URL(process.env.UPSTREAM ?? '');
if (upstream.protocol !== 'http:') throw new Error('UPSTREAM must be an http:// URL');
const basePath = upstream.pathname.replace(/\/+$/, '');
const agent = new Agent({ headersTimeout: 0, bodyTimeout: 0 });

/** One HTTP chunk in one buffer: size line, data, CRLF (as frontend/server/proxy.ts frames). */
function httpChunk(data) {
  const size = data.length.toString(16);
  const out = Buffer.allocUnsafe(size.length + data.length + 4);
  out.write(size, 0, 'latin1');
  out[size.length] = 13;
  out[size.length + 1] = 10;
  data.copy(out, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}

// The cheapest relay we know in Node, the frontend's (frontend/server/proxy.ts): undici's
// dispatcher API, each parsed chunk written straight to the client's socket in one write.
const server = createServer((req, res) => {
  // The load client opens its connections with a GET first: answered here.
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  let socket = null;
  agent.dispatch(
    {
      origin: upstream.origin,
      path: basePath + req.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: req.headers.authorization ?? '',
      },
      body: req,
    },
    {
      onRequestStart(controller) {
        res.once('close', () => {
          if (!res.writableFinished) controller.abort(new Error('client went away'));
        });
      },
      onResponseStart(_controller, statusCode, headers) {
        res.statusCode = statusCode;
        res.setHeader('content-type', String(headers['content-type'] ?? 'text/event-stream'));
        res.setHeader('cache-control', 'no-cache');
        res.flushHeaders();
        socket = res.socket;
      },
      onResponseData(controller, chunk) {
        if (chunk.length === 0 || socket === null || socket.destroyed) return;
        if (!socket.write(httpChunk(chunk))) {
          controller.pause();
          socket.once('drain', () => controller.resume());
        }
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare hop listening on ${server.address().port}, upstream ${upstream}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
