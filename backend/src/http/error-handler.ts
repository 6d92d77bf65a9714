import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, errorCatalog, type ErrorCode } from '../errors.js';

/** Maps every error to `{ error: { code, message } }`, in this one place. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { code, message } = describe(error);
    const entry = errorCatalog[code];
    const status = error instanceof AppError ? error.status : entry.status;
    if (entry.level === 'error') request.log.error({ err: error }, message);
    else request.log[entry.level]({ code, status }, message);
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

function describe(error: FastifyError): { code: ErrorCode; message: string } {
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
