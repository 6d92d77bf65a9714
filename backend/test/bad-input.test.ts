import { request as httpRequest, STATUS_CODES } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../src/errors.js';
import { startTestApp, type TestContext } from '../src/test-support/context.js';
import { setupAdmin, type SignedInUser } from '../src/test-support/factories.js';
import { createChecker, invalidValue, validValue, type Schema } from './schema-arbitraries.js';

// Every endpoint of the OpenAPI document the app serves, fed invalid requests generated from
// its own schemas: each must get a 4xx answer in our error shape, change nothing, and leave
// the backend up. Fixed seed: the same requests on every run.
const SEED = 4_2_2024;
const RUNS_PER_ENDPOINT = 40;
const BODY_LIMIT = 2 * 1024 * 1024;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}

interface Operation {
  method: string;
  /** As in the document, e.g. /api/conversations/{id}. */
  path: string;
  parameters: Parameter[];
  body: Schema | null;
}

/** What was broken, and so which answers are right. */
type Kind =
  | 'body'
  | 'path'
  | 'bad-url'
  | 'query'
  | 'malformed-json'
  | 'not-utf8'
  | 'content-type'
  | 'oversized'
  | 'method';

const expectedStatus: Record<Kind, number[]> = {
  body: [400],
  // An empty id leaves no route to match: 404.
  path: [400, 404],
  'bad-url': [400],
  query: [400],
  'malformed-json': [400],
  'not-utf8': [400],
  // text/plain is parsed (as a string the schema refuses); other types have no parser.
  'content-type': [400, 415],
  oversized: [413],
  method: [404],
};

interface BadRequest {
  kind: Kind;
  why: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

let ctx: TestContext;
let admin: SignedInUser;
let conversationId: string;
let operations: Operation[];

beforeAll(async () => {
  // The import route's own body limit (IMPORT_MAX_MB) set to the app's, so every route's
  // oversized body is the same 2 MiB + a little.
  ctx = await startTestApp({ env: { IMPORT_MAX_MB: String(BODY_LIMIT / 1024 / 1024) } });
  admin = await setupAdmin(ctx.app);
  const created = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: admin.cookie },
    payload: { title: 'fixture', model: 'fake/echo' },
  });
  conversationId = created.json().id;
  const document = (await ctx.app.inject({ url: '/api/openapi.json' })).json();
  operations = operationsOf(document);
});
afterAll(() => ctx.close());

function operationsOf(document: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Operation[] {
  const list: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const content = (
        operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined
      )?.content;
      list.push({
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters as Parameter[] | undefined) ?? [],
        body: content?.['application/json']?.schema ?? null,
      });
    }
  }
  return list;
}

const check = createChecker();

/** The object of a part's parameters, as one schema (so the checker sees it as Fastify does). */
function partSchema(parameters: Parameter[]): Schema {
  return {
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name, p.schema])),
    required: parameters.filter((p) => p.required).map((p) => p.name),
  };
}

/**
 * How a generated value travels in a URL: text, numbers as written, objects as JSON. A URL
 * carries UTF-8, where a lone surrogate becomes U+FFFD, as a browser would send it: the
 * text returned is what the server decodes.
 */
function asText(value: unknown): string {
  const text =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? JSON.stringify(value)
      : String(value);
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Percent-encodes every byte but the unreserved characters (encodeURIComponent's set). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.!~*'()]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function urlOf(operation: Operation, path: Record<string, string>, query = ''): string {
  const filled = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => path[name] ?? '');
  return query === '' ? filled : `${filled}?${query}`;
}

/** Real ids, so that only the part under test is wrong. */
function validPath(operation: Operation): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of operation.parameters.filter((p) => p.in === 'path')) {
    values[p.name] =
      p.name === 'id' && operation.path.startsWith('/api/conversations/')
        ? conversationId
        : crypto.randomUUID();
  }
  return values;
}

const json = { 'content-type': 'application/json' };

