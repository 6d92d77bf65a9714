/**
 * Database at scale: generates users, conversations, messages and their generation rows
 * in a DuckDB file migrated by the backend itself, then times the reads a user waits for
 * (through the HTTP API of a backend started on that file: the conversation list, opening a
 * conversation, search, a month's usage summary), the SQL alone of some of them and of a send's
 * reads (through a direct DuckDB connection, the backend stopped), and sustained message writes
 * while reads run.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { Agent, request } from 'undici';
import { backendMemory, sampleOf, scrape } from './api.js';
import { freshDatabase } from './fresh-db.js';
import { Http, type HttpCall } from './http.js';
import { crashed, startBackend, stopService, type Service } from './services.js';
import { fmt, log, summarize, table, type Summary } from './util.js';

export interface DbOptions {
  dir: string;
  /** Where the database goes; null: a temp file in `dir`. */
  file: string | null;
  users: number;
  conversations: number;
  messages: number;
  /** Each user's first conversation has this many messages. */
  bigConversationMessages: number;
  /** Timed calls per measurement. */
  calls: number;
  /** Timed calls of the branch query on the big conversation (seconds each at full scale). */
  slowCalls: number;
  writeSeconds: number;
  /**
   * How the generated rows' ids are made: `time`, time-ordered as the backend makes them
   * (backend/src/db/ids.ts, UUIDv7 from each row's time), or `random` (random-looking, as
   * every id was before 2026-12-05): `--db-ids random`.
   */
  ids: 'time' | 'random';
}

export interface Timing {
  name: string;
  how: 'HTTP API' | 'SQL, direct DuckDB connection';
  what: string;
  target: number | null;
  ms: Summary;
}

export interface DbReport {
  file: string;
  ids: DbOptions['ids'];
  fileMb: number;
  rows: Record<string, number>;
  generateMs: number;
  timings: Timing[];
  writes: {
    seconds: number;
    writers: number;
    turns: number;
    messagesPerSecond: number;
    turnMs: Summary;
    readsDuring: Timing[];
  } | null;
  /**
   * The backend after the writes, from its /metrics: its RSS and DuckDB's memory (the ART
   * indexes it holds in memory, which no memory_limit caps, and its cached table blocks).
   */
  memoryAfterWrites: { rssMb: number; artMb: number; tableBlocksMb: number } | null;
  failedRequests: number;
  failureSamples: string[];
  crashes: string[];
  /** For the UI benchmark: a signed-in user and their 500-message conversation. */
  sample: { cookie: string; bigConversationId: string; userNo: number };
}

const MODELS = [
  'openai/gpt-4o-mini',
  'anthropic/claude-sonnet-4',
  'google/gemini-2.5-flash',
  'meta-llama/llama-3.3-70b-instruct',
  'deepseek/deepseek-chat',
];
const RARE_WORD = 'zeppelin';
const COMMON_WORD = 'people';

/** The session token of generated user n (its SHA-256 is what the sessions table holds). */
export const sessionToken = (userNo: number) => `bench-session-token-${userNo}`;
const cookieOf = (userNo: number) => `ai_session=${sessionToken(userNo)}`;

/**
 * The generated rows' ids (SQL macro `bid(kind, key, made)`): deterministic, UUID-shaped. With
 * `time` ids the first 48 bits are the row's time in ms and the rest comes from md5(kind, key),
 * as the backend's UUIDv7 ids are laid out; with `random` ids all of it comes from the md5.
 */
function idMacro(ids: DbOptions['ids']): string {
  const md5 = 'md5(kind || key)';
  const head =
    ids === 'time'
      ? `substr(lower(lpad(to_hex(epoch_ms(made)), 12, '0')), 1, 8) || '-' ||
         substr(lower(lpad(to_hex(epoch_ms(made)), 12, '0')), 9, 4) || '-7'`
      : `substr(${md5}, 1, 8) || '-' || substr(${md5}, 9, 4) || '-4'`;
  return `CREATE OR REPLACE TEMP MACRO bid(kind, key, made) AS (
    ${head} || substr(${md5}, 14, 3) || '-a' || substr(${md5}, 18, 3) || '-' ||
    substr(${md5}, 21, 12))`;
}

