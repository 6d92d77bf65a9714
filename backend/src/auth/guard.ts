import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { AuthService, AuthUser } from './service.js';

export const SESSION_COOKIE = 'ai_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user; set on every route not marked `config: { public: true }`. */
    user: AuthUser;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

/** Every /api route needs a session unless it opts out with `config: { public: true }`. */
export function registerAuthGuard(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('user', null as unknown as AuthUser);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config.public || !request.routeOptions.url) return;
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await auth.authenticate(token) : null;
    if (!user) throw new AppError('auth.unauthenticated');
    request.user = user;
  });
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
): void {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    // Behind nginx the protocol comes from X-Forwarded-Proto (trusted proxies only).
    secure: request.protocol === 'https',
    maxAge: 30 * 24 * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
