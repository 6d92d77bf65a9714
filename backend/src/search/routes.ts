import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../http/schemas.js';
import { SearchQuery, SearchResults } from './schemas.js';
import type { SearchService } from './service.js';

export const searchRoutes: FastifyPluginAsyncTypebox<{ search: SearchService }> = async (
  app,
  { search },
) => {
  app.get(
    '/api/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search your conversations: titles and message text',
        querystring: SearchQuery,
        response: { 200: SearchResults, ...errorResponses },
      },
    },
    async (request) => search.search(request.user.id, request.query.q),
  );
};
