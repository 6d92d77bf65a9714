import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../src/errors.js';
import { startTestApp, type TestContext } from '../src/test-support/context.js';
import {
  buildUser,
  createConversation,
  sessionCookie,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../src/test-support/factories.js';
import {
  collect,
  openSseRequest,
  postMessage,
  readEvents,
  type ReceivedEvent,
  type SseConnection,
} from '../src/test-support/sse-client.js';
import { createChecker, validValue, type Schema } from './schema-arbitraries.js';

// Access control as an attacker tries it: for every operation of the OpenAPI document the app
// serves, a second user (and then dead sessions, and no session at all) uses the first user's
// ids. Each answer must be a typed 403/404 (401 without a live session) that carries none of
// the first user's data, and the database must hold exactly what it held before.

interface Operation {
  method: string;
  /** As in the document, e.g. /api/conversations/{id}. */
  path: string;
  pathParameters: string[];
  body: Schema | null;
}

/** Everything the first user owns, by kind: what the attacker tries. */
interface VictimIds {
  user: string;
  conversation: string;
  messages: string[];
  /** Generations of finished answers. */
  generations: string[];
  /** The generation running while the attacker tries (stalled upstream). */
  runningGeneration: string;
  /** A temporary chat's answer of theirs, running while the attacker tries. */
  runningTemporary: string;
  sessions: string[];
  auditEntries: string[];
  /** Their folder (their conversation is filed in it). */
  folders: string[];
  /** Their attachments: one sent with their message, one uploaded and not sent yet. */
  attachments: string[];
  /** Their preset. */
  presets: string[];
  /** Their comparison (a question sent to two models) in that conversation. */
  comparisons: string[];
  /** Other people's ids the attacker may know: the admin's user id and sessions. */
  others: string[];
}

/**
 * Whose id goes in each path parameter. Every path with a parameter must be listed here: a
 * route added without an entry fails the coverage test below, so it cannot go untested.
 */
const pathFixtures: Record<string, (v: VictimIds) => Record<string, string[]>> = {
  '/api/conversations/{id}': (v) => ({ id: [v.conversation] }),
  '/api/conversations/{id}/messages': (v) => ({ id: [v.conversation] }),
  '/api/conversations/{id}/messages/{messageId}': (v) => ({
    id: [v.conversation],
    messageId: v.messages,
  }),
  '/api/conversations/{id}/messages/{messageId}/regenerate': (v) => ({
    id: [v.conversation],
    messageId: v.messages,
  }),
  '/api/conversations/{id}/messages/{messageId}/continue': (v) => ({
    id: [v.conversation],
    messageId: v.messages,
  }),
  '/api/conversations/{id}/compare': (v) => ({ id: [v.conversation] }),
  '/api/conversations/{id}/comparisons/{comparisonId}/choose': (v) => ({
    id: [v.conversation],
    comparisonId: v.comparisons,
  }),
  '/api/conversations/{id}/comparisons/{comparisonId}/stop': (v) => ({
    id: [v.conversation],
    comparisonId: v.comparisons,
  }),
  '/api/generations/{id}/stream': (v) => ({
    id: [v.runningGeneration, v.runningTemporary, ...v.generations],
  }),
  '/api/generations/{id}/stop': (v) => ({
    id: [v.runningGeneration, v.runningTemporary, ...v.generations],
  }),
  '/api/auth/sessions/{id}': (v) => ({ id: v.sessions }),
  '/api/admin/users/{id}': (v) => ({ id: [v.user] }),
  '/api/admin/users/{id}/password': (v) => ({ id: [v.user] }),
  '/api/admin/budgets/users/{id}': (v) => ({ id: [v.user] }),
  '/api/export/conversations/{id}/markdown': (v) => ({ id: [v.conversation] }),
  '/api/export/conversations/{id}/json': (v) => ({ id: [v.conversation] }),
  '/api/folders/{id}': (v) => ({ id: v.folders }),
  '/api/attachments/{id}': (v) => ({ id: v.attachments }),
  '/api/presets/{id}': (v) => ({ id: v.presets }),
};

/** Routes that need no session (the guard's `config: { public: true }`). */
const PUBLIC = new Set([
  'GET /api/health',
  'GET /api/ready',
  'GET /api/auth/state',
  'POST /api/auth/setup',
  'POST /api/auth/register',
  'POST /api/auth/login',
  'POST /api/auth/logout',
]);

const ATTACKER_PASSWORD = 'mallory tries her luck';
const VICTIM_PASSWORD = 'another fine password';
const VICTIM_KEY = `sk-or-v1-victims-own-key-${crypto.randomUUID().replaceAll('-', '')}Vq7Z`;

/** Bodies valid enough to pass validation, so that only ownership can refuse them. */
function bodyFor(operation: Operation, attacker: { username: string }): unknown {
  const explicit: Record<string, unknown> = {
    'POST /api/auth/setup': { username: 'mallory-setup', password: ATTACKER_PASSWORD },
    'POST /api/auth/register': { username: 'mallory-register', password: ATTACKER_PASSWORD },
    'POST /api/auth/login': { username: attacker.username, password: ATTACKER_PASSWORD },
    'POST /api/auth/password': {
      currentPassword: 'not her password at all',
      newPassword: 'a brand new password',
    },
    'PATCH /api/conversations/{id}': { title: 'taken over', model: 'fake/echo' },
    'PATCH /api/folders/{id}': { name: 'taken over' },
    'PATCH /api/presets/{id}': { name: 'taken over', systemPrompt: 'obey mallory' },
    'POST /api/conversations': { title: 'mallory', model: 'fake/echo' },
    'POST /api/conversations/{id}/messages': {
      content: 'read me your history',
      model: 'fake/echo',
    },
    'POST /api/chat/temporary': {
      model: 'fake/echo',
      messages: [{ role: 'user', content: 'what did the others ask?' }],
    },
    'POST /api/conversations/{id}/compare': {
      content: 'read me your history twice',
      models: ['fake/echo', 'fake/reasoning'],
    },
    'POST /api/admin/users': {
      username: 'mallory-admin',
      password: ATTACKER_PASSWORD,
      role: 'admin',
    },
    'PATCH /api/admin/users/{id}': { disabled: true },
    'POST /api/admin/users/{id}/password': { password: 'mallory set this one' },
    'PATCH /api/admin/settings': { registrationOpen: true, allowedModels: null },
    'PUT /api/keys/openrouter': { key: 'sk-or-v1-mallorys-own-key-0000' },
    'PUT /api/admin/budgets/default': { monthlyLimitUsd: 0 },
    'PUT /api/admin/budgets/users/{id}': { monthlyLimitUsd: 1_000_000 },
  };
  const key = `${operation.method} ${operation.path}`;
  if (key in explicit) return explicit[key];
  if (!operation.body) return undefined;
  // A route added later: a value its own schema accepts (fixed seed, so every run the same).
  const accepts = check.body(operation.body);
  return fc.sample(validValue(operation.body).filter(accepts), { seed: 7, numRuns: 1 })[0];
}

const check = createChecker();
const errorCodes = new Set(Object.keys(errorCatalog));

function operationsOf(document: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Operation[] {
  const list: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const parameters = (operation.parameters as Array<{ in: string; name: string }>) ?? [];
      const content = (
        operation.requestBody as { content?: Record<string, { schema: Schema }> } | undefined
      )?.content;
      list.push({
        method: method.toUpperCase(),
        path,
        pathParameters: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        body: content?.['application/json']?.schema ?? null,
      });
    }
  }
  return list;
}

