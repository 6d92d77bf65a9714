import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';

/**
 * JSON bodies must be UTF-8 (RFC 8259, section 8.1). Fastify's own parser decodes bytes
 * that are not UTF-8 into U+FFFD and carries on, so a title sent in Latin-1 would be saved
 * with replacement characters; this one refuses such a body with a 400 instead, then
 * parses as Fastify does (prototype-poisoning checks included).
 */
export function registerUtf8JsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? 'error',
    app.initialConfig.onConstructorPoisoning ?? 'error',
  );
  // A leading BOM stays in the text: Fastify's parser skips it as before.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decoder.decode(body as Buffer);
    } catch {
      done(new AppError('request.invalid', 'The body is not valid UTF-8.'), undefined);
      return;
    }
    parse(request, text, done);
  });
}
