/**
 * OpenRouter's error body: `{"error":{"code":<status>,"message":"…","metadata":{…}}}`, with the
 * HTTP status equal to error.code. Messages imitate the ones OpenRouter sends for each status.
 */

export interface ErrorBody {
  error: { code: number; message: string; metadata?: Record<string, unknown> };
}

export function errorBody(
  code: number,
  message: string,
  metadata?: Record<string, unknown>,
): ErrorBody {
  return { error: metadata ? { code, message, metadata } : { code, message } };
}

/**
 * The body and headers of an error answer for a status. `retryAfter` (seconds) replaces the
 * default `Retry-After: 1` that 429 and 503 carry, and adds the header to any other status.
 */
export function scenarioError(
  status: number,
  model: string,
  provider: string,
  retryAfter: number | null = null,
): { body: ErrorBody; headers: Record<string, string> } {
  const answer = errorFor(status, model, provider);
  if (retryAfter !== null) answer.headers['retry-after'] = String(retryAfter);
  return answer;
}

function errorFor(
  status: number,
  model: string,
  provider: string,
): { body: ErrorBody; headers: Record<string, string> } {
  switch (status) {
    case 400:
      return {
        body: errorBody(400, `${model} rejected the request: the input is invalid (fake 400).`, {
          provider_name: provider,
          raw: '{"error":{"message":"fake upstream validation error"}}',
        }),
        headers: {},
      };
    case 401:
      return { body: errorBody(401, 'User not found.'), headers: {} };
    case 402:
      return {
        body: errorBody(
          402,
          'Insufficient credits. This account never purchased credits. Make sure your key is on the correct account or org, and if so, purchase more at https://openrouter.ai/settings/credits',
        ),
        headers: {},
      };
    case 403:
      return {
        body: errorBody(
          403,
          `${model} requires moderation on ${provider}. Your input was flagged for "harassment/threatening". No credits were charged.`,
          {
            reasons: ['harassment/threatening'],
            flagged_input: 'fake flagged input',
            provider_name: provider,
            model_slug: model,
          },
        ),
        headers: {},
      };
    case 408:
      return { body: errorBody(408, 'Request timed out. Please try again.'), headers: {} };
    case 429:
      return {
        body: errorBody(
          429,
          `${model} is temporarily rate-limited upstream. Please retry shortly.`,
          { provider_name: provider, raw: `${model} is temporarily rate-limited upstream.` },
        ),
        headers: { 'retry-after': '1' },
      };
    case 502:
      return {
        body: errorBody(502, 'Provider returned error: the upstream model is down (fake 502).', {
          provider_name: provider,
          raw: 'Bad Gateway',
        }),
        headers: {},
      };
    case 503:
      return {
        body: errorBody(
          503,
          'No allowed providers are available for the selected model (fake 503).',
        ),
        headers: { 'retry-after': '1' },
      };
    case 500:
      return { body: errorBody(500, 'Internal Server Error (fake 500).'), headers: {} };
    default:
      return { body: errorBody(status, `Fake upstream error with status ${status}.`), headers: {} };
  }
}
