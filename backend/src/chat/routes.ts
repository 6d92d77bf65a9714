import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, ErrorResponse, IdParams } from '../http/schemas.js';
import { openSse } from '../http/sse.js';
import { SendMessageBody, StreamDescription } from './schemas.js';
import type { ChatService } from './service.js';

/** Keeps idle proxies from closing a stream while the model thinks (SSE comments are ignored by clients). */
const HEARTBEAT_MS = 15_000;

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
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      // Validation, ownership and the saved user message all happen before the stream
      // opens, so their errors are plain JSON answers.
      const { userMessage, generation } = await chat.send(
        request.user.id,
        request.params.id,
        request.body,
      );

      reply.hijack();
      const sse = openSse(reply.raw, { 'x-request-id': request.id });
      sse.send('user_message', userMessage);
      sse.send('assistant_message', {
        messageId: generation.messageId,
        generationId: generation.id,
        model: generation.model,
      });
      const heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
      const unsubscribe = generation.subscribe((event) => {
        sse.send(event.event, event.data);
        if (event.event === 'done' || event.event === 'error') end();
      });
      function end() {
        clearInterval(heartbeat);
        unsubscribe();
        sse.close();
      }
      // The answer goes on when the browser leaves: it is saved complete either way.
      reply.raw.on('close', end);
      generation.start(request.id);
    },
  );
};
