import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses, IdParams } from '../http/schemas.js';
import { Folder, FolderBody, FolderList } from './schemas.js';
import type { FoldersService } from './service.js';

export const folderRoutes: FastifyPluginAsyncTypebox<{ folders: FoldersService }> = async (
  app,
  { folders },
) => {
  const tags = ['folders'];

  app.get(
    '/api/folders',
    { schema: { tags, response: { 200: FolderList, ...errorResponses } } },
    async (request) => ({ folders: await folders.list(request.user.id) }),
  );

  app.post(
    '/api/folders',
    {
      schema: {
        tags,
        body: FolderBody,
        response: { 201: Folder, ...errorResponses, 409: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await folders.create(request.user.id, request.body.name)),
  );

  app.patch(
    '/api/folders/:id',
    {
      schema: {
        tags,
        params: IdParams,
        body: FolderBody,
        response: { 200: Folder, ...errorResponses },
      },
    },
    async (request) => folders.rename(request.user.id, request.params.id, request.body.name),
  );

  app.delete(
    '/api/folders/:id',
    {
      schema: {
        tags,
        summary: 'Delete a folder; its conversations stay, out of any folder',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await folders.remove(request.user.id, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
