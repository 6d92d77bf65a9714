import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { AuthService, AuthUser, RequestContext } from './service.js';

/**
 * The session cookie's name. Over HTTPS it carries the `__Host-` prefix, which browsers
 * accept only with Secure, Path=/ and no Domain, so no subdomain or plain-HTTP page can set
 * or shadow it (RFC 6265bis, section 4.1.3.2). Plain HTTP (local development) cannot use the
 * prefix and keeps the bare name.
 */
export const SESSION_COOKIE = 'ai_session';
export const SECURE_SESSION_COOKIE = '__Host-ai_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user; set on every route not marked `config: { public: true }`. */
    user: AuthUser;
    /** The current session's public id, on the same routes. */
    sessionId: string;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

/** Behind nginx the protocol comes from X-Forwarded-Proto (trusted proxies only). */
function cookieName(request: FastifyRequest): string {
  return request.protocol === 'https' ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** The session token the request carries, under the cookie name of its protocol. */
export function sessionToken(request: FastifyRequest): string | undefined {
  return request.cookies[cookieName(request)] || undefined;
}

/** The client's address and user agent, as the audit log and rate limits want them. */
export function requestContext(request: FastifyRequest): RequestContext {
  return { ip: request.ip || null, userAgent: request.headers['user-agent'] ?? null };
}

/** Every /api route needs a session unless it opts out with `config: { public: true }`. */
export function registerAuthGuard(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('user', null as unknown as AuthUser);
  app.decorateRequest('sessionId', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config.public || !request.routeOptions.url) return;
    const token = sessionToken(request);
    const session = token ? await auth.authenticate(token) : null;
    if (!session) throw new AppError('auth.unauthenticated');
    request.user = session.user;
    request.sessionId = session.sessionId;
  });
}

/** For routes of admins only; register after the guard (it reads request.user). */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  if (request.user.role !== 'admin') throw new AppError('auth.admin_only');
}

export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  maxAgeSeconds: number,
): void {
  reply.setCookie(cookieName(request), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = request.protocol === 'https';
  reply.clearCookie(cookieName(request), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}
