import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { unstorableText } from '../src/http/validation.js';

/**
 * fast-check arbitraries derived from the schemas of an OpenAPI 3.0 document: values a
 * schema accepts, and values it refuses, each labelled with why. Only the keywords our
 * TypeBox schemas produce are understood; a schema using another one fails loudly, so the
 * generator cannot silently stop covering a new route.
 */
export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';
  nullable?: boolean;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  maxProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  default?: unknown;
  description?: string;
}

const understood = new Set<string>([
  'type',
  'nullable',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'default',
  'description',
  'title',
  'examples',
]);

function checkUnderstood(schema: Schema): void {
  for (const key of Object.keys(schema)) {
    if (!understood.has(key)) throw new Error(`schema keyword "${key}" is not understood`);
  }
  if (schema.format && !['uuid', 'date-time'].includes(schema.format)) {
    throw new Error(`string format "${schema.format}" is not understood`);
  }
}

export interface Invalid {
  value: unknown;
  /** Why the value breaks the schema, e.g. "title: longer than maxLength 200". */
  why: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Graphemes rather than code units: no lone surrogate unless a case asks for one. */
const text = (min = 0, max = 20) => fc.string({ unit: 'grapheme', minLength: min, maxLength: max });

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'null';

/** One value of each JSON type, for "wrong type" cases. */
const ofType: Record<JsonType, fc.Arbitrary<unknown>> = {
  string: text(0, 12),
  integer: fc.integer({ min: -1e9, max: 1e9 }),
  number: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Number.isInteger(n)),
  boolean: fc.boolean(),
  null: fc.constant(null),
  object: fc.dictionary(text(1, 6), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  array: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
};

/** The JSON types a schema accepts (an integer is also a number). */
function acceptedTypes(schema: Schema): Set<JsonType> {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return new Set(branches.flatMap((b) => [...acceptedTypes(b)]));
  if (schema.enum || schema.const !== undefined) {
    const values = schema.enum ?? [schema.const];
    return new Set(values.map(jsonType));
  }
  const types = new Set<JsonType>();
  if (schema.type === undefined) return new Set(Object.keys(ofType) as JsonType[]);
  types.add(schema.type);
  if (schema.type === 'number') types.add('integer');
  if (schema.nullable) types.add('null');
  return types;
}

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

/** Values the schema accepts (small ones: the point is a valid base to break one part of). */
export function validValue(schema: Schema): fc.Arbitrary<unknown> {
  checkUnderstood(schema);
  const branches = schema.anyOf ?? schema.oneOf;
  let arb: fc.Arbitrary<unknown>;
  if (branches) arb = fc.oneof(...branches.map(validValue));
  else if (schema.enum) arb = fc.constantFrom(...schema.enum);
  else if (schema.const !== undefined) arb = fc.constant(schema.const);
  else {
    switch (schema.type) {
      case 'string':
        arb = validString(schema);
        break;
      case 'integer':
        arb = fc.integer({ min: lowerBound(schema, -1e6), max: upperBound(schema, 1e6) });
        break;
      case 'number':
        arb = fc.double({
          min: lowerBound(schema, -1e6),
          max: upperBound(schema, 1e6),
          noNaN: true,
        });
        break;
      case 'boolean':
        arb = fc.boolean();
        break;
      case 'null':
        arb = fc.constant(null);
        break;
      case 'array': {
        const constraints = {
          minLength: schema.minItems ?? 0,
          maxLength: Math.min(schema.maxItems ?? 3, 3),
        };
        const items = validValue(schema.items ?? {});
        arb = schema.uniqueItems
          ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
          : fc.array(items, constraints);
        break;
      }
      case 'object':
        arb = validObject(schema);
        break;
      default:
        arb = fc.jsonValue({ maxDepth: 1 });
    }
  }
  if (schema.nullable) arb = fc.oneof(arb, fc.constant(null));
  return arb;
}

function lowerBound(schema: Schema, fallback: number): number {
  if (schema.exclusiveMinimum !== undefined) return schema.exclusiveMinimum + 1;
  return schema.minimum ?? fallback;
}
function upperBound(schema: Schema, fallback: number): number {
  if (schema.exclusiveMaximum !== undefined) return schema.exclusiveMaximum - 1;
  return schema.maximum ?? fallback;
}

function validString(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 30, min + 30);
  const length = (s: string) => [...s].length;
  let arb: fc.Arbitrary<string>;
  if (schema.format === 'uuid') arb = fc.uuid();
  else if (schema.format === 'date-time') {
    arb = fc
      .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
      .map((d) => d.toISOString());
  } else if (schema.pattern) {
    arb = fc.stringMatching(new RegExp(schema.pattern), { size: 'small' });
  } else arb = text(min, max);
  return arb.filter((s) => length(s) >= min && length(s) <= (schema.maxLength ?? Infinity));
}

