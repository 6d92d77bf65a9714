/**
 * Upstream failures as AppErrors whose message names the cause: what happened (with the HTTP
 * status and the upstream's own message, which OpenRouter writes for its users), and what to
 * do when that is obvious. The codes stay those of errors.ts; only the wording is built here.
 */
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

/** What an HTTP status means to the user, the first words of the message. */
function statusCause(status: number): string {
  switch (status) {
    case 400:
      return 'The model rejected the request';
    case 401:
      return 'The model provider rejected the API key';
    case 402:
      return 'The OpenRouter account has insufficient credits';
    case 403:
      return 'The input was flagged by moderation';
    case 404:
      return 'The model provider did not find the model or route';
    case 408:
      return 'The model provider timed out';
    case 429:
      return 'Rate limited by the provider';
    case 500:
      return 'The model provider had an internal error';
    case 502:
      return 'The model provider is unavailable';
    case 503:
      return 'No provider is available for this model';
    case 504:
      return 'The model provider timed out';
    default:
      return status >= 500 ? 'The model provider failed' : 'The model provider refused the request';
  }
}

/** Whose key a request carried: the server's (OPENROUTER_API_KEY) or a user's own. */
export type KeyOwner = 'server' | 'user';

/** What to do about a status, when there is something obvious. */
function statusAdvice(status: number, keyOwner: KeyOwner): string | null {
  switch (status) {
    case 401:
      return keyOwner === 'user'
        ? 'Check your OpenRouter key on your Account page.'
        : 'Check OPENROUTER_API_KEY on the backend.';
    case 402:
      return 'Add credits to the OpenRouter account.';
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return 'Try again shortly, or choose another model.';
    default:
      return null;
  }
}

export interface HttpFailure {
  status: number;
  /** The upstream's own message (key removed), when its body had one. */
  upstreamMessage: string | null;
  /** The wait asked for by Retry-After, in ms. */
  retryAfterMs: number | null;
  /** Requests made, retries included. */
  attempts: number;
  /** Default: the server's. */
  keyOwner?: KeyOwner;
}

/** e.g. "Rate limited by the provider (429): <upstream message>. Try again in 30 s." */
export function httpFailureError(failure: HttpFailure): AppError {
  const { status, upstreamMessage, retryAfterMs, attempts } = failure;
  const parts = [
    sentence(`${statusCause(status)} (${status})${upstreamMessage ? `: ${upstreamMessage}` : ''}`),
  ];
  if (attempts > 1) parts.push(`Tried ${attempts} times.`);
  if (retryAfterMs !== null && retryAfterMs > 0) {
    parts.push(`Try again in ${formatDuration(retryAfterMs)}.`);
  } else {
    const advice = statusAdvice(status, failure.keyOwner ?? 'server');
    if (advice) parts.push(advice);
  }
  return new AppError(upstreamErrorCode(status), parts.join(' '), { upstreamStatus: status });
}

/** Node's error codes of a failed connection, as words; undefined for unknown codes. */
const networkReasons: Record<string, { reason: string; connecting: boolean }> = {
  ECONNREFUSED: { reason: 'connection refused', connecting: true },
  ENOTFOUND: { reason: 'host name not found', connecting: true },
  EAI_AGAIN: { reason: 'DNS lookup failed', connecting: true },
  ETIMEDOUT: { reason: 'connection timed out', connecting: true },
  UND_ERR_CONNECT_TIMEOUT: { reason: 'connection timed out', connecting: true },
  EHOSTUNREACH: { reason: 'host unreachable', connecting: true },
  ENETUNREACH: { reason: 'network unreachable', connecting: true },
  ECONNRESET: { reason: 'connection reset', connecting: false },
  EPIPE: { reason: 'connection closed', connecting: false },
  UND_ERR_SOCKET: { reason: 'connection closed', connecting: false },
};

/** The first Node/undici error code found in an error's cause chain (fetch nests them). */
export function networkErrorCode(error: unknown): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors } = current as {
      code?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string' && code !== '' && code !== 'ABORT_ERR') return code;
    queue.push(cause);
    if (Array.isArray(errors)) queue.push(...(errors as unknown[]));
  }
  return null;
}

/** "Could not connect to the model provider (<host>): connection refused." and the like. */
export function networkFailureError(error: unknown, host: string, attempts: number): AppError {
  const code = networkErrorCode(error);
  const known = code === null ? undefined : networkReasons[code];
  const tls = code !== null && /CERT|TLS|SSL|SELF_SIGNED/.test(code);
  const reason =
    known?.reason ?? (tls ? `TLS certificate problem (${code})` : (code ?? 'network error'));
  const connecting = known?.connecting ?? true;
  const first = connecting
    ? `Could not connect to the model provider (${host}): ${reason}.`
    : `The connection to the model provider (${host}) failed before it answered: ${reason}.`;
  const retried = attempts > 1 ? ` Tried ${attempts} times.` : '';
  return new AppError('upstream.network', `${first}${retried}`, { cause: error });
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

/** A numeric HTTP-like `error.code` (400–599) of a JSON body `{ "error": { … } }`, or null. */
export function errorBodyStatus(text: string): number | null {
  try {
    const body: unknown = JSON.parse(text);
    const code = isRecord(body) && isRecord(body.error) ? body.error.code : null;
    return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code < 600
      ? code
      : null;
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
  keyOwner: KeyOwner = 'server',
): AppError {
  const message = errorBodyMessage(bodyText);
  return httpFailureError({
    status,
    upstreamMessage: message === null ? null : redact(message, secret),
    retryAfterMs: null,
    attempts: 1,
    keyOwner,
  });
}

/** Ends a clause with a full stop unless it already ends a sentence. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** 30 ms, 2 s, 1.5 s: whole seconds from 10 s on. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return seconds >= 10 || Number.isInteger(seconds)
    ? `${Math.round(seconds)} s`
    : `${seconds.toFixed(1)} s`;
}
