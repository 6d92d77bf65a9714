import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Still served while the server shuts down (probes and metrics); every other route answers 503. */
    duringShutdown?: boolean;
  }
}

/**
 * Once shutdown starts, new requests are refused with our own 503 and `Connection: close`,
 * so load balancers and the frontend move on while running answers drain. (Fastify's built-in
 * 503 is turned off in app.ts: its body is not our error shape.)
 */
export function registerShutdownGuard(app: FastifyInstance, isShuttingDown: () => boolean): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isShuttingDown() || request.routeOptions.config.duringShutdown) return;
    reply.header('connection', 'close');
    throw new AppError('server.shutting_down');
  });
}
