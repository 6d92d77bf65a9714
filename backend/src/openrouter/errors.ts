import { AppError, type ErrorCode } from '../errors.js';

/** Maps an upstream HTTP status to our error code (see OpenRouter's documented error codes). */
export function upstreamErrorCode(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'upstream.bad_request';
    case 401:
      return 'upstream.unauthorized';
    case 402:
      return 'upstream.insufficient_credits';
    case 403:
      return 'upstream.moderation';
    case 408:
      return 'upstream.timeout';
    case 429:
      return 'upstream.rate_limited';
    case 502:
      return 'upstream.unavailable';
    case 503:
      return 'upstream.no_provider';
    default:
      return status >= 500 ? 'upstream.unavailable' : 'upstream.bad_request';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `error.message` of an OpenRouter error object (`{ code, message, metadata? }`), if any. */
export function errorObjectMessage(error: unknown): string | null {
  if (!isRecord(error)) return null;
  const { message } = error;
  return typeof message === 'string' && message.trim() !== '' ? message.trim() : null;
}

/** The message of an OpenRouter error body `{"error":{"code":…,"message":"…"}}`, if it is one. */
export function errorBodyMessage(text: string): string | null {
  try {
    const body: unknown = JSON.parse(text);
    return isRecord(body) ? errorObjectMessage(body.error) : null;
  } catch {
    return null;
  }
}

/** Removes a secret from a message that came from elsewhere (belt and braces). */
export function redact(message: string, secret: string | undefined): string {
  return secret ? message.split(secret).join('[redacted]') : message;
}

/** The AppError for a non-2xx upstream answer, keeping the upstream's own message. */
export function upstreamHttpError(
  status: number,
  bodyText: string,
  secret: string | undefined,
): AppError {
  const message = errorBodyMessage(bodyText);
  return new AppError(
    upstreamErrorCode(status),
    message === null ? undefined : redact(message, secret),
    { upstreamStatus: status },
  );
}
