import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, ErrorResponse, IdParams } from '../http/schemas.js';
import { openSse } from '../http/sse.js';
import { relayGeneration } from './relay.js';
import { SendMessageBody, StreamDescription } from './schemas.js';
import type { ChatService } from './service.js';

export const chatRoutes: FastifyPluginAsyncTypebox<{ chat: ChatService }> = async (
  app,
  { chat },
) => {
  app.post(
    '/api/conversations/:id/messages',
    {
      schema: {
        tags: ['chat'],
        summary: 'Send a message and stream the answer',
        params: IdParams,
        body: SendMessageBody,
        response: {
          200: {
            description: StreamDescription,
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses,
          // budget.exceeded, model.not_allowed, api_key.unreadable, chat.rate_limited
          402: ErrorResponse,
          403: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      // Validation, ownership and the saved user message all happen before the stream
      // opens, so their errors are plain JSON answers. The answer is already running: what
      // it wrote meanwhile comes first, as the relay's snapshot.
      const { userMessage, generation } = await chat.send(
        request.user.id,
        request.params.id,
        request.body,
        request.id,
      );

      reply.hijack();
      const sse = openSse(reply.raw, { 'x-request-id': request.id });
      sse.send('user_message', userMessage);
      sse.send('assistant_message', {
        messageId: generation.messageId,
        generationId: generation.id,
        model: generation.model,
      });
      // The answer goes on when the browser leaves: it is saved complete either way, and
      // GET /api/generations/:id/stream reattaches to it.
      relayGeneration(reply.raw, sse, generation);
    },
  );
};
