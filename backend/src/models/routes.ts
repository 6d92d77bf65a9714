import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import { DefaultModelBody, FavoriteBody, ModelCatalog, ModelPreferences } from './schemas.js';
import type { ModelPreferencesService, ModelsService } from './service.js';

export const modelRoutes: FastifyPluginAsyncTypebox<{
  models: ModelsService;
  preferences: ModelPreferencesService;
}> = async (app, { models, preferences }) => {
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

  app.get(
    '/api/models/preferences',
    {
      schema: {
        tags: ['models'],
        summary: 'Your favourite models and default model',
        response: { 200: ModelPreferences, ...errorResponses },
      },
    },
    async (request) => preferences.get(request.user.id),
  );

  app.put(
    '/api/models/favorites',
    {
      schema: {
        tags: ['models'],
        summary: 'Star a model (favorite: true) or remove its star (false); idempotent',
        body: FavoriteBody,
        response: { 200: ModelPreferences, ...errorResponses },
      },
    },
    async (request) =>
      preferences.setFavorite(request.user.id, request.body.modelId, request.body.favorite),
  );

  app.put(
    '/api/models/default',
    {
      schema: {
        tags: ['models'],
        summary:
          'Set your default model, the model of conversations created without one (null: none)',
        body: DefaultModelBody,
        response: { 200: ModelPreferences, ...errorResponses, 403: ErrorResponse },
      },
    },
    async (request) => preferences.setDefault(request.user.id, request.body.modelId),
  );
};
