import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Liveness } from './liveness.js';
import type { Readiness } from './readiness.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  upstreamKeyConfigured: Type.Boolean(),
});

const Ready = Type.Object({ status: Type.Literal('ready') });
const NotReady = Type.Object({
  status: Type.Literal('not_ready'),
  reason: Type.String({ description: 'e.g. "shutting down" or "database unavailable"' }),
});

/** Both probes answer without waiting in the database's queue (see liveness.ts, readiness.ts). */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  upstreamKeyConfigured: boolean;
  liveness: () => Promise<Liveness>;
  readiness: () => Promise<Readiness>;
}> = async (app, { upstreamKeyConfigured, liveness, readiness }) => {
  app.get(
    '/api/health',
    {
      config: { public: true, duringShutdown: true },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers and its database responds',
        response: { 200: Health, 503: Health },
      },
    },
    async (request, reply) => {
      const result = await liveness();
      if (result.ok)
        return { status: 'ok' as const, database: 'ok' as const, upstreamKeyConfigured };
      request.log.error(
        { err: result.error, reason: result.reason, queue: result.queue },
        'database health check failed',
      );
      return reply
        .status(503)
        .send({ status: 'degraded', database: 'error', upstreamKeyConfigured });
    },
  );

  app.get(
    '/api/ready',
    {
      config: { public: true, duringShutdown: true },
      schema: {
        tags: ['health'],
        summary: 'Readiness: 503 while a migration is not applied or the server shuts down',
        response: { 200: Ready, 503: NotReady },
      },
    },
    async (request, reply) => {
      const result = await readiness();
      if (result.ready) return { status: 'ready' as const };
      request.log.debug({ reason: result.reason }, 'not ready');
      return reply.status(503).send({ status: 'not_ready', reason: result.reason });
    },
  );
};
