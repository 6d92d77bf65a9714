import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses, IdParams } from '../http/schemas.js';
import { CreatePresetBody, Preset, PresetList, UpdatePresetBody } from './schemas.js';
import type { PresetsService } from './service.js';

export const presetRoutes: FastifyPluginAsyncTypebox<{ presets: PresetsService }> = async (
  app,
  { presets },
) => {
  const tags = ['presets'];

  app.get(
    '/api/presets',
    {
      schema: {
        tags,
        summary: 'Your presets: a model, system prompt and parameters under a name',
        response: { 200: PresetList, ...errorResponses },
      },
    },
    async (request) => ({ presets: await presets.list(request.user.id) }),
  );

  app.post(
    '/api/presets',
    {
      schema: {
        tags,
        summary: 'Save a preset (names are unique per user, regardless of case)',
        body: CreatePresetBody,
        response: { 201: Preset, ...errorResponses, 409: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await presets.create(request.user.id, request.body)),
  );

  app.patch(
    '/api/presets/:id',
    {
      schema: {
        tags,
        summary: 'Rename a preset or change its model, system prompt or parameters',
        params: IdParams,
        body: UpdatePresetBody,
        response: { 200: Preset, ...errorResponses, 409: ErrorResponse },
      },
    },
    async (request) => presets.update(request.user.id, request.params.id, request.body),
  );

  app.delete(
    '/api/presets/:id',
    {
      schema: {
        tags,
        summary: 'Delete a preset; conversations started from it keep their settings',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await presets.remove(request.user.id, request.params.id);
      return reply.status(204).send(null);
    },
  );
};