function validObject(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const keys = Object.keys(properties);
  const required = schema.required ?? [];
  const minimum = Math.max(schema.minProperties ?? 0, 0);
  return fc
    .record(
      Object.fromEntries(keys.map((k) => [k, validValue(properties[k] ?? {})])) as Record<
        string,
        fc.Arbitrary<unknown>
      >,
      { requiredKeys: required },
    )
    .filter((o) => Object.keys(o).length >= minimum) as fc.Arbitrary<Record<string, unknown>>;
}

/** Values the schema refuses, each with the reason; `at` names the place for the label. */
export function invalidValue(schema: Schema, at = 'body'): fc.Arbitrary<Invalid> {
  checkUnderstood(schema);
  const cases: Array<fc.Arbitrary<Invalid>> = [];
  const accepted = acceptedTypes(schema);

  const wrong = (Object.keys(ofType) as JsonType[]).filter((t) => !accepted.has(t));
  if (wrong.length > 0) {
    cases.push(
      fc.constantFrom(...wrong).chain((t) =>
        (ofType[t] ?? fc.constant(null)).map((value) => ({
          value,
          why: `${at}: ${t} instead of ${[...accepted].join('|')}`,
        })),
      ),
    );
  }
  if (schema.enum || schema.const !== undefined) {
    const allowed = schema.enum ?? [schema.const];
    cases.push(
      text(0, 12)
        .filter((s) => !allowed.includes(s))
        .map((value) => ({ value, why: `${at}: not one of ${JSON.stringify(allowed)}` })),
    );
  }
  if (schema.type === 'string' && !schema.enum) cases.push(...invalidStrings(schema, at));
  if (schema.type === 'integer' || schema.type === 'number') {
    if (schema.minimum !== undefined) {
      const min = schema.minimum;
      cases.push(
        fc
          .integer({ min: 1, max: 1e9 })
          .map((d) => ({ value: min - d, why: `${at}: below minimum ${min}` })),
      );
    }
    if (schema.maximum !== undefined) {
      const max = schema.maximum;
      cases.push(
        fc
          .oneof(fc.integer({ min: 1, max: 1e9 }), fc.constant(1e300))
          .map((d) => ({ value: max + d, why: `${at}: above maximum ${max}` })),
      );
    }
    if (schema.type === 'integer') {
      cases.push(
        validValue(schema).map((n) => ({
          value: (n as number) + 0.5,
          why: `${at}: not an integer`,
        })),
      );
    }
  }
  if (schema.type === 'object') cases.push(...invalidObjects(schema, at));
  if (schema.type === 'array') cases.push(...invalidArrays(schema, at));
  if (cases.length === 0) throw new Error(`${at}: this schema refuses nothing`);
  return fc.oneof(...cases);
}

function invalidStrings(schema: Schema, at: string): Array<fc.Arbitrary<Invalid>> {
  const cases: Array<fc.Arbitrary<Invalid>> = [];
  const { minLength, maxLength, pattern, format } = schema;
  if (maxLength !== undefined) {
    // Just over the limit, in characters that take 1, 2 and 4 bytes (the limit counts
    // code points, not UTF-16 units), or a huge string that still fits the body limit.
    cases.push(
      fc
        .tuple(fc.integer({ min: 1, max: 64 }), fc.constantFrom('x', 'é', '😀'))
        .map(([over, char]) => ({
          value: char.repeat(maxLength + over),
          why: `${at}: ${maxLength + over} characters, over maxLength ${maxLength}`,
        })),
    );
    if (maxLength < 1_000_000) {
      cases.push(
        fc.integer({ min: 1_000_000, max: 1_800_000 }).map((n) => ({
          value: 'x'.repeat(n),
          why: `${at}: a huge string (${n} characters)`,
        })),
      );
    }
  }
  if (minLength !== undefined && minLength > 0) {
    cases.push(
      fc.integer({ min: 0, max: minLength - 1 }).map((n) => ({
        value: 'a'.repeat(n),
        why: `${at}: ${n} characters, under minLength ${minLength}`,
      })),
    );
  }
  if (pattern) {
    const re = new RegExp(pattern);
    cases.push(
      fc
        .oneof(text(0, 12), fc.constantFrom(' ', 'a b', '\t', 'a\nb', '#', 'ä', '', '/', '%'))
        .filter((s) => !re.test(s))
        .map((value) => ({ value, why: `${at}: does not match ${pattern}` })),
    );
  }
  if (format === 'uuid') {
    cases.push(
      fc
        .oneof(
          text(0, 40),
          fc.uuid().map((u) => u.slice(1)),
          fc.uuid().map((u) => `${u}0`),
          fc.uuid().map((u) => u.replaceAll('-', '')),
          fc.uuid().map((u) => `g${u.slice(1)}`),
          fc.uuid().map((u) => ` ${u}`),
          fc.constantFrom('..', '../../etc/passwd', 'null', 'undefined', '0', '-1', 'NaN', '{}'),
        )
        .filter((s) => !UUID.test(s))
        .map((value) => ({ value, why: `${at}: not a uuid` })),
    );
  }
  if (format === 'date-time') {
    cases.push(
      fc
        .oneof(text(0, 20), fc.constantFrom('2024-13-01T00:00:00Z', 'yesterday', '0'))
        .filter((s) => Number.isNaN(Date.parse(s)) || !/T/.test(s))
        .map((value) => ({ value, why: `${at}: not a date-time` })),
    );
  }
  // Text that passes every other rule but cannot be stored as sent.
  cases.push(
    fc
      .tuple(
        validString(schema),
        fc.constantFrom('\0', '\ud800', '\udc00', '\udfff\ud800'),
        fc.nat(),
      )
      .map(([valid, bad, position]) => {
        const at2 = position % (valid.length + 1);
        return {
          value: valid.slice(0, at2) + bad + valid.slice(at2),
          why: `${at}: holds ${JSON.stringify(bad)}`,
        };
      }),
  );
  return cases;
}

