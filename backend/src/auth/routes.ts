import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '../http/schemas.js';
import { AuthState, Credentials, UserResponse } from './schemas.js';
import type { AuthService } from './service.js';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './guard.js';

export const authRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService }> = async (
  app,
  { auth },
) => {
  const tags = ['auth'];

  app.get(
    '/api/auth/state',
    { config: { public: true }, schema: { tags, response: { 200: AuthState } } },
    async () => ({ needsSetup: await auth.needsSetup() }),
  );

  app.post(
    '/api/auth/setup',
    {
      config: { public: true },
      schema: {
        tags,
        body: Credentials,
        response: { 201: UserResponse, 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user, token } = await auth.setup(
        username,
        password,
        request.headers['user-agent'] ?? null,
      );
      setSessionCookie(request, reply, token);
      return reply.status(201).send({ user });
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags,
        body: Credentials,
        response: { 200: UserResponse, 400: ErrorResponse, 401: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user, token } = await auth.login(
        username,
        password,
        request.headers['user-agent'] ?? null,
      );
      setSessionCookie(request, reply, token);
      return { user };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { public: true }, schema: { tags, response: { 204: Type.Null() } } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await auth.logout(token);
      clearSessionCookie(reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags, response: { 200: UserResponse, 401: ErrorResponse } } },
    async (request) => ({ user: request.user }),
  );
};
