import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../db/connection.js';
import type { Readiness } from './readiness.js';
import { createHealthRepo } from './repo.js';

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

export const healthRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  upstreamKeyConfigured: boolean;
  readiness: () => Promise<Readiness>;
}> = async (app, { db, upstreamKeyConfigured, readiness }) => {
  const repo = createHealthRepo(db);
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
      let database: 'ok' | 'error' = 'ok';
      try {
        await repo.ping();
      } catch (error) {
        request.log.error({ err: error }, 'database health check failed');
        database = 'error';
      }
      const status = database === 'ok' ? 'ok' : 'degraded';
      return reply
        .status(database === 'ok' ? 200 : 503)
        .send({ status, database, upstreamKeyConfigured });
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
