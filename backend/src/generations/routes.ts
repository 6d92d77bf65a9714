import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses, IdParams } from '../http/schemas.js';
import { StopResponse } from '../chat/schemas.js';
import type { ChatService } from '../chat/service.js';

export const generationRoutes: FastifyPluginAsyncTypebox<{ chat: ChatService }> = async (
  app,
  { chat },
) => {
  app.post(
    '/api/generations/:id/stop',
    {
      schema: {
        tags: ['chat'],
        summary: 'Stop a running answer, keeping what was written',
        params: IdParams,
        response: { 200: StopResponse, ...errorResponses },
      },
    },
    async (request) => {
      chat.stop(request.user.id, request.params.id);
      return { stopped: true };
    },
  );
};