function validBody(operation: Operation): fc.Arbitrary<unknown> {
  if (!operation.body) return fc.constant(undefined);
  const accepts = check.body(operation.body);
  return validValue(operation.body).filter(accepts);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Invalid requests for one operation, drawn from every kind that applies to it. */
function badRequests(operation: Operation): fc.Arbitrary<BadRequest> {
  const { method, body } = operation;
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const queryParameters = operation.parameters.filter((p) => p.in === 'query');
  const base = validPath(operation);
  const kinds: Array<fc.Arbitrary<BadRequest>> = [];
  const withBody = (value: unknown) =>
    value === undefined ? {} : { headers: json, payload: JSON.stringify(value) };

  if (body) {
    const accepts = check.body(body);
    kinds.push(
      invalidValue(body)
        .filter((bad) => !accepts(bad.value))
        .map((bad) => ({
          kind: 'body' as const,
          why: bad.why,
          method,
          url: urlOf(operation, base),
          headers: json,
          // JSON.stringify writes a lone surrogate as its \u escape, as a client would.
          payload: JSON.stringify(bad.value) ?? 'null',
        })),
    );
  }

  if (pathParameters.length > 0) {
    const schema = partSchema(pathParameters);
    const accepts = check.coerced(schema);
    kinds.push(
      fc
        .tuple(
          fc.constantFrom(...pathParameters),
          fc.constantFrom(...pathParameters).chain((p) => invalidValue(p.schema, p.name)),
          validBody(operation),
        )
        .map(([parameter, bad, value]) => ({ parameter, text: asText(bad.value), bad, value }))
        .filter(({ parameter, text }) => !accepts({ ...base, [parameter.name]: text }))
        .map(({ parameter, text, bad, value }) => ({
          kind: 'path' as const,
          why: bad.why,
          method,
          url: urlOf(operation, { ...base, [parameter.name]: percentEncode(text) }),
          headers: {},
          ...withBody(value),
        })),
    );
    // Not even a value: broken percent-encodings, and ids past the router's length limit.
    kinds.push(
      fc
        .tuple(
          fc.constantFrom(...pathParameters),
          fc.oneof(
            fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C3%28', '%FF', 'a%'),
            fc.integer({ min: 101, max: 20_000 }).map((n) => 'a'.repeat(n)),
          ),
        )
        .map(([parameter, raw]) => ({
          kind: 'bad-url' as const,
          why: `${parameter.name}: raw ${raw.slice(0, 12)} (${raw.length} chars)`,
          method,
          url: urlOf(operation, { ...base, [parameter.name]: raw }),
          headers: {},
        })),
    );
  }

  if (queryParameters.length > 0) {
    const schema = partSchema(queryParameters);
    const accepts = check.coerced(schema);
    kinds.push(
      fc
        .constantFrom(...queryParameters)
        .chain((p) => invalidValue(p.schema, p.name).map((bad) => ({ p, bad })))
        .map(({ p, bad }) => {
          const texts = Array.isArray(bad.value) ? bad.value.map(asText) : [asText(bad.value)];
          return { p, bad, texts };
        })
        // An empty array sends no parameter at all: the request is then valid, not a bad one.
        .filter(({ texts }) => texts.length > 0)
        .filter(({ p, texts }) => !accepts({ [p.name]: texts.length === 1 ? texts[0] : texts }))
        .map(({ p, bad, texts }) => ({
          kind: 'query' as const,
          why: bad.why,
          method,
          url: urlOf(operation, base, texts.map((t) => `${p.name}=${percentEncode(t)}`).join('&')),
          headers: {},
        })),
    );
  }

  if (BODY_METHODS.has(method)) {
    const url = urlOf(operation, base);
    kinds.push(
      fc
        .oneof(
          validBody(operation).map((v) => {
            const text = JSON.stringify(v ?? { any: 'thing' });
            return text.slice(0, Math.max(0, text.length - 1));
          }),
          fc.constantFrom('{', '{"a":}', "{'a':1}", 'undefined', 'NaN', '{"a":1,}', '[1,2', ' '),
          fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}'),
          fc.string({ maxLength: 30 }),
        )
        .filter((text) => !isJson(text) || text.includes('__proto__') || text.includes('prototype'))
        .map((payload) => ({
          kind: 'malformed-json' as const,
          why: `body ${JSON.stringify(payload.slice(0, 40))}`,
          method,
          url,
          headers: json,
          payload,
        })),
    );
    kinds.push(
      fc
        .tuple(
          validBody(operation),
          fc.constantFrom(
            [0xff],
            [0xc3, 0x28],
            [0xed, 0xa0, 0x80],
            [0xe2, 0x82],
            [0xf8, 0x88, 0x80, 0x80, 0x80],
            [0xc0, 0xaf],
          ),
          fc.nat(),
        )
        .map(([value, bytes, position]) => {
          const text = Buffer.from(JSON.stringify(value ?? { any: 'thing' }));
          const at = position % (text.length + 1);
          const payload = Buffer.concat([
            text.subarray(0, at),
            Buffer.from(bytes),
            text.subarray(at),
          ]);
          return { payload, bytes };
        })
        .filter(({ payload }) => !isUtf8(payload))
        .map(({ payload, bytes }) => ({
          kind: 'not-utf8' as const,
          why: `bytes ${bytes.map((b) => b.toString(16)).join(' ')} in the JSON`,
          method,
          url,
          headers: json,
          payload,
        })),
    );
    const types = [
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'image/png',
      'application/vnd.api+json',
      // Parsed as a string, which only a body schema refuses.
      ...(body ? ['text/plain'] : []),
    ];
    kinds.push(
      fc.tuple(fc.constantFrom(...types), validBody(operation)).map(([type, value]) => ({
        kind: 'content-type' as const,
        why: `content-type ${type}`,
        method,
        url,
        headers: { 'content-type': type },
        payload: JSON.stringify(value ?? { any: 'thing' }),
      })),
    );
    kinds.push(
      fc.integer({ min: 1, max: 64 * 1024 }).map((over) => ({
        kind: 'oversized' as const,
        why: `body of 2 MiB + ${over} bytes`,
        method,
        url,
        headers: json,
        payload: `{"content":"${'x'.repeat(BODY_LIMIT + over)}"}`,
      })),
    );
  }

  const defined = new Set(operations.filter((o) => o.path === operation.path).map((o) => o.method));
  const undefinedMethods = METHODS.filter((m) => !defined.has(m));
  if (undefinedMethods.length > 0) {
    kinds.push(
      fc.constantFrom(...undefinedMethods).map((other) => ({
        kind: 'method' as const,
        why: `${other} is not defined here`,
        method: other,
        url: urlOf(operation, base),
        headers: {},
      })),
    );
  }
  return fc.oneof(...kinds);
}

