import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** Methods that never change anything here (RFC 9110 section 9.2.1: safe methods). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Sec-Fetch-Site values of a request the page's own origin made, or the user typed. */
const SAME_ORIGIN_SITES = new Set(['same-origin', 'none']);

export interface SameOriginOptions {
  /**
   * Origins accepted besides the request's own (the public URL of the app, APP_URL): for a
   * proxy that rewrites Host without sending X-Forwarded-Host.
   */
  allowedOrigins: string[];
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `scheme://host[:port]` of a URL, lower-cased, default ports dropped; null if it is none. */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    return parsed.origin;
  } catch {
    return null;
  }
}

/**
 * Why a state-changing request is refused as cross-origin, or null when it may go on.
 *
 * The rule (the one Go's net/http CrossOriginProtection and Rails apply, with the Origin
 * checked first as the issue asks):
 * 1. GET, HEAD and OPTIONS always pass: they change nothing.
 * 2. An `Origin` header must be the request's own origin (the protocol and Host, or
 *    X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy) or one of `allowedOrigins`.
 *    `Origin: null` (a sandboxed frame, a redirect across origins, a data: URL) is refused.
 * 3. Without an Origin, a browser's `Sec-Fetch-Site` must be `same-origin` or `none`.
 * 4. Without either, a `Referer` must have one of the accepted origins.
 * 5. With none of the three, the request did not come from a browser (curl, the ops CLI,
 *    the tests): no cookie was sent by a browser on someone else's behalf, so it passes.
 */
export function crossOriginReason(
  request: FastifyRequest,
  options: SameOriginOptions,
): string | null {
  if (SAFE_METHODS.has(request.method)) return null;
  const own = originOf(`${request.protocol}://${request.host}`);
  const accepted = (origin: string | null) =>
    origin !== null && (origin === own || options.allowedOrigins.includes(origin));

  const origin = header(request, 'origin');
  if (origin !== undefined) {
    return accepted(originOf(origin)) ? null : 'origin';
  }
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined) {
    return SAME_ORIGIN_SITES.has(site.trim().toLowerCase()) ? null : 'sec-fetch-site';
  }
  const referer = header(request, 'referer');
  if (referer !== undefined) {
    return accepted(originOf(referer)) ? null : 'referer';
  }
  return null;
}

/**
 * Refuses state-changing requests that a browser sent from another origin (CSRF), with 403
 * `request.cross_origin`, before authentication, body parsing or any route runs: nothing
 * changes. The session cookie's SameSite=Lax is the first line; this is the second, and it
 * also covers what SameSite does not (a sibling subdomain is "same-site", and sign-in needs
 * no cookie at all).
 */
export function registerSameOriginGuard(app: FastifyInstance, options: SameOriginOptions): void {
  app.addHook('onRequest', async (request) => {
    const reason = crossOriginReason(request, options);
    if (reason === null) return;
    request.log.warn(
      {
        reason,
        method: request.method,
        url: request.url.split('?')[0],
        origin: header(request, 'origin'),
        secFetchSite: header(request, 'sec-fetch-site'),
      },
      'cross-origin request refused',
    );
    throw new AppError('request.cross_origin');
  });
}
