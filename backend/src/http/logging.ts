import type { DestinationStream, LoggerOptions } from 'pino';
import type { Config } from '../config.js';

/**
 * Log fields that would carry a secret, censored wherever they appear. Fastify's own request
 * serializer logs no headers or bodies; this also covers anyone who logs them later.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'openrouterApiKey',
  '*.openrouterApiKey',
  'password',
  '*.password',
  '*.*.password',
  'passwordHash',
  '*.passwordHash',
  // Users' own OpenRouter keys (PUT /api/keys/openrouter's body) and the key that seals them.
  'req.body.key',
  'body.key',
  'secretKey',
  '*.secretKey',
  'secretKeyPrevious',
  '*.secretKeyPrevious',
];

export interface LogSettings {
  level?: Config['logLevel'];
  /** Where the JSON lines go; stdout by default. Tests pass an in-memory stream. */
  stream?: DestinationStream;
}

export function loggerOptions(settings: LogSettings): LoggerOptions & {
  stream?: DestinationStream;
} {
  return {
    level: settings.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    ...(settings.stream ? { stream: settings.stream } : {}),
  };
}
