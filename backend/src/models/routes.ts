import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import { ModelCatalog } from './schemas.js';
import type { ModelsService } from './service.js';

export const modelRoutes: FastifyPluginAsyncTypebox<{ models: ModelsService }> = async (
  app,
  { models },
) => {
  app.get(
    '/api/models',
    {
      schema: {
        tags: ['models'],
        summary:
          'The OpenRouter model catalog, cached in the database (for users: the models an admin allows)',
        response: { 200: ModelCatalog, ...errorResponses, 502: ErrorResponse, 503: ErrorResponse },
      },
    },
    async (request) => models.catalog(request.user.role),
  );
};
