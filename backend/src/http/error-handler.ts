import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorCatalog, type ErrorCode } from '../errors.js';
import { API_SECURITY_HEADERS } from './security-headers.js';

/** Maps every error to `{ error: { code, message } }`, in this one place. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, message } = describeError(error);
    const entry = errorCatalog[code];
    const status = error instanceof AppError ? error.status : entry.status;
    if (entry.level === 'error') request.log.error({ err: error }, message);
    else request.log[entry.level]({ code, status }, message);
    if (error instanceof AppError && error.retryAfterSeconds !== undefined) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
    }
    return reply.status(status).send({ error: { code, message } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'request.not_found',
        message: `No route for ${request.method} ${request.url.split('?')[0]}.`,
      },
    }),
  );
}

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`): a
 * malformed percent-encoding in the URL, a path parameter over the router's length limit.
 * Without this Fastify answers them in its own shape; they get ours, and the request id.
 */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path parameter is too long.'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The URL is not valid: check its percent-encoding.'
        : errorCatalog['request.invalid'].message;
  request.log.info({ code: 'request.invalid', frameworkCode: error.code }, message);
  void reply
    .status(400)
    .header('x-request-id', request.id)
    .headers(API_SECURITY_HEADERS)
    .send({ error: { code: 'request.invalid' satisfies ErrorCode, message } });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (Fastify's `clientErrorHandler`):
 * headers or a request line past the 16 KB limit, malformed HTTP, a request that takes too
 * long to arrive. Answered in our shape on the raw socket, which is then closed, as Fastify's
 * own handler does with its shape.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'request.headers_too_large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request.timeout'
        : 'request.invalid';
  const message =
    code === 'request.invalid' ? 'The request is not valid HTTP.' : errorCatalog[code].message;
  const { status } = errorCatalog[code];
  this.log.info({ code, clientError: error.code }, message);
  if (socket.writable) {
    const body = JSON.stringify({ error: { code, message } });
    const security = Object.entries(API_SECURITY_HEADERS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\n${security}` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** An error's code and safe message, as every error answer carries them. */
export function describeError(error: FastifyError): { code: ErrorCode; message: string } {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return { code: 'request.invalid', message: `Invalid ${where}: ${validationText(error)}` };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'request.too_large', message: errorCatalog['request.too_large'].message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: 'request.unsupported_media_type',
        message: errorCatalog['request.unsupported_media_type'].message,
      };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'request.invalid', message: 'The JSON body is empty.' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { code: 'request.invalid', message: 'The body is not valid JSON.' };
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: 'request.invalid', message: error.message };
  }
  return { code: 'internal', message: errorCatalog.internal.message };
}

function validationText(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const field = first.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : '';
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  const name = missing ?? field;
  return name ? `${name} ${first.message ?? 'is invalid'}` : (first.message ?? error.message);
}
