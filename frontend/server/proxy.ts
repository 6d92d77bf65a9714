import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import proxyaddr from 'proxy-addr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { request as undiciRequest } from 'undici';

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

/**
 * Forwards `/api` and `/api/*` to the backend without buffering.
 *
 * The request body is the untouched Node request stream (all body parsers are removed in
 * this encapsulated context) and the response body is piped chunk by chunk into the raw
 * Node response, with headers flushed as soon as the backend sends them. When the browser
 * goes away, the upstream request is aborted so the backend sees the disconnect.
 */
export function registerProxy(app: FastifyInstance, options: ProxyOptions): void {
  const { backendUrl, dispatcher } = options;
  const isTrusted = proxyaddr.compile(options.trustedProxies);
  const basePath = backendUrl.pathname.replace(/\/+$/, '');
  const origin = backendUrl.origin;

  void app.register((instance, _opts, done) => {
    // Leave every request body unread: it is streamed to the backend as it arrives.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, parsed) => {
      parsed(null);
    });

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const raw = request.raw;
      const res = reply.raw;
      const controller = new AbortController();
      const onClose = (): void => {
        if (!res.writableFinished) controller.abort();
      };
      res.once('close', onClose);

      let upstream: Dispatcher.ResponseData;
      try {
        upstream = await undiciRequest(`${origin}${basePath}${raw.url ?? request.url}`, {
          method: request.method,
          headers: forwardRequestHeaders(
            raw,
            request.id,
            isTrusted(raw.socket.remoteAddress ?? '', 0),
          ),
          body: hasBody(raw) ? raw : null,
          signal: controller.signal,
          dispatcher,
        });
      } catch (err) {
        if (controller.signal.aborted) {
          request.log.info('client went away before the backend answered');
          reply.hijack();
          res.destroy();
          return;
        }
        const code = errorCode(err);
        const timeout = code !== undefined && TIMEOUT_CODES.has(code);
        request.log.warn({ err, code }, 'backend request failed');
        await reply
          .code(timeout ? 504 : 502)
          .header('cache-control', 'no-store')
          .send({
            error: timeout
              ? { code: 'backend.timeout', message: 'The backend did not answer in time.' }
              : { code: 'backend.unavailable', message: 'The backend is not reachable.' },
          });
        return;
      }

      reply.hijack();
      res.statusCode = upstream.statusCode;
      for (const [name, value] of Object.entries(forwardResponseHeaders(upstream.headers))) {
        if (value !== undefined) res.setHeader(name, value);
      }
      if (!res.hasHeader('x-request-id')) res.setHeader('x-request-id', request.id);
      // Send the status line and headers now, not with the first body chunk.
      res.flushHeaders();
      pipeline(upstream.body, res, (err) => {
        res.off('close', onClose);
        if (err && !controller.signal.aborted) {
          request.log.warn({ err }, 'proxied response stream failed');
        }
      });
    };

    instance.all('/api', handler);
    instance.all('/api/*', handler);
    done();
  });
}
