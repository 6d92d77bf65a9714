import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import { KeyState, SaveKeyBody } from './schemas.js';
import type { KeysService } from './service.js';

/** The signed-in user's own OpenRouter key: never sent back, only its last four characters. */
export const keyRoutes: FastifyPluginAsyncTypebox<{ keys: KeysService }> = async (
  app,
  { keys },
) => {
  app.get(
    '/api/keys/openrouter',
    {
      schema: {
        tags: ['keys'],
        summary: 'Your OpenRouter key: its last four characters, when it was added, its last check',
        response: { 200: KeyState, ...errorResponses },
      },
    },
    async (request) => keys.state(request.user.id),
  );

  app.put(
    '/api/keys/openrouter',
    {
      schema: {
        tags: ['keys'],
        summary: 'Save your own OpenRouter key (checked with OpenRouter first)',
        description:
          "Your chats then use this key instead of the server's. A key OpenRouter refuses is not saved (400 api_key.rejected); when OpenRouter cannot be reached the key is saved and its check says unreachable.",
        body: SaveKeyBody,
        response: { 200: KeyState, ...errorResponses, 429: ErrorResponse },
      },
    },
    async (request) => keys.save({ userId: request.user.id, ip: request.ip }, request.body.key),
  );

  app.post(
    '/api/keys/openrouter/check',
    {
      schema: {
        tags: ['keys'],
        summary: 'Check your saved OpenRouter key again',
        response: { 200: KeyState, ...errorResponses, 409: ErrorResponse, 429: ErrorResponse },
      },
    },
    async (request) => keys.check(request.user.id),
  );

  app.delete(
    '/api/keys/openrouter',
    {
      schema: {
        tags: ['keys'],
        summary: "Delete your OpenRouter key: your chats use the server's key again",
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await keys.remove({ userId: request.user.id, ip: request.ip });
      return reply.status(204).send(null);
    },
  );
};
