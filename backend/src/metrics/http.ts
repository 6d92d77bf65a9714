import type { FastifyInstance } from 'fastify';
import type { Metrics } from './registry.js';

/** Label of requests no route matched: the raw URL would make one series per scanner probe. */
const UNMATCHED = 'unmatched';

/**
 * Counts every request when its response closes. The raw `close` event is used rather than
 * Fastify's onResponse hook because that hook never runs for hijacked replies, and the
 * streamed answers are hijacked.
 */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRequest', (request, reply, done) => {
    // Not reply.elapsedTime: Fastify starts that clock only when the reply is sent.
    const start = performance.now();
    reply.raw.once('close', () => {
      // Headers never sent: the client left before any answer (nginx's 499).
      const status = reply.raw.headersSent ? reply.raw.statusCode : 499;
      metrics.observeHttp({
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED,
        status,
        seconds: (performance.now() - start) / 1000,
      });
    });
    done();
  });
}