/** Generated conversation k's id, read back from the file (`Conversation k` is its title). */
export type ConversationIds = (k: number) => string;

export async function conversationIds(c: DuckDBConnection): Promise<ConversationIds> {
  const rows = (
    await c.runAndReadAll(
      "SELECT CAST(substr(title, 14) AS INTEGER), id FROM conversations WHERE title LIKE 'Conversation %'",
    )
  ).getRows();
  const ids = new Map(rows.map(([k, id]) => [Number(k), String(id)]));
  return (k) => {
    const id = ids.get(k);
    if (id === undefined) throw new Error(`no generated conversation ${k}`);
    return id;
  };
}

const VOCABULARY =
  'the a of and to in is it that for on with as was by at from this be or an are not have but they which one you were all we when there can more if no out so what up about into than them could only other time new some these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three function value return table query index stream answer model token cost river garden window letter number system question reason example'.split(
    ' ',
  );

/** ~200 KB of words; every message is a slice of it, so texts vary like prose does. */
function corpus(): string {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let text = '';
  while (text.length < 200_000) {
    text += VOCABULARY[Math.floor(next() * VOCABULARY.length)] + (next() < 0.08 ? '. ' : ' ');
  }
  return text;
}

async function run(c: DuckDBConnection, sql: string, params: DuckDBValue[] = []) {
  await c.run(sql, params);
}

/**
 * Fills a migrated database. Conversation k belongs to user k % users; the first conversation
 * of each user has `bigConversationMessages` messages, the others share the rest. Messages
 * alternate user/assistant, each the parent of the next (one branch), a minute apart; every
 * assistant message has its generation row. Rows go in in time order, users interleaved, as
 * a real file fills up.
 */
