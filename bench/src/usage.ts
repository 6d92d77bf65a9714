/**
 * Usage analytics at scale: a database with `generations` rows (2,000,000 in the full run)
 * spread over a year, 100 users, several models, providers and kinds, some errors and some
 * estimated rows, plus the price history of the models; then every usage report timed through
 * the HTTP API of a production backend started on that file: one user's (their last 30 days,
 * their year) and the whole server's (an admin's view, 30 days and a year), the downloads too.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { Agent } from 'undici';
import { freshDatabase } from './fresh-db.js';
import { Http } from './http.js';
import { crashed, startBackend, stopService, type Service } from './services.js';
import { fmt, log, table, type Summary } from './util.js';

export interface UsageOptions {
  dir: string;
  /** Where the database goes; null: a temp file in `dir`. */
  file: string | null;
  users: number;
  conversations: number;
  generations: number;
  /** Timed calls per measurement. */
  calls: number;
}

export interface UsageTiming {
  name: string;
  call: string;
  rows: string;
  ms: Summary;
}

export interface UsageReport {
  file: string;
  fileMb: number;
  rows: Record<string, number>;
  generateMs: number;
  /** The backend's start on the generated file, which sums the usage rollup. */
  startMs: number;
  timings: UsageTiming[];
  failedRequests: number;
  failureSamples: string[];
  crashes: string[];
}

const MODELS = [
  'openai/gpt-4o-mini',
  'anthropic/claude-sonnet-4',
  'google/gemini-2.5-flash',
  'meta-llama/llama-3.3-70b-instruct',
  'deepseek/deepseek-chat',
  'openai/gpt-4.1',
];
const PROVIDERS = ['OpenAI', 'Anthropic', 'Google', 'DeepInfra', 'DeepSeek', 'Together'];
const KINDS = [
  'answer',
  'answer',
  'answer',
  'answer',
  'answer',
  'regenerate',
  'continue',
  'compare',
  'title',
];
const ERRORS = [
  'upstream.rate_limited',
  'upstream.stream_error',
  'upstream.timeout',
  'upstream.unavailable',
];

const sessionToken = (userNo: number) => `bench-usage-session-${userNo}`;
const cookieOf = (userNo: number) => `ai_session=${sessionToken(userNo)}`;

