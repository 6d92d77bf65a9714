import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { errorResponses, ErrorResponse, IdParams } from '../http/schemas.js';
import { describeError } from '../http/error-handler.js';
import { openSse } from '../http/sse.js';
import { relayGeneration, relayGenerations, type Confirmation } from './relay.js';
import {
  AnswerStreamDescription,
  ChooseAnswerBody,
  ChooseAnswerResponse,
  CompareBody,
  CompareStreamDescription,
  ComparisonParams,
  DeletedMessages,
  MessageParams,
  RegenerateBody,
  SendMessageBody,
  StopComparisonResponse,
  StreamDescription,
  TemporaryChatBody,
  TemporaryStreamDescription,
} from './schemas.js';
import type { Generation } from './generation.js';
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
      // Validation, ownership, the model and the admission gate come before the stream
      // opens, so their errors are plain JSON answers. The stream opens as soon as the answer
      // runs, while the question commits (the first token never waits for a commit); the
      // saved question (`user_message`) follows once committed, always before the answer's
      // end. Should the commit fail, the stream ends with its error and nothing was kept.
      let started = false;
      let settle: (word: Confirmation) => void = () => undefined;
      const confirmation = new Promise<Confirmation>((resolve) => (settle = resolve));
      try {
        const { userMessage } = await chat.send(
          request.user.id,
          request.params.id,
          request.body,
          request.id,
          (generation) => {
            started = true;
            streamAnswer(reply, request.id, generation, confirmation);
          },
        );
        settle({ event: 'user_message', data: userMessage });
      } catch (error) {
        if (!started) throw error;
        request.log.error({ err: error }, 'the question could not be saved');
        settle({ event: 'error', data: describeError(error as FastifyError) });
      }
    },
  );

  const answerResponses = {
    200: {
      description: AnswerStreamDescription,
      content: { 'text/event-stream': { schema: Type.String() } },
    },
    ...errorResponses,
    402: ErrorResponse,
    403: ErrorResponse,
    409: ErrorResponse,
    429: ErrorResponse,
    503: ErrorResponse,
  };

  app.post(
    '/api/conversations/:id/messages/:messageId/regenerate',
    {
      schema: {
        tags: ['chat'],
        summary: 'Answer a question again (a new branch) and stream the new answer',
        params: MessageParams,
        body: RegenerateBody,
        response: answerResponses,
      },
    },
    async (request, reply) => {
      const { id, messageId } = request.params;
      const generation = await chat.regenerate(
        request.user.id,
        id,
        messageId,
        request.body,
        request.id,
      );
      streamAnswer(reply, request.id, generation);
    },
  );

  app.post(
    '/api/conversations/:id/messages/:messageId/continue',
    {
      schema: {
        tags: ['chat'],
        summary:
          'Continue an answer that ended early (e.g. at the token limit) and stream the rest',
        params: MessageParams,
        response: answerResponses,
      },
    },
    async (request, reply) => {
      const { id, messageId } = request.params;
      const generation = await chat.continueAnswer(request.user.id, id, messageId, request.id);
      streamAnswer(reply, request.id, generation);
    },
  );

  app.post(
    '/api/conversations/:id/compare',
    {
      schema: {
        tags: ['chat'],
        summary: 'Send one question to 2 to 4 models at once and stream their answers side by side',
        params: IdParams,
        body: CompareBody,
        response: {
          200: {
            description: CompareStreamDescription,
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          ...errorResponses,
          402: ErrorResponse,
          403: ErrorResponse,
          409: ErrorResponse,
          429: ErrorResponse,
          503: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      // As for a send: everything is checked and the question and answers are saved before
      // the stream opens. One stream carries every answer (a browser holds few connections
      // per host; N streams would take most of them), each event tagged with its answer.
      const turn = await chat.compare(request.user.id, request.params.id, request.body, request.id);
      reply.hijack();
      const sse = openSse(reply.raw, { 'x-request-id': request.id });
      sse.send('user_message', turn.userMessage);
      const answers = turn.generations.map((g) => ({
        messageId: g.messageId,
        generationId: g.id,
        model: g.model,
      }));
      sse.send('comparison', {
        id: turn.comparisonId,
        questionId: turn.userMessage.id,
        answers,
      });
      for (const answer of answers) sse.send('assistant_message', answer);
      relayGenerations(reply.raw, sse, turn.generations, { tagged: true });
    },
  );

  app.post(
    '/api/conversations/:id/comparisons/:comparisonId/choose',
    {
      schema: {
        tags: ['chat'],
        summary: "Choose the comparison's answer to continue the conversation with",
        params: ComparisonParams,
        body: ChooseAnswerBody,
        response: { 200: ChooseAnswerResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { id, comparisonId } = request.params;
      return chat.chooseAnswer(request.user.id, id, comparisonId, request.body.messageId);
    },
  );

  app.post(
    '/api/conversations/:id/comparisons/:comparisonId/stop',
    {
      schema: {
        tags: ['chat'],
        summary: 'Stop every answer of a comparison still being written, keeping what was written',
        params: ComparisonParams,
        response: { 200: StopComparisonResponse, ...errorResponses },
      },
    },
    async (request) => {
      const { id, comparisonId } = request.params;
      return { stopped: await chat.stopComparison(request.user.id, id, comparisonId) };
    },
  );

  app.delete(
    '/api/conversations/:id/messages/:messageId',
    {
      schema: {
        tags: ['chat'],
        summary: 'Delete a message and every reply below it',
        params: MessageParams,
        response: { 200: DeletedMessages, ...errorResponses },
      },
    },
    async (request) => {
      const { id, messageId } = request.params;
      return { deleted: await chat.deleteMessage(request.user.id, id, messageId) };
    },
  );

  app.post(
    '/api/chat/temporary',
    {
      schema: {
        tags: ['chat'],
        summary: 'A temporary chat: stream an answer to the history sent, storing none of it',
        body: TemporaryChatBody,
        response: {
          ...answerResponses,
          200: {
            description: TemporaryStreamDescription,
            content: { 'text/event-stream': { schema: Type.String() } },
          },
          413: ErrorResponse, // request.too_large: the history past the body limit
        },
      },
    },
    async (request, reply) => {
      const generation = await chat.sendTemporary(request.user.id, request.body, request.id);
      streamAnswer(reply, request.id, generation);
    },
  );
};

/**
 * Opens the answer's stream. A conversation's answer goes on when the browser leaves: it is
 * saved complete either way, and GET /api/generations/:id/stream reattaches to it. A temporary
 * chat's answer has this stream as its only reader (nothing is kept to reattach to or reload):
 * once the client has gone, the upstream call is stopped rather than paid for.
 */
function streamAnswer(
  reply: FastifyReply,
  requestId: string,
  generation: Generation,
  confirmation?: Promise<Confirmation>,
): void {
  reply.hijack();
  const res = reply.raw;
  const sse = openSse(res, { 'x-request-id': requestId });
  sse.send('assistant_message', {
    messageId: generation.messageId,
    generationId: generation.id,
    model: generation.model,
  });
  if (generation.temporary) {
    const stopUnread = (): void => {
      if (generation.running) generation.abort('stop');
    };
    res.on('close', stopUnread);
    if (res.destroyed) stopUnread();
  }
  relayGeneration(res, sse, generation, confirmation);
}
