import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AuditPage, ListAuditQuery } from '../audit/schemas.js';
import { requestContext, requireAdmin, sessionToken } from '../auth/guard.js';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import {
  AdminUser,
  CreateUserBody,
  ResetPasswordBody,
  Settings,
  UpdateSettingsBody,
  UpdateUserBody,
  UserList,
  UserParams,
} from './schemas.js';
import type { Actor, AdminService } from './service.js';

function actor(request: FastifyRequest): Actor {
  return { ...requestContext(request), user: request.user, sessionToken: sessionToken(request) };
}

/** /api/admin/*: admins only (403 `auth.admin_only` for anyone else). */
export const adminRoutes: FastifyPluginAsyncTypebox<{ admin: AdminService }> = async (
  app,
  { admin },
) => {
  app.addHook('onRequest', requireAdmin);
  const tags = ['admin'];
  const errors = { ...errorResponses, 403: ErrorResponse };

  app.get(
    '/api/admin/users',
    { schema: { tags, summary: 'Every user', response: { 200: UserList, ...errors } } },
    async () => ({ users: await admin.listUsers() }),
  );

  app.post(
    '/api/admin/users',
    {
      schema: {
        tags,
        summary: 'Create a user (role user unless said otherwise)',
        body: CreateUserBody,
        response: { 201: AdminUser, ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await admin.createUser(actor(request), request.body)),
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        tags,
        summary: 'Change a role, disable or enable (a disabled user is signed out at once)',
        params: UserParams,
        body: UpdateUserBody,
        response: { 200: AdminUser, ...errors, 409: ErrorResponse },
      },
    },
    async (request) => admin.updateUser(actor(request), request.params.id, request.body),
  );

  app.delete(
    '/api/admin/users/:id',
    {
      schema: {
        tags,
        summary: 'Delete a user and all their data',
        params: UserParams,
        response: { 204: Type.Null(), ...errors, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      await admin.deleteUser(actor(request), request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/users/:id/password',
    {
      schema: {
        tags,
        summary: "Set a user's password; their sessions are signed out",
        params: UserParams,
        body: ResetPasswordBody,
        response: { 200: AdminUser, ...errors },
      },
    },
    async (request) =>
      admin.resetPassword(actor(request), request.params.id, request.body.password),
  );

  app.get(
    '/api/admin/settings',
    { schema: { tags, response: { 200: Settings, ...errors } } },
    async () => admin.getSettings(),
  );

  app.patch(
    '/api/admin/settings',
    {
      schema: {
        tags,
        summary: 'Open or close registration; choose the models users may use',
        body: UpdateSettingsBody,
        response: { 200: Settings, ...errors },
      },
    },
    async (request) => admin.updateSettings(actor(request), request.body),
  );

  app.get(
    '/api/admin/audit',
    {
      schema: {
        tags,
        summary: 'The audit log, newest first',
        querystring: ListAuditQuery,
        response: { 200: AuditPage, ...errors },
      },
    },
    async (request) => admin.listAudit(request.query.limit, request.query.cursor),
  );
};