const label = (o: Operation) => `${o.method} ${o.path}`;
const isAdminRoute = (o: Operation) => o.path.startsWith('/api/admin/');

/** Each way to fill an operation's path with the victim's ids: the fixture's, then every other. */
function urlsFor(operation: Operation, victim: VictimIds): string[] {
  const fixture = pathFixtures[operation.path];
  if (operation.pathParameters.length === 0) return [operation.path];
  if (!fixture) throw new Error(`no fixture for the path parameters of ${label(operation)}`);
  const primary = fixture(victim);
  const every = allIds(victim);
  const fill = (values: Record<string, string>) =>
    operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]!));
  const first = Object.fromEntries(
    operation.pathParameters.map((name) => [name, primary[name]![0]!]),
  );
  const urls = new Set<string>();
  for (const name of operation.pathParameters) {
    // The right kind of id first (all of them), then each of the victim's other ids.
    for (const id of [...primary[name]!, ...every]) urls.add(fill({ ...first, [name]: id }));
  }
  return [...urls];
}

function allIds(v: VictimIds): string[] {
  return [
    v.user,
    v.conversation,
    ...v.messages,
    ...v.generations,
    v.runningGeneration,
    v.runningTemporary,
    ...v.sessions,
    ...v.auditEntries,
    ...v.folders,
    ...v.attachments,
    ...v.presets,
    ...v.comparisons,
    ...v.others,
  ];
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
  stream: boolean;
}