const errorCodes = new Set(Object.keys(errorCatalog));

/** The answer is a 4xx in our error shape, of the status this kind of mistake calls for. */
function expectClientError(
  request: BadRequest,
  response: { status: number; contentType: string | undefined; body: string; requestId: unknown },
  signedIn: boolean,
  overSocket = false,
): void {
  const label = `${request.method} ${request.url.slice(0, 120)} (${request.kind}: ${request.why})`;
  // Over a socket, Node's parser refuses a request line past its 16 KB header limit first.
  const allowed =
    overSocket && request.url.length > 16 * 1024
      ? [431]
      : signedIn
        ? expectedStatus[request.kind]
        : [...expectedStatus[request.kind], 401];
  expect(allowed, `${label} answered ${response.status}: ${response.body.slice(0, 300)}`).toContain(
    response.status,
  );
  expect(response.contentType, label).toMatch(/^application\/json/);
  // Node's parser answers before any request (or its id) exists.
  if (allowed[0] !== 431) expect(response.requestId, label).toBeTruthy();
  const parsed = JSON.parse(response.body) as { error: { code: string; message: string } };
  expect(Object.keys(parsed), label).toEqual(['error']);
  expect(Object.keys(parsed.error).sort(), label).toEqual(['code', 'message']);
  expect(errorCodes.has(parsed.error.code), `${label}: code ${parsed.error.code}`).toBe(true);
  expect(errorCatalog[parsed.error.code as keyof typeof errorCatalog].status, label).toBe(
    response.status,
  );
  expect(parsed.error.message.length, label).toBeGreaterThan(0);
}

async function viaInject(request: BadRequest, cookie: string | undefined) {
  const response = await ctx.app.inject({
    method: request.method as (typeof METHODS)[number],
    url: request.url,
    headers: { ...request.headers, ...(cookie ? { cookie } : {}) },
    ...(request.payload === undefined ? {} : { payload: request.payload }),
  });
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.body,
    requestId: response.headers['x-request-id'],
  };
}

