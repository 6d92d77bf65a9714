import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses, IdParams } from '../http/schemas.js';
import {
  Conversation,
  ConversationPage,
  ConversationWithMessages,
  CreateConversationBody,
  ListConversationsQuery,
  UpdateConversationBody,
} from './schemas.js';
import type { ConversationsService } from './service.js';

export const conversationRoutes: FastifyPluginAsyncTypebox<{
  conversations: ConversationsService;
}> = async (app, { conversations }) => {
  const tags = ['conversations'];

  app.post(
    '/api/conversations',
    {
      schema: {
        tags,
        body: CreateConversationBody,
        response: { 201: Conversation, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await conversations.create(request.user.id, request.body)),
  );

  app.get(
    '/api/conversations',
    {
      schema: {
        tags,
        summary: 'List conversations: pinned first, then newest activity first (keyset pages)',
        querystring: ListConversationsQuery,
        response: { 200: ConversationPage, ...errorResponses },
      },
    },
    async (request) => conversations.list(request.user.id, request.query),
  );

  app.get(
    '/api/conversations/:id',
    {
      schema: {
        tags,
        params: IdParams,
        response: { 200: ConversationWithMessages, ...errorResponses },
      },
    },
    async (request) => conversations.getWithMessages(request.user.id, request.params.id),
  );

  app.patch(
    '/api/conversations/:id',
    {
      schema: {
        tags,
        summary: 'Rename, pin, archive, file in a folder, or change the model',
        params: IdParams,
        body: UpdateConversationBody,
        response: { 200: Conversation, ...errorResponses },
      },
    },
    async (request) => conversations.update(request.user.id, request.params.id, request.body),
  );

  app.delete(
    '/api/conversations/:id',
    { schema: { tags, params: IdParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await conversations.remove(request.user.id, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