async function generate(
  file: string,
  o: DbOptions,
  adminId: string,
): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  try {
    const big = Math.min(o.bigConversationMessages, Math.floor(o.messages / o.users));
    const rest = o.messages - big * o.users;
    const small = o.conversations - o.users;
    const base = Math.floor(rest / small);
    const extra = rest % small;
    const models = `[${MODELS.map((m) => `'${m}'`).join(', ')}]`;
    await run(c, idMacro(o.ids));
    await run(c, 'CREATE OR REPLACE TEMP TABLE corpus AS SELECT $1::VARCHAR AS text', [corpus()]);
    // User 0 is the admin created through /api/auth/setup; the others are made here.
    await run(
      c,
      `CREATE OR REPLACE TEMP TABLE bench_users AS
       SELECT u AS user_no,
              CASE WHEN u = 0 THEN $1 ELSE bid('u', u, now() - INTERVAL 400 DAY) END AS id
       FROM range(${o.users}) t(u)`,
      [adminId],
    );
    await run(
      c,
      `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
       SELECT id, 'user' || user_no, 'bench: no password', 'user',
              now() - INTERVAL 400 DAY, now() - INTERVAL 400 DAY
       FROM bench_users WHERE user_no > 0`,
    );
    await run(
      c,
      `INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
       SELECT CAST(gen_random_uuid() AS TEXT), sha256('bench-session-token-' || user_no), id,
              now(), now(), now() + INTERVAL 7 DAY, 'bench'
       FROM bench_users`,
    );
    await run(
      c,
      `CREATE OR REPLACE TEMP TABLE bench_convs AS
       SELECT k, bid('c', k, started) AS id, user_id, n, model, started
       FROM (SELECT k, u.id AS user_id,
                    CASE WHEN k < ${o.users} THEN ${big}
                         WHEN k - ${o.users} < ${extra} THEN ${base + 1} ELSE ${base} END AS n,
                    ${models}[1 + (hash(k) % ${MODELS.length})::INT] AS model,
                    (now() - INTERVAL 365 DAY) + to_seconds((hash(k, 'start') % (360 * 86400))::BIGINT) AS started
             FROM range(${o.conversations}) t(k) JOIN bench_users u ON u.user_no = k % ${o.users})`,
    );
    await run(
      c,
      `INSERT INTO conversations (id, user_id, title, model, created_at, updated_at)
       SELECT id, user_id, 'Conversation ' || k, model, started, started + to_minutes(n::BIGINT)
       FROM bench_convs ORDER BY started`,
    );
    await run(
      c,
      `CREATE OR REPLACE TEMP TABLE bench_msgs AS
       SELECT k, i, id AS conversation_id, user_id, model, started + to_minutes(i::BIGINT) AS ts
       FROM (SELECT *, unnest(range(n::BIGINT)) AS i FROM bench_convs)`,
    );
    await run(
      c,
      `INSERT INTO messages (id, conversation_id, user_id, parent_id, role, content, reasoning,
                             model, status, error, created_at, updated_at)
       SELECT bid('m' || k || '-', i, ts), conversation_id, user_id,
              CASE WHEN i = 0 THEN NULL ELSE bid('m' || k || '-', i - 1, ts - INTERVAL 1 MINUTE) END,
              CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
              substr(corpus.text, 1 + (hash(k, i) % 190000)::BIGINT,
                     (CASE WHEN i % 2 = 0 THEN 40 + hash(i, k) % 160 ELSE 300 + hash(i, k) % 1700 END)::BIGINT)
                || CASE WHEN hash(k, i, 'rare') % 997 = 0 THEN ' ${RARE_WORD}' ELSE '' END,
              NULL, CASE WHEN i % 2 = 1 THEN model END, 'complete', NULL, ts, ts
       FROM bench_msgs, corpus ORDER BY ts`,
    );
    await run(
      c,
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider, upstream_id,
                                prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens,
                                cost_usd, time_to_first_token_ms, duration_ms, finish_reason,
                                error_code, created_at)
       SELECT bid('g' || k || '-', i, ts), bid('m' || k || '-', i, ts), user_id, conversation_id, model,
              'Bench', 'gen-bench-' || k || '-' || i,
              p, q, 0, 0, p * 0.000001 + q * 0.000002,
              200 + (hash(k, i, 't') % 800)::INT, 2000 + (hash(k, i, 'd') % 20000)::INT, 'stop', NULL, ts
       FROM (SELECT *, (50 + i * 150)::INT AS p, (75 + hash(k, i, 'q') % 425)::INT AS q
             FROM bench_msgs WHERE i % 2 = 1)
       ORDER BY ts`,
    );
    // Rows written behind the backend's back into days its usage rollup closed at the
    // migrating start: marked dirty, as every writer of generations does (migration 014).
    await run(
      c,
      `INSERT INTO usage_dirty_days (day)
       SELECT DISTINCT epoch_ms(created_at) // 86400000 FROM generations`,
    );
    await run(c, 'CHECKPOINT');
    const rows: Record<string, number> = {};
    for (const t of ['users', 'sessions', 'conversations', 'messages', 'generations']) {
      const reader = await c.runAndReadAll(`SELECT count(*) FROM ${t}`);
      rows[t] = Number(reader.getRows()[0]?.[0] ?? 0);
    }
    return rows;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/**
 * The whole calendar month (i % 12) + 1 months before the current one, in UTC: its first
 * instant and the first instant after it.
 */
function calendarMonth(i: number): { start: Date; next: Date } {
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1 - (i % 12), 1));
  const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  return { start, next };
}

const SEARCH_SQL = `SELECT id, conversation_id, role, content, created_at FROM messages
WHERE user_id = $1 AND strpos(lower(content), lower($2)) > 0
ORDER BY created_at DESC LIMIT 50`;

const USAGE_SQL = `SELECT model, count(*) AS generations, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cost_usd) AS cost_usd
FROM generations
WHERE user_id = $1 AND created_at >= CAST($2 AS TIMESTAMPTZ) AND created_at < CAST($3 AS TIMESTAMPTZ)
GROUP BY model ORDER BY model`;

