import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Database } from '../db/connection.js';

const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  database: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  upstreamKeyConfigured: Type.Boolean(),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  upstreamKeyConfigured: boolean;
}> = async (app, { db, upstreamKeyConfigured }) => {
  app.get(
    '/api/health',
    {
      config: { public: true },
      schema: { tags: ['health'], response: { 200: Health, 503: Health } },
    },
    async (request, reply) => {
      let database: 'ok' | 'error' = 'ok';
      try {
        await db.one('SELECT 1 AS ok');
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
};