/** One request over a real socket, as an attacker's script would send it. */
async function send(
  ctx: TestContext,
  method: string,
  url: string,
  cookie: string | undefined,
  body: unknown,
): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 10_000);
  try {
    const response = await fetch(`${ctx.baseUrl}${url}`, {
      method,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream')) {
      // A stream opened: whatever it sends in half a second is what the attacker got.
      const text = await readFor(response.body!, 500);
      controller.abort();
      return { status: response.status, contentType, body: text, stream: true };
    }
    return { status: response.status, contentType, body: await response.text(), stream: false };
  } finally {
    clearTimeout(timer);
  }
}

async function readFor(body: ReadableStream<Uint8Array>, ms: number): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const next = await Promise.race([
      reader.read(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), left)),
    ]);
    if (next === 'timeout' || next.done) break;
    text += decoder.decode(next.value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return text;
}

/** A typed error of one of `statuses`, in our shape, with the code's own status. */
function expectTypedError(what: string, answer: Answer, statuses: number[], code?: string): void {
  expect(statuses, `${what} answered ${answer.status}: ${answer.body.slice(0, 300)}`).toContain(
    answer.status,
  );
  expect(answer.stream, what).toBe(false);
  expect(answer.contentType, what).toMatch(/^application\/json/);
  const parsed = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(Object.keys(parsed), what).toEqual(['error']);
  expect(errorCodes.has(parsed.error.code), `${what}: code ${parsed.error.code}`).toBe(true);
  expect(errorCatalog[parsed.error.code as keyof typeof errorCatalog].status, what).toBe(
    answer.status,
  );
  if (code) expect(parsed.error.code, what).toBe(code);
}

/**
 * Every row of every table (the migrations list included), each as JSON, sorted: the
 * database's content, to compare before and after. Rows of `exceptUser` (the attacker's own
 * sessions, conversations, audit entries…) are left out: they may change.
 */
async function dump(ctx: TestContext, exceptUser?: string): Promise<Record<string, string[]>> {
  const columns = await ctx.db.all<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, string[]>();
  for (const c of columns)
    tables.set(c.table_name, [...(tables.get(c.table_name) ?? []), c.column_name]);
  const out: Record<string, string[]> = {};
  for (const [table, names] of tables) {
    const filters: string[] = [];
    if (exceptUser !== undefined) {
      for (const column of ['user_id', 'actor_id', 'target_user_id'])
        if (names.includes(column)) filters.push(`${column} IS DISTINCT FROM $1`);
      if (table === 'users') filters.push('id <> $1');
    }
    const where = filters.length > 0 ? ` WHERE ${filters.join(' AND ')}` : '';
    const rows = await ctx.db.all(
      `SELECT * FROM ${table}${where}`,
      filters.length > 0 ? [exceptUser!] : [],
    );
    out[table] = rows
      .map((row) => JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)))
      .sort();
  }
  return out;
}

async function login(ctx: TestContext, username: string, password: string): Promise<string> {
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  return sessionCookie(response.headers['set-cookie']);
}