async function generate(
  file: string,
  o: UsageOptions,
  adminId: string,
): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  const run = (sql: string, params: DuckDBValue[] = []) => c.run(sql, params);
  const list = (values: string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
  try {
    await run(
      `CREATE OR REPLACE TEMP MACRO buuid(kind, key) AS (
         substr(md5(kind || key), 1, 8) || '-' || substr(md5(kind || key), 9, 4) || '-4' ||
         substr(md5(kind || key), 14, 3) || '-a' || substr(md5(kind || key), 18, 3) || '-' ||
         substr(md5(kind || key), 21, 12))`,
    );
    await run(
      `CREATE OR REPLACE TEMP TABLE bench_users AS
       SELECT u AS user_no, CASE WHEN u = 0 THEN $1 ELSE buuid('u', u) END AS id
       FROM range(${o.users}) t(u)`,
      [adminId],
    );
    await run(
      `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
       SELECT id, 'user' || user_no, 'bench: no password', 'user', now() - INTERVAL 400 DAY,
              now() - INTERVAL 400 DAY
       FROM bench_users WHERE user_no > 0`,
    );
    await run(
      `INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
       SELECT CAST(gen_random_uuid() AS TEXT), sha256('bench-usage-session-' || user_no), id,
              now(), now(), now() + INTERVAL 7 DAY, 'bench'
       FROM bench_users`,
    );
    await run(
      `INSERT INTO conversations (id, user_id, title, model, created_at, updated_at)
       SELECT buuid('c', k), u.id, 'Conversation ' || k, ${list(MODELS)}[1 + (k % ${MODELS.length})],
              now() - INTERVAL 365 DAY, now()
       FROM range(${o.conversations}) t(k) JOIN bench_users u ON u.user_no = k % ${o.users}`,
    );
    // Prices: each model's price changed once, half a year ago (the second row doubles it).
    await run(
      `INSERT INTO model_prices (model_id, valid_from, valid_to, prompt_price, completion_price,
                                 request_price, cache_read_price, reasoning_price)
       SELECT m, now() - INTERVAL 400 DAY, now() - INTERVAL 180 DAY, 0.000001 * (i + 1),
              0.000004 * (i + 1), 0, 0.00000025 * (i + 1), NULL
       FROM (SELECT unnest(${list(MODELS)}) AS m, unnest(range(${MODELS.length})) AS i)
       UNION ALL
       SELECT m, now() - INTERVAL 180 DAY, NULL, 0.000002 * (i + 1), 0.000008 * (i + 1), 0, NULL, NULL
       FROM (SELECT unnest(${list(MODELS)}) AS m, unnest(range(${MODELS.length})) AS i)`,
    );
    // Generation g: user g % users, a conversation of that user, in time order over the last
    // 365 days (users interleaved, as a file fills); 3 % errors, 2 % estimates.
    const perUser = Math.floor(o.conversations / o.users);
    await run(
      `INSERT INTO generations (id, message_id, user_id, conversation_id, model, provider,
         upstream_id, prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost_usd,
         time_to_first_token_ms, duration_ms, finish_reason, error_code, created_at, purpose,
         imported, usage_source, tokens_per_second)
       SELECT buuid('g', g), buuid('m', g), u.id,
              buuid('c', (g % ${o.users}) + ${o.users} * (hash(g, 'c') % ${perUser})),
              ${list(MODELS)}[1 + m], CASE WHEN failed THEN NULL ELSE ${list(PROVIDERS)}[1 + m] END,
              'gen-bench-' || g,
              CASE WHEN failed THEN NULL ELSE p END, CASE WHEN failed THEN NULL ELSE q END,
              CASE WHEN failed THEN NULL ELSE (q * (hash(g, 'r') % 30) / 100)::INT END,
              CASE WHEN failed THEN NULL ELSE (p * (hash(g, 'k') % 50) / 100)::INT END,
              CASE WHEN failed THEN NULL ELSE (p * 0.000001 + q * 0.000004) * (m + 1) END,
              CASE WHEN failed THEN NULL ELSE ttft END, ttft + d,
              CASE WHEN failed THEN 'error' ELSE 'stop' END,
              CASE WHEN failed THEN ${list(ERRORS)}[1 + (hash(g, 'e') % ${ERRORS.length})::INT] END,
              ts, ${list(KINDS)}[1 + (hash(g, 'p') % ${KINDS.length})::INT], false,
              CASE WHEN failed THEN NULL WHEN hash(g, 's') % 50 = 0 THEN 'estimate' ELSE 'stream' END,
              CASE WHEN failed THEN NULL ELSE q * 1000.0 / d END
       FROM (SELECT g, (hash(g, 'm') % ${MODELS.length})::INT AS m, hash(g, 'f') % 100 < 3 AS failed,
                    (50 + hash(g, 'p') % 4000)::INT AS p, (20 + hash(g, 'q') % 1500)::INT AS q,
                    (150 + hash(g, 't') % 2500)::INT AS ttft, (500 + hash(g, 'd') % 30000)::INT AS d,
                    now() - INTERVAL 365 DAY + to_microseconds((g * (365 * 86400000000 // ${o.generations}))::BIGINT) AS ts
             FROM range(${o.generations}) t(g)) x
       JOIN bench_users u ON u.user_no = g % ${o.users}
       ORDER BY ts`,
    );
    // Rows written behind the backend's back into days its usage rollup closed at the
    // migrating start: marked dirty, as every writer of generations does (migration 014). The
    // next start sums them before it listens (its time is reported).
    await run(
      `INSERT INTO usage_dirty_days (day)
       SELECT DISTINCT epoch_ms(created_at) // 86400000 FROM generations`,
    );
    await run('CHECKPOINT');
    const rows: Record<string, number> = {};
    for (const t of ['users', 'conversations', 'generations', 'model_prices']) {
      const reader = await c.runAndReadAll(`SELECT count(*) FROM ${t}`);
      rows[t] = Number(reader.getRows()[0]?.[0] ?? 0);
    }
    return rows;
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function usageBench(o: UsageOptions): Promise<UsageReport> {
  const file = o.file ?? path.join(o.dir, 'usage.db');
  const services: Service[] = [];
  const crashes: string[] = [];
  try {
    const { fakeUrl, rows, generateMs } = await freshDatabase(
      'usage',
      { dir: o.dir, file },
      services,
      (adminId) => {
        log(`usage: generating ${o.generations} generation rows for ${o.users} users`);
        return generate(file, o, adminId);
      },
    );

    // This start sums every closed day into the usage rollup before it answers /api/ready.
    const startBegin = performance.now();
    const backend = await startBackend({ dir: o.dir, databasePath: file, upstreamUrl: fakeUrl });
    const startMs = performance.now() - startBegin;
    log(`usage: the backend started (rollup summed) in ${(startMs / 1000).toFixed(1)} s`);
    services.push(backend.service);
    const agent = new Agent({ connections: 4 });
    const http = new Http(backend.url, agent);
    const today = Date.parse(`${day(Date.now())}T00:00:00.000Z`);
    const month = `from=${day(today - 29 * 86_400_000)}&to=${day(today)}`;
    const year = `from=${day(today - 364 * 86_400_000)}&to=${day(today)}`;
    const timed = (path: (i: number) => string, cookie: (i: number) => string) =>
      http.timed((i) => ({ path: path(i), cookie: cookie(i) }), o.calls, 3);
    // Users 1…n-1 in turn (user 0 is the admin).
    const userNo = (i: number) => 1 + ((i * 7) % (o.users - 1));
    const perUser = Math.round(o.generations / o.users);
    const timings: UsageTiming[] = [];
    const reports = ['summary', 'daily', 'latency', 'conversations', 'errors', 'prices'];
    for (const [label, range, share] of [
      ['one user, 30 days', month, 30 / 365],
      ['one user, 365 days', year, 1],
    ] as const) {
      for (const report of reports) {
        log(`usage: ${report}, ${label}`);
        timings.push({
          name: `${report}: ${label}`,
          call: `GET /api/usage/${report}`,
          rows: `≈${Math.round(perUser * share).toLocaleString('en')} of ${o.generations.toLocaleString('en')}`,
          ms: await timed(
            () => `/api/usage/${report}?${range}`,
            (i) => cookieOf(userNo(i)),
          ),
        });
      }
    }
    for (const [label, range, share] of [
      ['whole server (admin), 30 days', month, 30 / 365],
      ['whole server (admin), 365 days', year, 1],
    ] as const) {
      for (const report of reports) {
        log(`usage: ${report}, ${label}`);
        timings.push({
          name: `${report}: ${label}`,
          call: `GET /api/usage/${report}?user=all`,
          rows: `≈${Math.round(o.generations * share).toLocaleString('en')}`,
          ms: await timed(
            () => `/api/usage/${report}?${range}&user=all`,
            () => cookieOf(0),
          ),
        });
      }
      timings.push({
        name: `users: ${label}`,
        call: 'GET /api/admin/usage/users',
        rows: `≈${Math.round(o.generations * share).toLocaleString('en')}`,
        ms: await timed(
          () => `/api/admin/usage/users?${range}`,
          () => cookieOf(0),
        ),
      });
    }
    for (const format of ['csv', 'parquet']) {
      for (const report of ['daily', 'generations']) {
        timings.push({
          name: `download ${report} (${format}): one user, 30 days`,
          call: `GET /api/usage/export?report=${report}&format=${format}`,
          rows: `≈${Math.round((perUser * 30) / 365).toLocaleString('en')}`,
          ms: await timed(
            () => `/api/usage/export?report=${report}&format=${format}&${month}`,
            (i) => cookieOf(userNo(i)),
          ),
        });
      }
    }
    await agent.close();
    for (const s of services) if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
    const { size } = await stat(file);
    return {
      file,
      fileMb: size / 2 ** 20,
      rows,
      generateMs,
      startMs,
      timings,
      failedRequests: http.failures,
      failureSamples: http.samples,
      crashes,
    };
  } finally {
    for (const s of services.reverse()) {
      if (crashed(s)) crashes.push(`${s.name} exited: ${s.tail(10)}`);
      await stopService(s);
    }
  }
}

export function usageMarkdown(r: UsageReport): string {
  const met = (t: UsageTiming) =>
    t.ms.p50 <= 100 ? (t.ms.p99 <= 100 ? 'met' : 'p50 met') : 'not met';
  const lines = [
    `File ${r.file}: ${fmt(r.fileMb, 0)} MB; ${Object.entries(r.rows)
      .map(([t, n]) => `${n.toLocaleString('en')} ${t}`)
      .join(
        ', ',
      )}; generated in ${fmt(r.generateMs / 1000, 1)} s; the backend's start on it (which sums the usage rollup) took ${fmt(r.startMs / 1000, 1)} s.\n`,
    table(
      ['report', 'call', 'rows in range', 'calls', 'p50 ms', 'p99 ms', 'max ms', '≤ 100 ms p50'],
      r.timings.map((t) => [
        t.name,
        t.call,
        t.rows,
        String(t.ms.n),
        fmt(t.ms.p50, 1),
        fmt(t.ms.p99, 1),
        fmt(t.ms.max, 1),
        t.name.startsWith('download') ? '–' : met(t),
      ]),
    ),
    '',
  ];
  if (r.failedRequests)
    lines.push(`Failed requests: ${r.failedRequests}: ${r.failureSamples.join(' | ')}\n`);
  return lines.join('\n');
}