/**
 * SQL timings through a direct connection, as the backend's Queryable runs them (prepare +
 * run); and the generated conversations' ids, read on the same connection.
 */
async function sqlTimings(
  file: string,
  o: DbOptions,
): Promise<{ timings: Timing[]; conversationId: ConversationIds }> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  try {
    const conversationId = await conversationIds(c);
    const users = (
      await c.runAndReadAll(
        // users[n] is generated user n (the admin is user 0).
        "SELECT id FROM users ORDER BY CASE WHEN username = 'admin' THEN 0 ELSE CAST(substr(username, 5) AS INTEGER) END",
      )
    )
      .getRows()
      .map((r) => String(r[0]));
    const time: Timer = async (sql, params, calls = o.calls) => {
      const ms: number[] = [];
      for (let i = 0; i < calls; i++) {
        const start = performance.now();
        (await c.runAndReadAll(sql, params(i))).getRowObjectsJS();
        ms.push(performance.now() - start);
      }
      return summarize(ms);
    };
    const user = (i: number) => users[(i * 7) % users.length] ?? '';
    const month = (i: number) => {
      const { start, next } = calendarMonth(i);
      return [start.toISOString(), next.toISOString()];
    };
    const conversationCount = o.conversations;
    const timings: Timing[] = [
      {
        name: 'one conversation by id and user (two filters: DuckDB scans)',
        how: 'SQL, direct DuckDB connection',
        what: 'SELECT … FROM conversations WHERE id = $1 AND user_id = $2',
        target: null,
        ms: await time(
          'SELECT id, title, model, created_at, updated_at FROM conversations WHERE id = $1 AND user_id = $2',
          (i) => {
            const k = (i * 7919) % conversationCount;
            return [conversationId(k), users[k % o.users] ?? ''];
          },
        ),
      },
      ...(await hotPath(o, time, conversationId)),
      {
        name: 'search one user’s messages, rare word: its SQL alone',
        how: 'SQL, direct DuckDB connection',
        what: `strpos(lower(content), lower('${RARE_WORD}')) > 0 (≈1 message in 1,000), newest 50`,
        target: null,
        ms: await time(SEARCH_SQL, (i) => [user(i), RARE_WORD]),
      },
      {
        name: 'search one user’s messages, common word: its SQL alone',
        how: 'SQL, direct DuckDB connection',
        what: `strpos(lower(content), lower('${COMMON_WORD}')) > 0, newest 50`,
        target: null,
        ms: await time(SEARCH_SQL, (i) => [user(i), COMMON_WORD]),
      },
      {
        name: 'tokens and cost by model for a month: SQL over the generation rows',
        how: 'SQL, direct DuckDB connection',
        what: 'sum of tokens and cost by model, one user, one whole calendar month',
        target: null,
        ms: await time(USAGE_SQL, (i) => [user(i), ...month(i)]),
      },
    ];
    return { timings, conversationId };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

type Timer = (
  sql: string,
  params: (i: number) => DuckDBValue[],
  calls?: number,
) => Promise<Summary>;

/**
 * The statements the backend runs before an answer's first token, as its repos write them
 * (the turn's insert commits while the upstream call starts): the session lookup (cached for
 * 30 s by the backend), the conversation by id, and the conversation's messages, from which the
 * newest one and the branch sent upstream are found in memory.
 */
async function hotPath(
  o: DbOptions,
  time: Timer,
  conversationId: ConversationIds,
): Promise<Timing[]> {
  const small = (i: number) => o.users * (1 + (i % 5)) + (i % o.users);
  const typical = Math.floor(
    (o.messages - o.bigConversationMessages * o.users) / (o.conversations - o.users),
  );
  const how = 'SQL, direct DuckDB connection' as const;
  const contextSql = `SELECT id, user_id, parent_id, role, content, created_at FROM messages
     WHERE conversation_id = $1`;
  return [
    {
      name: 'send: session lookup (every API call; cached 30 s)',
      how,
      what: 'sessions JOIN users WHERE token_hash = $1',
      target: null,
      ms: await time(
        `SELECT s.id AS session_id, u.id, u.username, u.role, u.created_at,
                s.created_at AS session_created_at, s.last_seen_at, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > CAST($2 AS TIMESTAMPTZ)
           AND u.disabled_at IS NULL`,
        (i) => [
          createHash('sha256')
            .update(sessionToken(i % o.users))
            .digest('hex'),
          new Date().toISOString(),
        ],
      ),
    },
    {
      name: 'send: the conversation by id (owner checked in code)',
      how,
      what: 'conversations WHERE id = $1',
      target: null,
      ms: await time(
        `SELECT user_id, id, title, model, fallback_models, created_at, updated_at
         FROM conversations WHERE id = $1`,
        (i) => [conversationId(small(i))],
      ),
    },
    {
      name: `send: the conversation's messages (context), ${typical}-message conversation`,
      how,
      what: 'messages WHERE conversation_id = $1 (chat repo contextRows)',
      target: null,
      ms: await time(contextSql, (i) => [conversationId(small(i))]),
    },
    {
      name: `send: the conversation's messages (context), ${o.bigConversationMessages}-message conversation`,
      how,
      what: 'messages WHERE conversation_id = $1 (chat repo contextRows)',
      target: null,
      ms: await time(contextSql, () => [conversationId(0)], o.slowCalls),
    },
  ];
}

export async function dbBench(o: DbOptions): Promise<DbReport> {
  const file = o.file ?? path.join(o.dir, 'bench.db');
  const services: Service[] = [];
  const crashes: string[] = [];
  try {
    const { fakeUrl, rows, generateMs } = await freshDatabase(
      'db',
      { dir: o.dir, file },
      services,
      (adminId) => {
        log(
          `db: generating ${o.users} users, ${o.conversations} conversations, ${o.messages} messages`,
        );
        return generate(file, o, adminId);
      },
    );

    log('db: timing SQL alone (direct connection; the backend is stopped)');
    const { timings, conversationId } = await sqlTimings(file, o);

    const backend = await startBackend({ dir: o.dir, databasePath: file, upstreamUrl: fakeUrl });
    services.push(backend.service);
    const agent = new Agent({ connections: 16 });
    const http = new Http(backend.url, agent);
    const user = (i: number) => (i * 7) % o.users;
    const bigOf = (u: number) => conversationId(u); // conversation k = u is user u's big one
    const smallOf = (u: number, i: number) => conversationId(u + o.users * (1 + (i % 5)));
    const list = (i: number): HttpCall => ({
      path: '/api/conversations?limit=30',
      cookie: cookieOf(user(i)),
      check: (j) =>
        (j as { conversations?: unknown[] }).conversations?.length ===
        Math.min(30, o.conversations / o.users)
          ? null
          : 'wrong page size',
    });
    const openBig = (i: number): HttpCall => ({
      path: `/api/conversations/${bigOf(user(i))}`,
      cookie: cookieOf(user(i)),
      check: (j) =>
        (j as { messages?: unknown[] }).messages?.length ===
        Math.min(o.bigConversationMessages, o.messages / o.users)
          ? null
          : 'wrong message count',
    });
    const openSmall = (i: number): HttpCall => ({
      path: `/api/conversations/${smallOf(user(i), i)}`,
      cookie: cookieOf(user(i)),
    });
    const search =
      (word: string, atLeast: number) =>
      (i: number): HttpCall => ({
        path: `/api/search?q=${word}`,
        cookie: cookieOf(user(i)),
        check: (j) => {
          const results = (j as { results?: unknown }).results;
          return Array.isArray(results) && results.length >= atLeast
            ? null
            : `fewer than ${atLeast} results`;
        },
      });
    // A whole calendar month, as the usage page asks for it: its first and its last day.
    const monthSummary = (i: number): HttpCall => {
      const { start, next } = calendarMonth(i);
      const day = (d: Date) => d.toISOString().slice(0, 10);
      return {
        path: `/api/usage/summary?from=${day(start)}&to=${day(new Date(next.getTime() - 86_400_000))}`,
        cookie: cookieOf(user(i)),
        check: (j) =>
          typeof (j as { totals?: { generations?: unknown } }).totals?.generations === 'number'
            ? null
            : 'no totals',
      };
    };
    const timed = (make: (i: number) => HttpCall, calls: number) => http.timed(make, calls, 5);
    log('db: timing reads through the HTTP API');
    timings.unshift(
      {
        name: 'conversation list, first page',
        how: 'HTTP API',
        what: 'GET /api/conversations?limit=30',
        target: 10,
        ms: await timed(list, o.calls),
      },
      {
        name: `open a ${o.bigConversationMessages}-message conversation`,
        how: 'HTTP API',
        what: 'GET /api/conversations/:id',
        target: 25,
        ms: await timed(openBig, o.calls),
      },
      {
        name: 'open a typical conversation',
        how: 'HTTP API',
        what: `GET /api/conversations/:id (${Math.floor((o.messages - o.bigConversationMessages * o.users) / (o.conversations - o.users))} messages)`,
        target: null,
        ms: await timed(openSmall, o.calls),
      },
      {
        name: 'search one user’s conversations, rare word',
        how: 'HTTP API',
        what: `GET /api/search?q=${RARE_WORD} (titles, then messages: ≈1 in 1,000 has it)`,
        target: 150,
        ms: await timed(search(RARE_WORD, 0), o.calls),
      },
      {
        name: 'search one user’s conversations, common word',
        how: 'HTTP API',
        what: `GET /api/search?q=${COMMON_WORD} (the newest 50 messages)`,
        target: 150,
        ms: await timed(search(COMMON_WORD, 50), o.calls),
      },
      {
        name: 'usage summary for a month',
        how: 'HTTP API',
        what: 'GET /api/usage/summary?from=…&to=… (one user, one calendar month)',
        target: 100,
        ms: await timed(monthSummary, o.calls),
      },
    );

    log(`db: sustained message writes for ${o.writeSeconds} s while reads run`);
    const writers = 8;
    const deadline = performance.now() + o.writeSeconds * 1000;
    const turnMs: number[] = [];
    let turns = 0;
    const writeLoop = async (w: number) => {
      for (let n = 0; performance.now() < deadline; n++) {
        // Writer w writes in small conversations of its own (each a few turns long).
        const u = user(w * 13 + n);
        const perUser = Math.floor(o.conversations / o.users);
        const j = 1 + ((6 + w + writers * (n % 10)) % (perUser - 1));
        const conversation = conversationId(u + o.users * j);
        const start = performance.now();
        try {
          const { statusCode, body } = await request(
            `${backend.url}/api/conversations/${conversation}/messages`,
            {
              method: 'POST',
              headers: { 'content-type': 'application/json', cookie: cookieOf(u) },
              body: JSON.stringify({
                content: `Bench write ${w}-${n} [fake chunks=1 delay=0]`,
                model: 'fake/echo',
              }),
              dispatcher: agent,
            },
          );
          const text = await body.text();
          if (statusCode !== 200 || !text.includes('event: done')) {
            http.fail(`POST message: ${statusCode} ${text.slice(-200)}`);
          } else {
            turns++;
            turnMs.push(performance.now() - start);
          }
        } catch (error) {
          http.fail(`POST message: ${String(error)}`);
        }
      }
    };
    const readLoop = async (make: (i: number) => HttpCall, out: number[]) => {
      for (let i = 0; performance.now() < deadline; i++) out.push(await http.call(make(i)));
    };
    const listDuring: number[] = [];
    const openDuring: number[] = [];
    const writeStart = performance.now();
    await Promise.all([
      ...Array.from({ length: writers }, (_, w) => writeLoop(w)),
      readLoop(list, listDuring),
      readLoop(openBig, openDuring),
    ]);
    const writeSeconds = (performance.now() - writeStart) / 1000;
    await agent.close();
    const metrics = await scrape(backend.url);
    const memory = backendMemory(metrics);
    const memoryAfterWrites =
      metrics === ''
        ? null
        : {
            rssMb: sampleOf(metrics, 'process_resident_memory_bytes') / 1048576,
            artMb: memory.duckdbMb['ART_INDEX'] ?? 0,
            tableBlocksMb: memory.duckdbMb['BASE_TABLE'] ?? 0,
          };
    for (const s of services) if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);

    const { size } = await stat(file);
    return {
      file,
      ids: o.ids,
      fileMb: size / 2 ** 20,
      rows,
      generateMs,
      timings,
      writes: {
        seconds: writeSeconds,
        writers,
        turns,
        // Each turn writes two messages (question and answer) and a generation row.
        messagesPerSecond: (turns * 2) / writeSeconds,
        turnMs: summarize(turnMs),
        readsDuring: [
          {
            name: 'conversation list during writes',
            how: 'HTTP API',
            what: 'GET /api/conversations?limit=30',
            target: null,
            ms: summarize(listDuring),
          },
          {
            name: `open ${o.bigConversationMessages}-message conversation during writes`,
            how: 'HTTP API',
            what: 'GET /api/conversations/:id',
            target: null,
            ms: summarize(openDuring),
          },
        ],
      },
      memoryAfterWrites,
      failedRequests: http.failures,
      failureSamples: http.samples,
      crashes,
      sample: { cookie: cookieOf(0), bigConversationId: bigOf(0), userNo: 0 },
    };
  } finally {
    for (const s of services.reverse()) {
      if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
}

export function dbMarkdown(r: DbReport): string {
  const met = (t: Timing) =>
    t.target === null
      ? ''
      : t.ms.p50 <= t.target && t.ms.p99 <= t.target
        ? 'met'
        : t.ms.p50 <= t.target
          ? 'p50 met, p99 not'
          : 'not met';
  const lines = [
    `File ${r.file}: ${fmt(r.fileMb, 0)} MB; ${Object.entries(r.rows)
      .map(([t, n]) => `${n.toLocaleString('en')} ${t}`)
      .join(
        ', ',
      )}; ${r.ids === 'time' ? 'time-ordered' : 'random'} ids; generated in ${fmt(r.generateMs / 1000, 1)} s.\n`,
    table(
      ['what', 'how', 'call', 'calls', 'p50 ms', 'p99 ms', 'max ms', 'target ms', 'target'],
      r.timings.map((t) => [
        t.name,
        t.how,
        t.what,
        String(t.ms.n),
        fmt(t.ms.p50, 2),
        fmt(t.ms.p99, 2),
        fmt(t.ms.max, 2),
        t.target === null ? '–' : `≤ ${t.target}`,
        met(t),
      ]),
    ),
    '',
  ];
  if (r.writes) {
    const w = r.writes;
    lines.push(
      `Sustained writes: ${w.writers} concurrent writers sending messages (each turn = question + answer + generation row, fake upstream answering at once) for ${fmt(w.seconds, 1)} s while one reader lists and one opens the 500-message conversation in a loop: **${fmt(w.messagesPerSecond, 0)} messages/s** (${w.turns} turns; turn p50 ${fmt(w.turnMs.p50, 1)} ms, p99 ${fmt(w.turnMs.p99, 1)} ms).\n`,
      table(
        ['read during writes', 'calls', 'p50 ms', 'p99 ms', 'max ms'],
        w.readsDuring.map((t) => [
          t.name,
          String(t.ms.n),
          fmt(t.ms.p50, 2),
          fmt(t.ms.p99, 2),
          fmt(t.ms.max, 2),
        ]),
      ),
      '',
    );
  }
  if (r.memoryAfterWrites) {
    const m = r.memoryAfterWrites;
    lines.push(
      `Backend after the writes (its /metrics): RSS ${fmt(m.rssMb, 0)} MB; DuckDB's ART indexes ${fmt(m.artMb, 1)} MB, cached table blocks ${fmt(m.tableBlocksMb, 1)} MB.\n`,
    );
  }
  if (r.failedRequests)
    lines.push(`Failed requests: ${r.failedRequests}: ${r.failureSamples.join(' | ')}\n`);
  return lines.join('\n');
}
