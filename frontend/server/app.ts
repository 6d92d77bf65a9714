import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Agent, request as undiciRequest } from 'undici';
import type { Config } from './config.js';
import { createProxy, isProxiedUrl, registerProxyRoutes, type Proxy } from './proxy.js';

export interface ServerDeps {
  config: Config;
  /** A pino-compatible logger; by default one is made with `config.logLevel`. */
  logger?: FastifyBaseLogger;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const NO_CACHE = 'no-cache';
const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/**
 * The page's Content-Security-Policy. The SPA loads only its own scripts and styles (no inline
 * script anywhere: Vite emits external modules) and talks only to its own origin. Images: its
 * own, data: and blob: URLs only, so an image URL in model output can never be fetched (the
 * renderer shows such images as links anyway; see docs/security.md). Model output is sanitized
 * before it reaches the page; this is the second line of defence. `frame-ancestors 'none'`
 * forbids framing (clickjacking). Also sent on assets and errors: harmless there, and no
 * response is left without it.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Sent on every response of this server (pages, assets, errors). nginx (deploy/nginx) sets the
 * same values for those it owns and passes the CSP through: keep the two in step.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  // Full URLs (conversation ids) to this origin only; other sites get nothing.
  'referrer-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/** Fastify's answer to a request that arrives once closing has started (return503OnClosing). */
function shuttingDown(res: ServerResponse): void {
  const body = '{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}';
  res.setHeader('connection', 'close');
  res.writeHead(503, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json',
    'content-length': body.length,
  });
  res.end(body);
}

function looksLikeFile(path: string): boolean {
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last.includes('.');
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  // `/api` requests bypass Fastify: the server hands them straight to the proxy. Fastify's
  // per-request work (routing, hooks, request and reply objects, two info log lines) was about
  // a fifth of the CPU this server spent relaying a streamed answer (bench/src/proxy.ts). So a
  // proxied request is logged here only when it fails; the backend logs every one under the
  // same X-Request-Id. Everything else, and the odd /api URL that only Fastify's router
  // recognises (a percent-encoded one), goes through Fastify.
  let proxy: Proxy | null = null;
  let closing = false;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: { level: config.logLevel } }),
    genReqId: requestIdOf,
    // Streams (SSE answers) may stay open for minutes; never cut them server-side.
    requestTimeout: 0,
    serverFactory: (fastifyHandler) => {
      const server = createServer((req, res) => {
        if (proxy === null || !isProxiedUrl(req.url ?? '')) {
          fastifyHandler(req, res);
        } else if (closing) {
          shuttingDown(res);
        } else {
          proxy(req, res, requestIdOf(req));
        }
      });
      // What Fastify sets on a server it creates itself: its keepAliveTimeout default, our
      // requestTimeout, no connectionTimeout.
      server.keepAliveTimeout = 72_000;
      server.requestTimeout = 0;
      server.setTimeout(0);
      return server;
    },
  });

  // One connection pool to the backend per server; no timeout between body chunks, since a
  // streamed answer may pause for a long time while the model thinks.
  const dispatcher = new Agent({ bodyTimeout: 0, headersTimeout: 300_000, connectTimeout: 10_000 });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onClose', async () => {
    await dispatcher.close();
  });

  // Every answer carries the request id and the security headers (proxied answers get both
  // from the backend). On the raw response, so even what is sent without the reply has them.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
    done();
  });

  proxy = createProxy({
    backendUrl: config.backendUrl,
    dispatcher,
    trustedProxies: config.trustedProxies,
    log: app.log,
  });
  registerProxyRoutes(app, proxy);

  app.get('/healthz', async (request, reply) => {
    let backend: 'ok' | 'unreachable' = 'unreachable';
    const base = config.backendUrl.pathname.replace(/\/+$/, '');
    try {
      const res = await undiciRequest(`${config.backendUrl.origin}${base}/api/health`, {
        dispatcher,
        signal: AbortSignal.timeout(3000),
        headers: { 'x-request-id': request.id },
      });
      await res.body.dump();
      backend = 'ok';
    } catch (err) {
      request.log.debug({ err }, 'backend health check failed');
    }
    return reply.header('cache-control', 'no-store').send({ status: 'ok', backend });
  });

  await app.register(fastifyStatic, {
    root: config.staticDir,
    prefix: '/',
    wildcard: true,
    index: ['index.html'],
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      const hashed = path.includes(`${sep}assets${sep}`);
      reply.header('cache-control', hashed ? IMMUTABLE : NO_CACHE);
    },
  });

  // Client-side routes (e.g. /c/<id>) get the SPA's index.html; missing files stay 404s.
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const isPage =
      (request.method === 'GET' || request.method === 'HEAD') &&
      !path.startsWith('/api/') &&
      !looksLikeFile(path);
    if (isPage) {
      return reply.sendFile('index.html');
    }
    return reply
      .code(404)
      .header('cache-control', 'no-store')
      .send({ error: { code: 'not_found', message: 'Not found.' } });
  });

  return app;
}
