import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** The frontend's rule too: short, printable, no spaces, so it is safe in headers and logs. */
const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

/**
 * The request's id: the caller's X-Request-Id (the frontend or nginx sets one) when it is
 * well-formed, else a new UUID. It labels every log line of the request, goes upstream with
 * the chat call, and comes back in the response's X-Request-Id.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const header = raw.headers['x-request-id'];
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID.test(value) ? value : randomUUID();
}

/** Every answer carries the id (streamed answers set it themselves, on the raw response). */
export function registerRequestIdHeader(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
}