async function call(
  ctx: TestContext,
  method: string,
  url: string,
  cookie: string,
  payload?: unknown,
) {
  const response = await ctx.app.inject({
    method: method as 'GET',
    url,
    headers: { cookie },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return response;
}

async function liveDocument(ctx: TestContext): Promise<Operation[]> {
  return operationsOf((await ctx.app.inject({ url: '/api/openapi.json' })).json());
}

/**
 * The victim's world: a conversation with a finished exchange, their own OpenRouter key, a
 * budget set by the admin, several sessions and audit entries.
 */
async function buildVictim(ctx: TestContext, admin: SignedInUser, canary: string) {
  const victim = await buildUser(ctx.app, ctx.db, `victim-${crypto.randomUUID().slice(0, 8)}`);
  ctx.fake.setKey(VICTIM_KEY, { limit: 10 });
  const saved = await call(ctx, 'PUT', '/api/keys/openrouter', victim.cookie, { key: VICTIM_KEY });
  expect(saved.statusCode, saved.body).toBe(200);
  const budget = await call(ctx, 'PUT', `/api/admin/budgets/users/${victim.id}`, admin.cookie, {
    monthlyLimitUsd: 12.5,
  });
  expect(budget.statusCode, budget.body).toBe(200);
  const conversation = await createConversation(ctx.app, victim, {
    title: `secret plans ${canary}`,
    model: 'fake/echo',
  });
  const folder = await call(ctx, 'POST', '/api/folders', victim.cookie, {
    name: `secret folder ${canary}`,
  });
  expect(folder.statusCode, folder.body).toBe(201);
  const filed = await call(ctx, 'PATCH', `/api/conversations/${conversation}`, victim.cookie, {
    folderId: folder.json().id,
    systemPrompt: `secret instructions ${canary}`,
    params: { temperature: 0.7 },
  });
  expect(filed.statusCode, filed.body).toBe(200);
  // A file of theirs sent with the message (a text file: the model is text-only), one pending.
  const sentFile = await uploadAttachment(
    ctx.app,
    victim,
    'diary.md',
    Buffer.from(`# Diary\n${canary}\n`),
  );
  const pendingFile = await uploadAttachment(ctx.app, victim, 'draft.txt', Buffer.from(canary));
  const preset = await call(ctx, 'POST', '/api/presets', victim.cookie, {
    name: `secret preset ${canary}`,
    model: 'fake/echo',
    systemPrompt: `secret preset prompt ${canary}`,
  });
  expect(preset.statusCode, preset.body).toBe(201);
  const events = await collect(
    postMessage(ctx.baseUrl, victim.cookie, conversation, {
      content: `my diary ${canary}`,
      attachmentIds: [sentFile],
    }),
  );
  expect(events.at(-1)?.event).toBe('done');
  // A comparison: the question sent to two models, the first answer chosen.
  const compared = await fetch(`${ctx.baseUrl}/api/conversations/${conversation}/compare`, {
    method: 'POST',
    headers: { cookie: victim.cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ content: `compare ${canary}`, models: ['fake/echo', 'fake/reasoning'] }),
  });
  expect(compared.status).toBe(200);
  const comparison = (await collect(readEvents(compared.body!))).find(
    (e) => e.event === 'comparison',
  )!.data as { id: string; answers: Array<{ messageId: string }> };
  const chosen = await call(
    ctx,
    'POST',
    `/api/conversations/${conversation}/comparisons/${comparison.id}/choose`,
    victim.cookie,
    { messageId: comparison.answers[0]!.messageId },
  );
  expect(chosen.statusCode, chosen.body).toBe(200);
  // The catalog is fetched once now, so that reading it later changes nothing.
  expect((await call(ctx, 'GET', '/api/models', victim.cookie)).statusCode).toBe(200);
  // A second device.
  const otherDevice = await login(ctx, victim.username, VICTIM_PASSWORD);
  const detail = (
    await call(ctx, 'GET', `/api/conversations/${conversation}`, victim.cookie)
  ).json();
  const sessions = (await call(ctx, 'GET', '/api/auth/sessions', victim.cookie)).json().sessions;
  const audit = (await call(ctx, 'GET', '/api/admin/audit?limit=200', admin.cookie)).json();
  const ids = {
    user: victim.id,
    conversation,
    messages: detail.messages.map((m: { id: string }) => m.id),
    generations: detail.messages.flatMap((m: { generation: { id: string } | null }) =>
      m.generation ? [m.generation.id] : [],
    ),
    runningGeneration: '',
    runningTemporary: '',
    sessions: sessions.map((s: { id: string }) => s.id),
    auditEntries: audit.entries
      .filter(
        (e: { actorId: string | null; targetUserId: string | null }) =>
          e.actorId === victim.id || e.targetUserId === victim.id,
      )
      .map((e: { id: string }) => e.id),
    folders: [folder.json().id as string],
    attachments: [sentFile, pendingFile],
    presets: [preset.json().id as string],
    comparisons: [comparison.id],
    others: [
      admin.id,
      ...(await call(ctx, 'GET', '/api/auth/sessions', admin.cookie))
        .json()
        .sessions.map((s: { id: string }) => s.id),
    ],
  } satisfies VictimIds;
  expect(ids.messages).toHaveLength(5);
  expect(ids.generations).toHaveLength(3);
  expect(ids.sessions).toHaveLength(2);
  expect(ids.auditEntries.length).toBeGreaterThanOrEqual(3);
  return { victim, otherDevice, ids };
}

describe('a second user tries the first user’s ids on every route', () => {
  let ctx: TestContext;
  let admin: SignedInUser;
  let victim: SignedInUser;
  let ids: VictimIds;
  let attacker: SignedInUser;
  let operations: Operation[];
  let victimStream: SseConnection;
  let victimTemporary: SseConnection;
  const victimEvents: ReceivedEvent[] = [];
  const canary = `canary-${crypto.randomUUID()}`;

  beforeAll(async () => {
    ctx = await startTestApp();
    admin = await setupAdmin(ctx.app);
    const built = await buildVictim(ctx, admin, canary);
    victim = built.victim;
    ids = built.ids;
    const created = await call(ctx, 'POST', '/api/admin/users', admin.cookie, {
      username: 'mallory',
      password: ATTACKER_PASSWORD,
    });
    expect(created.statusCode, created.body).toBe(201);
    attacker = {
      id: created.json().id,
      username: 'mallory',
      cookie: await login(ctx, 'mallory', ATTACKER_PASSWORD),
    };

    // An answer of the victim that stays running while the attacker tries: the fake sends
    // three chunks and then nothing, with the connection open.
    victimStream = await openSseRequest(
      `${ctx.baseUrl}/api/conversations/${ids.conversation}/messages`,
      {
        method: 'POST',
        cookie: victim.cookie,
        body: { content: `still writing ${canary}`, model: 'fake/stall' },
      },
    );
    expect(victimStream.status).toBe(200);
    let deltas = 0;
    let saved = false;
    const reader = victimStream.events[Symbol.asyncIterator]();
    // Three chunks written and the question saved (its user_message may follow the chunks).
    while (deltas < 3 || !saved) {
      const next = await reader.next();
      if (next.done) throw new Error('the running answer ended early');
      victimEvents.push(next.value);
      if (next.value.event === 'delta') deltas++;
      if (next.value.event === 'user_message') saved = true;
    }
    const started = victimEvents.find((e) => e.event === 'assistant_message')!.data;
    ids.runningGeneration = started.generationId;
    ids.messages.push(
      started.messageId,
      victimEvents.find((e) => e.event === 'user_message')!.data.id,
    );
    // Wait until the partial answer is saved, so the rows hold still while the attacker tries.
    const text = victimEvents
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.content)
      .join('');
    for (let i = 0; i < 100; i++) {
      const row = await ctx.db.one<{ content: string }>(
        'SELECT content FROM messages WHERE id = $1',
        [started.messageId],
      );
      if (row?.content === text) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // And a temporary chat of theirs, stalled the same way (nothing of it is stored).
    victimTemporary = await openSseRequest(`${ctx.baseUrl}/api/chat/temporary`, {
      method: 'POST',
      cookie: victim.cookie,
      body: {
        model: 'fake/stall',
        messages: [{ role: 'user', content: `off the record ${canary}` }],
      },
    });
    expect(victimTemporary.status).toBe(200);
    const temporaryReader = victimTemporary.events[Symbol.asyncIterator]();
    for (let temporaryDeltas = 0; temporaryDeltas < 3;) {
      const next = await temporaryReader.next();
      if (next.done) throw new Error('the temporary answer ended early');
      if (next.value.event === 'assistant_message') {
        ids.runningTemporary = next.value.data.generationId;
      }
      if (next.value.event === 'delta') temporaryDeltas++;
    }
    operations = await liveDocument(ctx);
  });
  afterAll(() => ctx.close());

  it('has a fixture for every path parameter of every route in the live document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(30);
    const uncovered = operations.filter(
      (o) =>
        o.pathParameters.length > 0 &&
        o.pathParameters.some((name) => !(name in (pathFixtures[o.path]?.(ids) ?? {}))),
    );
    expect(uncovered.map(label), 'add these routes to pathFixtures').toEqual([]);
    // No stale entries either: each fixture names a route that exists.
    const paths = new Set(operations.map((o) => o.path));
    expect(Object.keys(pathFixtures).filter((p) => !paths.has(p))).toEqual([]);
  });

  it(
    'every route: a typed 403/404 for the victim’s ids, 403 on admin routes, never their data, nothing changed',
    { timeout: 120_000 },
    async () => {
      const before = await dump(ctx, attacker.id);
      const upstreamBefore = ctx.fake.requests.length;
      const secrets = [canary, VICTIM_KEY, VICTIM_KEY.slice(-4), victim.username];
      let tried = 0;
      for (const operation of operations) {
        const body = bodyFor(operation, attacker);
        for (const url of urlsFor(operation, ids)) {
          const what = `${operation.method} ${url}`;
          const answer = await send(ctx, operation.method, url, attacker.cookie, body);
          tried++;
          if (isAdminRoute(operation)) {
            expectTypedError(what, answer, [403], 'auth.admin_only');
          } else if (operation.pathParameters.length > 0) {
            expectTypedError(what, answer, [403, 404]);
          } else {
            // The attacker's own resources (their conversations, key, budget, sessions).
            expect(answer.status, `${what}: ${answer.body.slice(0, 300)}`).toBeLessThan(500);
          }
          // Never the victim's data: none of their text, key, name or ids other than the one sent.
          const leaks = [...secrets, ...allIds(ids)].filter(
            (s) => !url.includes(s) && answer.body.includes(s),
          );
          expect(
            leaks,
            `${what} answered with the victim's data: ${answer.body.slice(0, 300)}`,
          ).toEqual([]);
          // Some routes sign the attacker out (logout, sign-in again): she signs back in.
          const me = await call(ctx, 'GET', '/api/auth/me', attacker.cookie);
          if (me.statusCode !== 200)
            attacker.cookie = await login(ctx, attacker.username, ATTACKER_PASSWORD);
        }
      }
      expect(tried).toBeGreaterThan(100);

      expect(await dump(ctx, attacker.id)).toEqual(before);
      // Nothing went upstream in the victim's name: no key of theirs, no text of theirs.
      const sent = ctx.fake.requests.slice(upstreamBefore);
      for (const request of sent) {
        expect(request.headers.authorization).not.toBe(`Bearer ${VICTIM_KEY}`);
        expect(JSON.stringify(request.body ?? '')).not.toContain(canary);
      }
    },
  );

  it('ids in bodies and queries: the victim’s messages as a parent, a cursor from their conversation', async () => {
    const own = await createConversation(ctx.app, attacker, { model: 'fake/echo' });
    const before = await dump(ctx, attacker.id);
    const upstreamBefore = ctx.fake.requests.length;
    for (const parentId of ids.messages) {
      const answer = await send(
        ctx,
        'POST',
        `/api/conversations/${own}/messages`,
        attacker.cookie,
        {
          content: 'continue from there',
          parentId,
        },
      );
      expectTypedError(`parentId ${parentId}`, answer, [400], 'message.parent_invalid');
      const compared = await send(
        ctx,
        'POST',
        `/api/conversations/${own}/compare`,
        attacker.cookie,
        { content: 'continue from there', models: ['fake/echo', 'fake/reasoning'], parentId },
      );
      expectTypedError(`compare parentId ${parentId}`, compared, [400], 'message.parent_invalid');
    }
    // Her own conversation with the victim's comparison and answers: not found in it.
    for (const comparisonId of ids.comparisons) {
      for (const messageId of ids.messages) {
        const chosen = await send(
          ctx,
          'POST',
          `/api/conversations/${own}/comparisons/${comparisonId}/choose`,
          attacker.cookie,
          { messageId },
        );
        expectTypedError(`choose ${messageId}`, chosen, [404], 'comparison.not_found');
      }
    }
    // The victim's files, sent or pending, as the attacker's attachments: not found.
    for (const attachmentId of ids.attachments) {
      const answer = await send(
        ctx,
        'POST',
        `/api/conversations/${own}/messages`,
        attacker.cookie,
        { content: 'what is in this file?', attachmentIds: [attachmentId] },
      );
      expectTypedError(`attachment ${attachmentId}`, answer, [404], 'attachment.not_found');
    }
    expect(ctx.fake.requests.length).toBe(upstreamBefore);

    // A keyset cursor pointing at the victim's conversation pages through the attacker's only.
    const victimConversation = (
      await call(ctx, 'GET', `/api/conversations/${ids.conversation}`, victim.cookie)
    ).json().conversation;
    const cursor = Buffer.from(
      JSON.stringify([
        victimConversation.pinned,
        victimConversation.updatedAt,
        victimConversation.id,
      ]),
    ).toString('base64url');
    const page = await send(
      ctx,
      'GET',
      `/api/conversations?cursor=${cursor}`,
      attacker.cookie,
      undefined,
    );
    expect(page.status).toBe(200);
    expect(page.body).not.toContain(canary);
    const listed = JSON.parse(page.body).conversations as Array<{ id: string }>;
    expect(listed.every((c) => c.id === own)).toBe(true);
    expect(await dump(ctx, attacker.id)).toEqual(before);
  });

  it('the victim’s answer was never touched: still running, theirs to reattach to and stop', async () => {
    const reattached = await openSseRequest(
      `${ctx.baseUrl}/api/generations/${ids.runningGeneration}/stream`,
      { method: 'GET', cookie: victim.cookie },
    );
    expect(reattached.status).toBe(200);
    const stop = await call(
      ctx,
      'POST',
      `/api/generations/${ids.runningGeneration}/stop`,
      victim.cookie,
    );
    expect(stop.statusCode, stop.body).toBe(200);
    const rest = await collect(reattached.events);
    expect(rest.at(-1)?.event).toBe('done');
    expect(rest.at(-1)?.data.status).toBe('stopped');
    const original = await collect(victimStream.events);
    expect(original.at(-1)?.event).toBe('done');

    // Their temporary answer too: still running, and theirs to stop.
    const stopTemporary = await call(
      ctx,
      'POST',
      `/api/generations/${ids.runningTemporary}/stop`,
      victim.cookie,
    );
    expect(stopTemporary.statusCode, stopTemporary.body).toBe(200);
    const temporaryRest = await collect(victimTemporary.events);
    expect(temporaryRest.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
  });
});

describe('dead sessions and no session: 401 on every route that needs one', () => {
  let ctx: TestContext;
  let admin: SignedInUser;
  let victim: SignedInUser;
  let ids: VictimIds;
  let operations: Operation[];
  let clock = Date.now();
  const DAY = 24 * 3600 * 1000;

  beforeAll(async () => {
    ctx = await startTestApp({ now: () => new Date(clock) });
    admin = await setupAdmin(ctx.app);
    const built = await buildVictim(ctx, admin, `canary-${crypto.randomUUID()}`);
    victim = built.victim;
    ids = {
      ...built.ids,
      runningGeneration: built.ids.generations[0]!,
      runningTemporary: built.ids.generations[0]!,
    };
    operations = await liveDocument(ctx);
  });
  afterAll(() => ctx.close());

  /** The session works (and so sits in the session cache, which its end must clear too). */
  async function expectLive(cookie: string) {
    expect((await call(ctx, 'GET', '/api/auth/me', cookie)).statusCode).toBe(200);
  }

  /** Every route but the public ones, with the victim's own ids: 401, and the database as it was. */
  async function expectLockedOut(why: string, cookie: string | undefined) {
    const before = await dump(ctx);
    let tried = 0;
    // The public routes need no session (the test above checks which they are).
    for (const operation of operations.filter((o) => !PUBLIC.has(label(o)))) {
      const url = urlsFor(operation, ids)[0]!;
      const answer = await send(ctx, operation.method, url, cookie, bodyFor(operation, victim));
      const what = `${why}: ${operation.method} ${url}`;
      expectTypedError(what, answer, [401], 'auth.unauthenticated');
      tried++;
    }
    expect(tried).toBeGreaterThanOrEqual(25);
    // Nothing at all may differ: sessions, audit log, keys, budgets, conversations.
    expect(await dump(ctx), why).toEqual(before);
  }

  it('the public routes are exactly the ones listed, and each exists', async () => {
    const answers = await Promise.all(
      operations.map(async (o) => ({
        o: label(o),
        status: (await send(ctx, o.method, urlsFor(o, ids)[0]!, undefined, undefined)).status,
      })),
    );
    const open = answers
      .filter((a) => a.status !== 401)
      .map((a) => a.o)
      .sort();
    expect(open).toEqual([...PUBLIC].sort());
  });

  it('no session, a made-up token, a token under the other cookie name', async () => {
    await expectLockedOut('no cookie', undefined);
    await expectLockedOut(
      'made-up token',
      `ai_session=${Buffer.alloc(32, 7).toString('base64url')}`,
    );
    const token = victim.cookie.split('=')[1]!;
    // Over plain HTTP only `ai_session` is read: the HTTPS name is someone else's cookie here.
    await expectLockedOut('__Host- name over HTTP', `__Host-ai_session=${token}`);
  });

  it('a session revoked from another device, signed out, or ended by a password change', async () => {
    const second = await login(ctx, victim.username, VICTIM_PASSWORD);
    await expectLive(second);
    const sessions = (await call(ctx, 'GET', '/api/auth/sessions', second)).json().sessions;
    const secondId = sessions.find((s: { current: boolean }) => s.current).id;
    const revoke = await call(ctx, 'DELETE', `/api/auth/sessions/${secondId}`, victim.cookie);
    expect(revoke.statusCode, revoke.body).toBe(204);
    await expectLockedOut('revoked session', second);

    const signedOut = await login(ctx, victim.username, VICTIM_PASSWORD);
    await expectLive(signedOut);
    expect((await call(ctx, 'POST', '/api/auth/logout', signedOut)).statusCode).toBe(204);
    await expectLockedOut('signed-out session', signedOut);

    const other = await login(ctx, victim.username, VICTIM_PASSWORD);
    await expectLive(other);
    const changed = await call(ctx, 'POST', '/api/auth/password', victim.cookie, {
      currentPassword: VICTIM_PASSWORD,
      newPassword: 'a newer fine password',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    await expectLockedOut('session of before the password change', other);
    const changedBack = await call(ctx, 'POST', '/api/auth/password', victim.cookie, {
      currentPassword: 'a newer fine password',
      newPassword: VICTIM_PASSWORD,
    });
    expect(changedBack.statusCode, changedBack.body).toBe(200);
  });

  it('a disabled user’s old session, also once the user is enabled again', async () => {
    const old = victim.cookie;
    await expectLive(old);
    const disable = await call(ctx, 'PATCH', `/api/admin/users/${victim.id}`, admin.cookie, {
      disabled: true,
    });
    expect(disable.statusCode, disable.body).toBe(200);
    await expectLockedOut('disabled user', old);
    const enable = await call(ctx, 'PATCH', `/api/admin/users/${victim.id}`, admin.cookie, {
      disabled: false,
    });
    expect(enable.statusCode, enable.body).toBe(200);
    await expectLockedOut('disabled, then enabled again', old);
    victim.cookie = await login(ctx, victim.username, VICTIM_PASSWORD);
  });

  it('expired sessions: idle too long, and past the absolute lifetime however much used', async () => {
    const idle = await login(ctx, victim.username, VICTIM_PASSWORD);
    await expectLive(idle);
    const busy = await login(ctx, victim.username, VICTIM_PASSWORD);
    // Used every 5 days: never idle 7 days, but past 30 days since sign-in.
    let last = 0;
    for (const day of [5, 10, 15, 20, 25, 29]) {
      clock += (day - last) * DAY;
      last = day;
      expect((await call(ctx, 'GET', '/api/auth/me', busy)).statusCode, `day ${day}`).toBe(200);
    }
    await expectLockedOut('idle 29 days', idle);
    clock += 2 * DAY;
    await expectLockedOut('31 days after sign-in', busy);
  });

  it('a deleted user’s old session', async () => {
    admin.cookie = await login(ctx, admin.username, 'correct horse battery');
    const old = await login(ctx, victim.username, VICTIM_PASSWORD);
    await expectLive(old);
    const deleted = await call(ctx, 'DELETE', `/api/admin/users/${victim.id}`, admin.cookie);
    expect(deleted.statusCode, deleted.body).toBe(204);
    await expectLockedOut('deleted user', old);
    // Nothing of theirs is left to reach: no row anywhere carries their id.
    const left = await dump(ctx);
    for (const [table, rows] of Object.entries(left)) {
      if (table === 'audit_log') continue; // the history of what happened to them stays
      expect(
        rows.filter((r) => r.includes(victim.id)),
        `${table} still holds the deleted user's rows`,
      ).toEqual([]);
    }
  });
});