/** The same over a real socket, with node:http so that any bytes and URL can be sent. */
function viaSocket(request: BadRequest, cookie: string | undefined) {
  const { hostname, port } = new URL(ctx.baseUrl);
  return new Promise<{
    status: number;
    contentType: string | undefined;
    body: string;
    requestId: unknown;
  }>((resolve, reject) => {
    const outgoing = httpRequest(
      {
        hostname,
        port,
        method: request.method,
        path: request.url,
        headers: {
          ...request.headers,
          ...(cookie ? { cookie } : {}),
          ...(request.payload === undefined
            ? {}
            : { 'content-length': Buffer.byteLength(request.payload) }),
          connection: 'close',
        },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: response.headers['content-type'],
            body,
            requestId: response.headers['x-request-id'],
          }),
        );
      },
    );
    // The server may answer (413) and close before an oversized body is fully sent: the
    // answer already arrived then, and the write error that follows is expected.
    outgoing.on('error', (error) => {
      if (!outgoing.writableFinished && (error as NodeJS.ErrnoException).code === 'EPIPE') return;
      reject(error);
    });
    outgoing.end(request.payload);
  });
}

function everyEndpoint(signedIn: () => string | undefined) {
  return async () => {
    const tried = new Map<Kind, number>();
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(badRequests(operation), async (request) => {
          tried.set(request.kind, (tried.get(request.kind) ?? 0) + 1);
          const cookie = signedIn();
          expectClientError(request, await viaInject(request, cookie), cookie !== undefined);
        }),
        { seed: SEED, numRuns: RUNS_PER_ENDPOINT },
      );
    }
    // The generator reached every kind of mistake.
    expect([...tried.keys()].sort()).toEqual(Object.keys(expectedStatus).sort());
    await expectNothingChanged();
  };
}

async function expectNothingChanged() {
  const health = await fetch(`${ctx.baseUrl}/api/health`);
  expect(health.status).toBe(200);
  const me = await ctx.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
  expect(me.statusCode).toBe(200);
  const list = await ctx.app.inject({
    url: '/api/conversations',
    headers: { cookie: admin.cookie },
  });
  expect(list.json().conversations).toHaveLength(1);
  const detail = await ctx.app.inject({
    url: `/api/conversations/${conversationId}`,
    headers: { cookie: admin.cookie },
  });
  expect(detail.json().conversation).toMatchObject({ title: 'fixture', model: 'fake/echo' });
  expect(detail.json().messages).toEqual([]);
  expect(ctx.fake.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);
}

describe('invalid requests generated from the OpenAPI document', () => {
  it('covers every endpoint of the document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const withInput = operations.filter((o) => o.body || o.parameters.length > 0);
    expect(withInput.map((o) => `${o.method} ${o.path}`)).toContain(
      'POST /api/conversations/{id}/messages',
    );
  });

  it(
    'signed in (so they reach validation): a 4xx in our error shape, nothing changed',
    {
      timeout: 60_000,
    },
    everyEndpoint(() => admin.cookie),
  );

  it(
    'signed out: a 4xx in our error shape, nothing changed',
    {
      timeout: 60_000,
    },
    everyEndpoint(() => undefined),
  );

  it(
    'over real sockets too, after which the backend still answers',
    { timeout: 60_000 },
    async () => {
      const sample = operations.flatMap((operation) =>
        fc.sample(badRequests(operation), { seed: SEED, numRuns: 6 }),
      );
      const oversized = sample.filter((r) => r.kind === 'oversized');
      expect(oversized.length).toBeGreaterThan(0);
      for (const request of sample) {
        expectClientError(request, await viaSocket(request, admin.cookie), true, true);
      }
      await expectNothingChanged();
    },
  );

  it('what Node refuses before Fastify sees it is answered in our shape too', async () => {
    const { port } = new URL(ctx.baseUrl);
    const cases: Array<[string, number]> = [
      [`GET /api/conversations?cursor=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
      [`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
      ['BREW /api/health HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['GET /api/health HTTP/9.9\r\nHost: x\r\n\r\n', 400],
      ['GET /api/hea\u0000lth HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['POST /api/conversations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}', 400],
      [
        'POST /api/conversations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n' +
          'Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
        400,
      ],
    ];
    for (const [raw, status] of cases) {
      const answer = await rawExchange(Number(port), raw);
      const label = JSON.stringify(raw.slice(0, 60));
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      expect(head.split('\r\n')[0], label).toBe(`HTTP/1.1 ${status} ${STATUS_CODES[status]}`);
      expect(head.toLowerCase(), label).toContain('content-type: application/json');
      const parsed = JSON.parse(body) as { error: { code: keyof typeof errorCatalog } };
      expect(Object.keys(parsed.error).sort(), label).toEqual(['code', 'message']);
      expect(errorCatalog[parsed.error.code].status, label).toBe(status);
    }
    await expectNothingChanged();
  });
});

/** Writes raw bytes on a new connection and returns all the server sent back until it closed. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.write(raw);
  });
}
