import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import proxyaddr from 'proxy-addr';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus ones undici manages itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Request headers that are never forwarded as sent by the browser. */
const REQUEST_DROP = new Set([
  'host', // undici sets the backend's host; the original goes in X-Forwarded-Host
  'expect', // undici does not support 100-continue
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export interface ProxyOptions {
  backendUrl: URL;
  dispatcher: Dispatcher;
  /** See Config.trustedProxies. */
  trustedProxies: string[];
}

function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const raw = headers.connection;
  const joined = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
  return new Set(
    joined
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== ''),
  );
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const first = v?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}

function withoutForwarded(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const rest = { ...headers };
  delete rest['x-forwarded-for'];
  delete rest['x-forwarded-proto'];
  delete rest['x-forwarded-host'];
  return rest;
}

/** The headers sent to the backend: the browser's, minus hop-by-hop, plus X-Forwarded-* and X-Request-Id. */
export function forwardRequestHeaders(
  raw: IncomingMessage,
  requestId: string,
  fromTrustedProxy = false,
): Record<string, string | string[]> {
  // X-Forwarded-* from a client that is not our proxy are forged: start the chain afresh.
  const incoming = fromTrustedProxy ? raw.headers : withoutForwarded(raw.headers);
  const dropped = connectionTokens(incoming);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || REQUEST_DROP.has(name) || dropped.has(name)) continue;
    if (name.startsWith(':')) continue;
    out[name] = value;
  }
  const clientIp = raw.socket.remoteAddress ?? 'unknown';
  const priorFor = incoming['x-forwarded-for'];
  const prior = Array.isArray(priorFor) ? priorFor.join(', ') : priorFor;
  out['x-forwarded-for'] =
    prior !== undefined && prior.trim() !== '' ? `${prior}, ${clientIp}` : clientIp;
  const encrypted = 'encrypted' in raw.socket && raw.socket.encrypted === true;
  out['x-forwarded-proto'] =
    firstValue(incoming['x-forwarded-proto']) ?? (encrypted ? 'https' : 'http');
  const host = firstValue(incoming['x-forwarded-host']) ?? incoming.host;
  if (host !== undefined) out['x-forwarded-host'] = host;
  out['x-request-id'] = requestId;
  return out;
}

/** The headers sent back to the browser: the backend's, minus hop-by-hop. Set-Cookie stays a list. */
export function forwardResponseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const dropped = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || dropped.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function hasBody(raw: IncomingMessage): boolean {
  if (raw.headers['transfer-encoding'] !== undefined) return true;
  const length = raw.headers['content-length'];
  return length !== undefined && length !== '0';
}

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return undefined;
}

/** The URLs the server hands to the proxy without Fastify: `/api`, `/api/…`, `/api?…`. */
export function isProxiedUrl(url: string): boolean {
  return url.startsWith('/api') && (url.length === 4 || url[4] === '/' || url[4] === '?');
}

/** Forwards one request (`raw`, answered on `res`) to the backend. */
export type Proxy = (raw: IncomingMessage, res: ServerResponse, requestId: string) => void;

/** Node's own flag (read only): the response body is sent in HTTP chunks. */
type NodeResponse = ServerResponse & { chunkedEncoding?: boolean };

/** One HTTP/1.1 chunk (size in hex, CRLF, the bytes, CRLF) in one buffer. */
function httpChunk(data: Buffer): Buffer {
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

function sendError(res: ServerResponse, status: number, requestId: string, error: object): void {
  const body = JSON.stringify({ error });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    // What the backend sends on its own JSON answers (backend/src/http/security-headers.ts).
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-request-id': requestId,
  });
  res.end(body);
}

const BACKEND_TIMEOUT = { code: 'backend.timeout', message: 'The backend did not answer in time.' };
const BACKEND_UNAVAILABLE = {
  code: 'backend.unavailable',
  message: 'The backend is not reachable.',
};

/**
 * Forwards requests to the backend without buffering, on undici's dispatcher API: each chunk
 * the backend sends is written to the browser the moment undici parses it (no body stream, no
 * pipeline in between), the headers are flushed as soon as the backend sends them, and the
 * request body is the untouched Node request stream. When the browser goes away, the upstream
 * request is aborted so the backend sees the disconnect. Before the backend answers, a failure
 * becomes a 502 (504 on a timeout) JSON error.
 *
 * A chunked response (every SSE answer) that has the socket to itself is written to the socket
 * directly, each piece the backend sent framed as one HTTP chunk and written at once: one
 * write(2) per event, as res.write() would make too, minus its four-piece cork-and-writev on
 * the next tick (the backend's SSE writer does the same; about a tenth less CPU per streamed
 * answer at 100 streams here, bench/src/proxy.ts). res.end() still writes the last chunk.
 */
