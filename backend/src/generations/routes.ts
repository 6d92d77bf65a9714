import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../http/schemas.js';
import { openSse } from '../http/sse.js';
import { relayGeneration } from '../chat/relay.js';
import { ReattachDescription, StopResponse } from '../chat/schemas.js';
import type { ChatService } from '../chat/service.js';

export const generationRoutes: FastifyPluginAsyncTypebox<{ chat: ChatService }> = async (
  app,
  { chat },
) => {
  app.get(
    '/api/generations/:id/stream',
    {
      schema: {
        tags: ['chat'],
        summary: 'Reattach to a running answer: what was written so far, then live',
        params: IdParams,
        response: {
          200: {
            description: ReattachDescription,
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      // Checked before the stream opens, so "not running" is a plain JSON 404. From here on
      // everything is synchronous: the generation cannot end before the relay attaches.
      const generation = chat.running(request.user.id, request.params.id);
      reply.hijack();
      const sse = openSse(reply.raw, { 'x-request-id': request.id });
      sse.send('assistant_message', {
        messageId: generation.messageId,
        generationId: generation.id,
        model: generation.model,
      });
      relayGeneration(reply.raw, sse, generation);
    },
  );

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