function invalidArrays(schema: Schema, at: string): Array<fc.Arbitrary<Invalid>> {
  const cases: Array<fc.Arbitrary<Invalid>> = [];
  const items = validValue(schema.items ?? {});
  if (schema.items) {
    cases.push(
      fc
        .tuple(validValue(schema), invalidValue(schema.items, `${at}[]`))
        .map(([list, bad]) => ({ value: [bad.value, ...(list as unknown[])], why: bad.why })),
    );
  }
  if (schema.maxItems !== undefined) {
    const max = schema.maxItems;
    cases.push(
      fc
        .uniqueArray(items, {
          minLength: max + 1,
          maxLength: max + 4,
          selector: (v) => JSON.stringify(v),
        })
        .map((value) => ({ value, why: `${at}: ${value.length} items, over maxItems ${max}` })),
    );
  }
  if ((schema.minItems ?? 0) > 0) {
    cases.push(fc.constant({ value: [], why: `${at}: under minItems ${schema.minItems}` }));
  }
  if (schema.uniqueItems && (schema.maxItems ?? 2) >= 2) {
    cases.push(items.map((item) => ({ value: [item, item], why: `${at}: a repeated item` })));
  }
  return cases;
}

function invalidObjects(schema: Schema, at: string): Array<fc.Arbitrary<Invalid>> {
  const cases: Array<fc.Arbitrary<Invalid>> = [];
  const properties = schema.properties ?? {};
  const base = validObject(schema);
  for (const key of schema.required ?? []) {
    cases.push(
      base.map((o) => {
        const copy = { ...o };
        delete copy[key];
        return { value: copy, why: `${at}: required ${key} missing` };
      }),
    );
  }
  if (schema.additionalProperties === false) {
    const extra = fc
      .oneof(text(1, 10), fc.constantFrom('constructor', 'toString', 'id', 'userId', 'user_id'))
      .filter((k) => !(k in properties));
    cases.push(
      fc.tuple(base, extra, fc.jsonValue({ maxDepth: 2 })).map(([o, key, value]) => ({
        value: { ...o, [key]: value },
        why: `${at}: extra property ${JSON.stringify(key)}`,
      })),
    );
  }
  if ((schema.minProperties ?? 0) > 0) {
    cases.push(
      fc.constant({ value: {}, why: `${at}: fewer than ${schema.minProperties} properties` }),
    );
  }
  for (const [key, property] of Object.entries(properties)) {
    cases.push(
      fc.tuple(base, invalidValue(property, `${at}.${key}`)).map(([o, bad]) => ({
        value: { ...o, [key]: bad.value },
        why: bad.why,
      })),
    );
  }
  return cases;
}

/** Checks values as the backend does (strict types for bodies, coerced text elsewhere). */
export function createChecker(): {
  body(schema: Schema): (value: unknown) => boolean;
  coerced(schema: Schema): (value: unknown) => boolean;
} {
  const options = { allErrors: false, useDefaults: true, strict: false } as const;
  const strict = addFormats.default(new Ajv({ ...options, coerceTypes: false }));
  const coercing = addFormats.default(new Ajv({ ...options, coerceTypes: 'array' }));
  const caches = new Map<Ajv, Map<Schema, ValidateFunction>>();
  const compile = (ajv: Ajv, schema: Schema) => {
    const cache = caches.get(ajv) ?? new Map<Schema, ValidateFunction>();
    caches.set(ajv, cache);
    let validate = cache.get(schema);
    if (!validate) cache.set(schema, (validate = ajv.compile(schema)));
    return validate;
  };
  // Validation may fill in defaults: each check works on a copy.
  const accepts = (validate: ValidateFunction, value: unknown) => {
    const copy = structuredClone(value);
    return validate(copy) && unstorableText(copy) === null;
  };
  return {
    body: (schema) => (value) => accepts(compile(strict, schema), value),
    coerced: (schema) => (value) => accepts(compile(coercing, schema), value),
  };
}
