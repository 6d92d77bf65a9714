/**
 * Typed application errors. Code raises `new AppError('conversation.not_found')`;
 * `errorCatalog` maps each code, in this one place, to an HTTP status, a safe default
 * message and a log level. Upstream errors keep the upstream's own message, which is
 * safe to show (it is what OpenRouter tells its own users).
 */
export const errorCatalog = {
  'request.invalid': { status: 400, message: 'The request is invalid.', level: 'info' },
  'request.not_found': { status: 404, message: 'No such route.', level: 'info' },
  'request.too_large': { status: 413, message: 'The request body is too large.', level: 'info' },
  'request.headers_too_large': {
    status: 431,
    message: 'The request line or headers are too large.',
    level: 'info',
  },
  'request.timeout': {
    status: 408,
    message: 'The request took too long to arrive.',
    level: 'info',
  },
  'request.unsupported_media_type': {
    status: 415,
    message: 'The request body must be JSON.',
    level: 'info',
  },
  'request.cross_origin': {
    status: 403,
    message: 'This request came from another site: it is refused.',
    level: 'info',
  },
  'auth.unauthenticated': { status: 401, message: 'Sign in first.', level: 'info' },
  'auth.invalid_credentials': {
    status: 401,
    message: 'Wrong username or password.',
    level: 'info',
  },
  'auth.setup_done': {
    status: 409,
    message: 'Setup is already done: sign in instead.',
    level: 'info',
  },
  'auth.rate_limited': {
    status: 429,
    message: 'Too many failed attempts: wait a moment before trying again.',
    level: 'warn',
  },
  'auth.account_disabled': {
    status: 403,
    message: 'This account is disabled: ask an administrator.',
    level: 'info',
  },
  'auth.admin_only': {
    status: 403,
    message: 'Only an administrator can do this.',
    level: 'warn',
  },
  'auth.registration_closed': {
    status: 403,
    message: 'Registration is closed: ask an administrator for an account.',
    level: 'info',
  },
  'auth.wrong_password': {
    status: 403,
    message: 'The current password is wrong.',
    level: 'info',
  },
  'session.not_found': { status: 404, message: 'Session not found.', level: 'info' },
  'password.too_short': {
    status: 400,
    message: 'The password must have at least 8 characters.',
    level: 'info',
  },
  'password.too_long': {
    status: 400,
    message: 'The password must have at most 256 characters.',
    level: 'info',
  },
  'password.common': {
    status: 400,
    message: 'This password is one of the most common ones: choose another.',
    level: 'info',
  },
  'password.same_as_username': {
    status: 400,
    message: 'The password must not be the username.',
    level: 'info',
  },
  'conversation.not_found': { status: 404, message: 'Conversation not found.', level: 'info' },
  'message.not_found': { status: 404, message: 'Message not found.', level: 'info' },
  'folder.not_found': { status: 404, message: 'Folder not found.', level: 'info' },
  'folder.limit': {
    status: 409,
    message: 'You have the most folders allowed (200): delete one first.',
    level: 'info',
  },
  'preset.not_found': { status: 404, message: 'Preset not found.', level: 'info' },
  'preset.name_taken': {
    status: 409,
    message: 'You already have a preset with this name: choose another.',
    level: 'info',
  },
  'preset.limit': {
    status: 409,
    message: 'You have the most presets allowed (200): delete one first.',
    level: 'info',
  },
  'message.parent_invalid': {
    status: 400,
    message: 'The parent message does not belong to this conversation.',
    level: 'info',
  },
  'import.invalid': {
    status: 400,
    message: 'The file cannot be imported: it is not a valid export.',
    level: 'info',
  },
  'import.unrecognized': {
    status: 400,
    message:
      "The file is not an export this app reads: this app's own archive, a ChatGPT conversations.json or an Open WebUI chat export. Nothing was imported.",
    level: 'info',
  },
  'import.too_large': {
    status: 413,
    message: 'The file holds too much to import at once: import it in parts.',
    level: 'info',
  },
  'message.not_regenerable': {
    status: 400,
    message: 'Only a question (a user message) can be answered again.',
    level: 'info',
  },
  'message.not_continuable': {
    status: 400,
    message: 'Only an answer (an assistant message) can be continued.',
    level: 'info',
  },
  'message.busy': {
    status: 409,
    message: 'This answer is still being written: stop it or wait for it to end first.',
    level: 'info',
  },
  'attachment.not_found': { status: 404, message: 'Attachment not found.', level: 'info' },
  'attachment.too_large': {
    status: 413,
    message: 'The file is too large to attach.',
    level: 'info',
  },
  'attachment.empty': { status: 400, message: 'The file is empty.', level: 'info' },
  'attachment.unsupported_type': {
    status: 415,
    message:
      'This kind of file cannot be attached: images (PNG, JPEG, GIF, WebP), PDF and text files (UTF-8: code, Markdown, CSV, JSON…) only.',
    level: 'info',
  },
  'attachment.too_many': {
    status: 400,
    message: 'The message carries too many attachments.',
    level: 'info',
  },
  'attachment.too_many_pending': {
    status: 409,
    message: 'Too many files are waiting to be sent: send them or remove some first.',
    level: 'info',
  },
  'attachment.in_use': {
    status: 409,
    message: 'This file was sent with a message: it is deleted with its conversation.',
    level: 'info',
  },
  'attachment.images_unsupported': {
    status: 400,
    message: 'The model does not accept images: choose a model with image input.',
    level: 'info',
  },
  'compare.model_count': {
    status: 400,
    message: 'A comparison sends the question to 2 to 4 models: choose that many.',
    level: 'info',
  },
  'compare.duplicate_model': {
    status: 400,
    message: 'Each model may be in a comparison once: choose different models.',
    level: 'info',
  },
  'comparison.not_found': { status: 404, message: 'Comparison not found.', level: 'info' },
  'comparison.not_an_answer': {
    status: 400,
    message: "This message is not one of the comparison's answers.",
    level: 'info',
  },
  'model.unknown': {
    status: 400,
    message: 'This model is not in the model catalog: choose one the model picker lists.',
    level: 'info',
  },
  'generation.not_found': {
    status: 404,
    message: 'No running generation with this id.',
    level: 'info',
  },
  'model.required': {
    status: 400,
    message: 'Choose a model for this conversation first.',
    level: 'info',
  },
  'upstream.no_key': {
    status: 503,
    message: 'No OpenRouter API key is configured: set OPENROUTER_API_KEY on the backend.',
    level: 'warn',
  },
  'upstream.bad_request': {
    status: 400,
    message: 'The model rejected the request.',
    level: 'warn',
  },
  'upstream.unauthorized': {
    status: 401,
    message: 'OpenRouter rejected the API key.',
    level: 'warn',
  },
  'upstream.insufficient_credits': {
    status: 402,
    message: 'The OpenRouter account has insufficient credits.',
    level: 'warn',
  },
  'upstream.moderation': {
    status: 403,
    message: 'The input was flagged by moderation.',
    level: 'warn',
  },
  'upstream.timeout': { status: 408, message: 'The model timed out.', level: 'warn' },
  'upstream.rate_limited': {
    status: 429,
    message: 'The model is rate limited; try again shortly.',
    level: 'warn',
  },
  'upstream.unavailable': {
    status: 502,
    message: 'The model provider is unavailable.',
    level: 'warn',
  },
  'upstream.no_provider': {
    status: 503,
    message: 'No provider is available for this model.',
    level: 'warn',
  },
  'upstream.stream_error': {
    status: 502,
    message: 'The model stream failed.',
    level: 'warn',
  },
  'upstream.network': {
    status: 502,
    message: 'Could not reach the model provider.',
    level: 'warn',
  },
  'upstream.bad_response': {
    status: 502,
    message: 'The model provider sent an unreadable response.',
    level: 'warn',
  },
  'user.not_found': { status: 404, message: 'No such user.', level: 'info' },
  'user.username_taken': {
    status: 409,
    message: 'This username is taken.',
    level: 'info',
  },
  'user.last_admin': {
    status: 409,
    message: 'The workspace must keep at least one active administrator.',
    level: 'info',
  },
  'model.not_allowed': {
    status: 403,
    message:
      'This model is not available in this workspace: choose another or ask an administrator.',
    level: 'info',
  },
  'api_key.not_found': {
    status: 404,
    message: 'You have no OpenRouter key saved.',
    level: 'info',
  },
  'api_key.rejected': {
    status: 400,
    message: 'OpenRouter refused this key. Nothing was saved.',
    level: 'info',
  },
  'api_key.too_many_checks': {
    status: 429,
    message: 'Too many key checks: wait a moment.',
    level: 'warn',
  },
  'api_key.unreadable': {
    status: 409,
    message:
      "Your saved OpenRouter key can no longer be decrypted (the server's SECRET_KEY changed): save it again on your Account page.",
    level: 'warn',
  },
  // 402, not 403: the user may send and the request is valid; only the money is used up, until
  // the month ends or an admin raises the limit (as OpenRouter answers 402 for spent credits).
  'budget.exceeded': {
    status: 402,
    message: 'You have reached your monthly spending limit: ask an administrator to raise it.',
    level: 'info',
  },
  'temporary.no_question': {
    status: 400,
    message:
      'The last message of a temporary chat must be the question to answer (role user, not empty).',
    level: 'info',
  },
  'chat.rate_limited': {
    status: 429,
    message: 'You are sending messages too fast: wait a moment.',
    level: 'info',
  },
  'server.shutting_down': {
    status: 503,
    message: 'The server is shutting down; try again in a moment.',
    level: 'info',
  },
  'ops.loopback_only': {
    status: 403,
    message: 'Operations are accepted only from the host itself (loopback).',
    level: 'warn',
  },
  'ops.backup_dir_invalid': {
    status: 400,
    message: 'The backup folder must be an absolute path to a new or empty folder.',
    level: 'info',
  },
  'database.locked': {
    status: 503,
    message: 'The database is in use by another process.',
    level: 'error',
  },
  internal: { status: 500, message: 'Something went wrong on the server.', level: 'error' },
} as const satisfies Record<
  string,
  { status: number; message: string; level: 'info' | 'warn' | 'error' }
>;

export type ErrorCode = keyof typeof errorCatalog;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** HTTP status of the upstream response, when the error came from upstream. */
  readonly upstreamStatus: number | undefined;
  /** Sent as the `Retry-After` header (seconds) by the error handler, e.g. with a 429. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; upstreamStatus?: number; retryAfterSeconds?: number },
  ) {
    super(message ?? errorCatalog[code].message, { cause: options?.cause });
    this.name = 'AppError';
    this.code = code;
    this.upstreamStatus = options?.upstreamStatus;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get status(): number {
    return errorCatalog[this.code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * A failure of an operator command (the `ops` CLI) whose message says all the operator
 * needs: what is wrong and what to do. Printed without a stack.
 */
export class OpsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsError';
  }
}
