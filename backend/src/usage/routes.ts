import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { requireAdmin } from '../auth/guard.js';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import {
  ConversationsQuery,
  ConversationsUsage,
  DailyUsage,
  ErrorsUsage,
  ExportQuery,
  LatencyUsage,
  PricesUsage,
  UsageQuery,
  UsageSummary,
  UsersUsage,
} from './schemas.js';
import type { UsageDownload, UsageService } from './service.js';

/**
 * /api/usage/*: your usage (tokens, cost, latency, errors) over a range of UTC days; an admin
 * may ask for another user's (`user=<id>`) or the whole server's (`user=all`), anyone else
 * gets 403 `auth.admin_only` for that.
 */
export const usageRoutes: FastifyPluginAsyncTypebox<{ usage: UsageService }> = async (
  app,
  { usage },
) => {
  const tags = ['usage'];
  const errors = { ...errorResponses, 403: ErrorResponse };
  const reports = [
    ['daily', DailyUsage, 'Spend and tokens per UTC day and model', usage.daily],
    [
      'latency',
      LatencyUsage,
      'Time to first token and tokens per second per model and provider: p50, p90, p99',
      usage.latency,
    ],
    ['errors', ErrorsUsage, 'Failed calls per day, model and error code', usage.errors],
    [
      'prices',
      PricesUsage,
      "Cost check: what OpenRouter charged next to the catalog's list price of each day",
      usage.prices,
    ],
  ] as const;

  app.get(
    '/api/usage/summary',
    {
      schema: {
        tags,
        summary: 'Totals over the range, today and this month, the budget left, and per kind',
        querystring: UsageQuery,
        response: { 200: UsageSummary, ...errors },
      },
    },
    async (request) => usage.summary(request.user, request.query),
  );

  for (const [name, schema, summary, run] of reports) {
    app.get(
      `/api/usage/${name}`,
      {
        schema: { tags, summary, querystring: UsageQuery, response: { 200: schema, ...errors } },
      },
      // Each report's function takes the viewer and the query (see service.ts).
      async (request) => (run as typeof usage.daily)(request.user, request.query),
    );
  }

  app.get(
    '/api/usage/conversations',
    {
      schema: {
        tags,
        summary: 'The conversations that cost most over the range',
        querystring: ConversationsQuery,
        response: { 200: ConversationsUsage, ...errors },
      },
    },
    async (request) => usage.conversations(request.user, request.query),
  );

  app.get(
    '/api/usage/export',
    {
      schema: {
        tags,
        summary: "A report's rows (or every generation row) as CSV or Parquet, written by DuckDB",
        querystring: ExportQuery,
        response: {
          200: {
            description: 'The file, with Content-Disposition: attachment',
            content: {
              'text/csv': { schema: Type.String() },
              'application/vnd.apache.parquet': { schema: Type.String({ format: 'binary' }) },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => send(reply, await usage.download(request.user, request.query)),
  );
};

/** A download: never cached (it is the user's data), saved under its file name. */
function send(reply: FastifyReply, file: UsageDownload) {
  void reply
    .header('content-type', file.contentType)
    .header('content-disposition', file.contentDisposition)
    .header('cache-control', 'no-store');
  return reply.send(file.body);
}

/** /api/admin/usage/*: admins only (403 `auth.admin_only` for anyone else). */
export const adminUsageRoutes: FastifyPluginAsyncTypebox<{ usage: UsageService }> = async (
  app,
  { usage },
) => {
  app.addHook('onRequest', requireAdmin);
  app.get(
    '/api/admin/usage/users',
    {
      schema: {
        tags: ['admin', 'usage'],
        summary: "Every user's usage over the range, and the list of users",
        querystring: Type.Omit(UsageQuery, ['user']),
        response: { 200: UsersUsage, ...errorResponses, 403: ErrorResponse },
      },
    },
    async (request) => usage.users(request.user, request.query),
  );
};
