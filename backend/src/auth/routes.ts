import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse, errorResponses } from '../http/schemas.js';
import {
  AuthState,
  ChangePasswordBody,
  Credentials,
  SessionList,
  SessionParams,
  SessionsRevoked,
  UserResponse,
} from './schemas.js';
import type { AuthService } from './service.js';
import { clearSessionCookie, requestContext, sessionToken, setSessionCookie } from './guard.js';

export const authRoutes: FastifyPluginAsyncTypebox<{
  auth: AuthService;
  /** The cookie's Max-Age: the sessions' absolute lifetime. */
  sessionMaxAgeSeconds: number;
}> = async (app, { auth, sessionMaxAgeSeconds }) => {
  const tags = ['auth'];
  const limited = { 429: ErrorResponse };

  app.get(
    '/api/auth/state',
    { config: { public: true }, schema: { tags, response: { 200: AuthState } } },
    async () => auth.state(),
  );

  app.post(
    '/api/auth/setup',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Create the first account, an admin (only while there is no user)',
        body: Credentials,
        response: { 201: UserResponse, 400: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user, token } = await auth.setup(username, password, requestContext(request));
      setSessionCookie(request, reply, token, sessionMaxAgeSeconds);
      return reply.status(201).send({ user });
    },
  );

  app.post(
    '/api/auth/register',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Create an account (a user) when an admin has opened registration',
        body: Credentials,
        response: {
          201: UserResponse,
          400: ErrorResponse,
          403: ErrorResponse,
          409: ErrorResponse,
          ...limited,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user, token } = await auth.register(username, password, requestContext(request));
      setSessionCookie(request, reply, token, sessionMaxAgeSeconds);
      return reply.status(201).send({ user });
    },
  );

  app.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in; a session cookie sent along is revoked and a new one issued',
        body: Credentials,
        response: {
          200: UserResponse,
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
          ...limited,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const { user, token } = await auth.login(username, password, {
        ...requestContext(request),
        presentedToken: sessionToken(request),
      });
      setSessionCookie(request, reply, token, sessionMaxAgeSeconds);
      return { user };
    },
  );

  app.post(
    '/api/auth/logout',
    { config: { public: true }, schema: { tags, response: { 204: Type.Null() } } },
    async (request, reply) => {
      const token = sessionToken(request);
      if (token) await auth.logout(token, requestContext(request));
      clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/auth/me',
    { schema: { tags, response: { 200: UserResponse, 401: ErrorResponse } } },
    async (request) => ({ user: request.user }),
  );

  app.post(
    '/api/auth/password',
    {
      schema: {
        tags,
        summary: 'Change your password; your other sessions are signed out',
        body: ChangePasswordBody,
        response: { 200: SessionsRevoked, ...errorResponses, 403: ErrorResponse, ...limited },
      },
    },
    async (request) =>
      auth.changePassword(
        request.user.id,
        sessionToken(request) ?? '',
        request.body.currentPassword,
        request.body.newPassword,
        requestContext(request),
      ),
  );

  app.get(
    '/api/auth/sessions',
    {
      schema: {
        tags,
        summary: 'Your sessions, most recently used first',
        response: { 200: SessionList, 401: ErrorResponse },
      },
    },
    async (request) => ({ sessions: await auth.listSessions(request.user.id, request.sessionId) }),
  );

  app.delete(
    '/api/auth/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Revoke one of your sessions (this one signs you out)',
        params: SessionParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await auth.revokeSession(request.user.id, request.params.id, requestContext(request));
      if (request.params.id === request.sessionId) clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/auth/logout-all',
    {
      schema: {
        tags,
        summary: 'Sign out of every session, this one included',
        response: { 200: SessionsRevoked, 401: ErrorResponse },
      },
    },
    async (request, reply) => {
      const sessionsRevoked = await auth.signOutEverywhere(
        request.user.id,
        requestContext(request),
      );
      clearSessionCookie(request, reply);
      return { sessionsRevoked };
    },
  );
};