export function createProxy(options: ProxyOptions & { log: FastifyBaseLogger }): Proxy {
  const { backendUrl, dispatcher, log } = options;
  const isTrusted = proxyaddr.compile(options.trustedProxies);
  const basePath = backendUrl.pathname.replace(/\/+$/, '');
  const origin = backendUrl.origin;

  return (raw, res, requestId) => {
    let controller: Dispatcher.DispatchController | null = null;
    let clientGone = false;
    let started = false;
    // The browser's socket once the headers are on it, when the body goes in HTTP chunks.
    let direct: Socket | null = null;
    const onClose = (): void => {
      if (res.writableFinished) return;
      clientGone = true;
      controller?.abort(new Error('The client went away.'));
    };
    const onDrain = (): void => {
      controller?.resume();
    };
    res.once('close', onClose);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (clientGone) c.abort(new Error('The client went away.'));
      },
      onResponseStart(_c, statusCode, headers) {
        // Informational answers (103 Early Hints, 102) are not passed on.
        if (statusCode < 200) return;

        started = true;
        res.statusCode = statusCode;
        for (const [name, value] of Object.entries(forwardResponseHeaders(headers))) {
          if (value !== undefined) res.setHeader(name, value);
        }
        if (!res.hasHeader('x-request-id')) res.setHeader('x-request-id', requestId);
        // Send the status line and headers now, not with the first body chunk.
        res.flushHeaders();
        // A pipelined response still waiting for its turn has no socket yet; an HTTP/1.0
        // client and a body with a length get no chunks: those keep res.write().
        const socket = res.socket;
        if (socket !== null && socket.writable && (res as NodeResponse).chunkedEncoding === true) {
          direct = socket;
        }
      },
      onResponseData(c, chunk) {
        if (direct !== null) {
          if (chunk.length === 0 || direct.destroyed) return;
          if (!direct.write(httpChunk(chunk))) {
            c.pause();
            direct.once('drain', onDrain);
          }
        } else if (!res.write(chunk)) {
          c.pause();
          res.once('drain', onDrain);
        }
      },
      onResponseEnd() {
        res.off('close', onClose);
        res.end();
      },
      onResponseError(_c, err) {
        res.off('close', onClose);
        if (clientGone) {
          if (!started) {
            log.info({ reqId: requestId }, 'client went away before the backend answered');
          }
          res.destroy();
          return;
        }
        if (started) {
          log.warn({ reqId: requestId, err }, 'proxied response stream failed');
          res.destroy();
          return;
        }
        const code = errorCode(err);
        const timeout = code !== undefined && TIMEOUT_CODES.has(code);
        log.warn({ reqId: requestId, err, code }, 'backend request failed');
        sendError(
          res,
          timeout ? 504 : 502,
          requestId,
          timeout ? BACKEND_TIMEOUT : BACKEND_UNAVAILABLE,
        );
      },
    };

    dispatcher.dispatch(
      {
        origin,
        path: `${basePath}${raw.url ?? '/'}`,
        method: raw.method ?? 'GET',
        headers: forwardRequestHeaders(
          raw,
          requestId,
          isTrusted(raw.socket.remoteAddress ?? '', 0),
        ),
        body: hasBody(raw) ? raw : null,
      },
      handler,
    );
  };
}

/**
 * Routes `/api` and `/api/*` to `proxy` inside Fastify, for the URLs the server's fast path
 * (isProxiedUrl) leaves to Fastify: Fastify's router decodes the path, so `/%61pi/x` is one.
 * All body parsers are removed in this encapsulated context: the body stays unread.
 */
export function registerProxyRoutes(app: FastifyInstance, proxy: Proxy): void {
  void app.register((instance, _opts, done) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, parsed) => {
      parsed(null);
    });
    const handler = (request: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack();
      proxy(request.raw, reply.raw, request.id);
    };
    instance.all('/api', handler);
    instance.all('/api/*', handler);
    done();
  });
}
