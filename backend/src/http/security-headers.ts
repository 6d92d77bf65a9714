import type { FastifyInstance } from 'fastify';

/**
 * Headers on every backend response. The API answers JSON and event streams, never a page:
 * its CSP lets nothing load or run and nobody frame it, so a response opened as a document
 * (a link to /api/...) is inert. The browser's page gets its own policy from the frontend
 * server (frontend/server/app.ts); nginx passes both through (deploy/nginx).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

/**
 * The interactive API docs (/api/docs, Swagger UI) are a page: scripts and styles from the
 * backend itself only (none inline), inline style attributes (Swagger UI sets them), nothing
 * else from anywhere.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Sets the headers on the raw response as each request arrives, so every answer carries them:
 * routes, errors, 404s and the streamed (hijacked) answers, which write their own head.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of Object.entries(API_SECURITY_HEADERS)) {
      reply.raw.setHeader(name, value);
    }
    if (request.url === '/api/docs' || request.url.startsWith('/api/docs/')) {
      reply.raw.setHeader('content-security-policy', DOCS_CSP);
    }
    done();
  });
}
