import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Bodies are validated strictly: a wrong type or an unknown field is a 400, never
 * silently coerced or dropped (Fastify's defaults do both). Query strings and path
 * parameters arrive as text, so only they are coerced to the schema's types.
 *
 * Every validated part must also hold text that can be stored as it was sent: see
 * `unstorableText`.
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const common: Options = {
    allErrors: false,
    useDefaults: true,
    removeAdditional: false,
    strict: false,
  };
  const strict = addFormats.default(new Ajv({ ...common, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...common, coerceTypes: 'array' }));
  return ({ schema, httpPart }) =>
    withTextCheck(
      (httpPart === 'body' ? strict : coercing).compile(schema as object),
    ) as ReturnType<FastifySchemaCompiler<unknown>>;
}

export const UNSTORABLE_TEXT_MESSAGE =
  'must not contain NUL characters or unpaired surrogates (invalid Unicode)';

/**
 * The schema's validator, then the text check on what passed it, reported like a schema
 * error (so the error handler names the field: `Invalid body: content must not …`).
 */
function withTextCheck(validate: ValidateFunction): ValidateFunction {
  const checked = ((data: unknown, context?: unknown) => {
    // Fastify passes the parent (so Ajv can replace a coerced root value) only to functions
    // carrying Ajv's schemaEnv, which this one copies below.
    const valid = (validate as (d: unknown, c?: unknown) => boolean)(data, context);
    if (!valid) {
      checked.errors = validate.errors;
      return false;
    }
    const bad = unstorableText(data);
    if (bad === null) {
      checked.errors = null;
      return true;
    }
    const error: ErrorObject = {
      keyword: 'text',
      instancePath: bad,
      schemaPath: '#',
      params: {},
      message: UNSTORABLE_TEXT_MESSAGE,
    };
    checked.errors = [error];
    return false;
  }) as ValidateFunction;
  checked.schema = validate.schema;
  checked.schemaEnv = validate.schemaEnv;
  return checked;
}

/** A lone high surrogate (not followed by a low one) or a lone low one (not preceded by a high one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The JSON-pointer path of the first string (value or property name) that cannot be kept
 * as sent, or null. JSON may escape a NUL (`\u0000`) or half of a surrogate pair
 * (`\ud800`), and JSON.parse turns them into such strings: a lone surrogate has no UTF-8
 * form, so DuckDB would silently store U+FFFD in its place, and NUL is refused by
 * PostgreSQL's text type (which the SQL is kept portable to) and means nothing in a chat.
 * So both are refused at the door, for every field, rather than altered.
 */
export function unstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') {
    return value.includes('\0') || LONE_SURROGATE.test(value) ? path : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = unstorableText(value[i], `${path}/${i}`);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      const bad = unstorableText(key, at) ?? unstorableText(item, at);
      if (bad !== null) return bad;
    }
  }
  return null;
}
