import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * GET /metrics, in Prometheus' text format. Outside /api on purpose: the frontend forwards
 * /api/* only, so this is reachable on the backend's port alone, i.e. from the internal
 * network, and needs no session.
 */
export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (
  app,
  { registry },
) => {
  app.get(
    '/metrics',
    { config: { duringShutdown: true }, schema: { hide: true } },
    async (_request, reply) => {
      const body = await registry.metrics();
      return reply.header('content-type', registry.contentType).send(body);
    },
  );
};
