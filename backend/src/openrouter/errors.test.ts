import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  httpFailureError,
  networkErrorCode,
  networkFailureError,
} from './errors.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('networkFailureError', () => {
  it('names the host and the cause, found deep in fetch errors', () => {
    const refused = new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(networkFailureError(refused, 'openrouter.ai', 1).message).toBe(
      'Could not connect to the model provider (openrouter.ai): connection refused.',
    );
    // Happy eyeballs: an AggregateError of one error per address.
    const aggregate = new TypeError('fetch failed', {
      cause: new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]),
    });
    expect(networkErrorCode(aggregate)).toBe('ECONNREFUSED');
    expect(networkFailureError(withCode('ENOTFOUND'), 'nowhere.test', 3).message).toBe(
      'Could not connect to the model provider (nowhere.test): host name not found. Tried 3 times.',
    );
    expect(networkFailureError(withCode('ECONNRESET'), 'h', 1).message).toBe(
      'The connection to the model provider (h) failed before it answered: connection reset.',
    );
    expect(networkFailureError(withCode('CERT_HAS_EXPIRED'), 'h', 1).message).toContain(
      'TLS certificate problem (CERT_HAS_EXPIRED)',
    );
    expect(networkFailureError(new TypeError('fetch failed'), 'h', 1).message).toBe(
      'Could not connect to the model provider (h): network error.',
    );
    expect(networkFailureError(refused, 'h', 1).code).toBe('upstream.network');
  });
});

describe('httpFailureError', () => {
  it('names the status, keeps the upstream message and says what to do', () => {
    const error = httpFailureError({
      status: 429,
      upstreamMessage: 'Slow down',
      retryAfterMs: 30_000,
      attempts: 1,
    });
    expect(error.code).toBe('upstream.rate_limited');
    expect(error.upstreamStatus).toBe(429);
    expect(error.message).toBe('Rate limited by the provider (429): Slow down. Try again in 30 s.');
    expect(
      httpFailureError({ status: 400, upstreamMessage: 'Bad?', retryAfterMs: null, attempts: 1 })
        .message,
    ).toBe('The model rejected the request (400): Bad?');
    expect(
      httpFailureError({ status: 503, upstreamMessage: null, retryAfterMs: null, attempts: 3 })
        .message,
    ).toBe(
      'No provider is available for this model (503). Tried 3 times. Try again shortly, or choose another model.',
    );
  });
});

describe('formatDuration', () => {
  it('uses ms below a second, then seconds', () => {
    expect([30, 999, 1000, 1500, 60_000, 12_345].map(formatDuration)).toEqual([
      '30 ms',
      '999 ms',
      '1 s',
      '1.5 s',
      '60 s',
      '12 s',
    ]);
  });
});
