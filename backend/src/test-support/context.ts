import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../../tools/fake-openrouter/src/server.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase, type Database, type ObservableDatabase } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import type { LogSettings } from '../http/logging.js';
import { createKeyring, type Keyring } from '../keys/crypto.js';
import { createOpenRouterClient, type OpenRouterClientOptions } from '../openrouter/client.js';

export interface TestContext {
  app: FastifyInstance;
  db: Database;
  fake: FakeOpenRouter;
  /** http://127.0.0.1:<port> of the listening backend, for streaming over a real socket. */
  baseUrl: string;
  databasePath: string;
  /** Takes the fake upstream down, as an outage would. */
  stopUpstream(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The backend as it runs, on a real DuckDB file in a temp folder, talking to the fake
 * OpenRouter through the real client. Close it in afterEach.
 */
export async function startTestApp(
  options: {
    apiKey?: string | null;
    modelsTtlSeconds?: number;
    /** Logs are off unless a test wants to read them. */
    logger?: LogSettings | false;
    shutdownGraceMs?: number;
    /** The app's clock (sessions, sign-in limits, audit); tests move it instead of waiting. */
    now?: () => Date;
    /** Seals users' keys; a fresh random key by default. */
    keyring?: Keyring;
    /** Extra environment for loadConfig (e.g. CHAT_RATE_LIMIT_PER_MINUTE). */
    env?: Record<string, string>;
    /** Waits of the background usage fill before each GET /generation; short by default. */
    usageFillDelaysMs?: number[];
    /**
     * Timeouts and retries of the upstream client. By default the production values, except a
     * 10 ms backoff (capped at 100 ms) so that retried failures do not slow tests down.
     */
    /** What the app gets as its database (e.g. one whose writes fail on demand); the real one by default. */
    wrapDb?: (db: ObservableDatabase) => ObservableDatabase;
    upstream?: Pick<
      OpenRouterClientOptions,
      | 'connectTimeoutMs'
      | 'idleTimeoutMs'
      | 'maxRetries'
      | 'retryBaseDelayMs'
      | 'retryMaxDelayMs'
      | 'retryBudgetMs'
      | 'random'
    >;
  } = {},
) {
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-backend-test-'));
  const databasePath = path.join(dir, 'app.db');
  const fake = await startFakeOpenRouter();
  const config = loadConfig({
    DATABASE_PATH: databasePath,
    OPENROUTER_BASE_URL: fake.url,
    OPENROUTER_API_KEY: options.apiKey === null ? undefined : (options.apiKey ?? 'sk-or-test-key'),
    APP_URL: 'https://ai.example.test',
    APP_TITLE: 'AI test',
    MODELS_TTL_SECONDS: String(options.modelsTtlSeconds ?? 3600),
    ...options.env,
  });
  const db = await openDatabase(databasePath);
  await migrate(db);
  const openrouter = createOpenRouterClient({
    baseUrl: config.openrouterBaseUrl,
    apiKey: config.openrouterApiKey,
    appUrl: config.appUrl,
    appTitle: config.appTitle,
    retryBaseDelayMs: 10,
    retryMaxDelayMs: 100,
    ...options.upstream,
  });
  const app = await buildApp({
    config,
    db: options.wrapDb ? options.wrapDb(db) : db,
    openrouter,
    keyring: options.keyring ?? createKeyring(randomBytes(32)),
    logger: options.logger ?? false,
    flushIntervalMs: 100,
    shutdownGraceMs: options.shutdownGraceMs ?? 2000,
    usageFillDelaysMs: options.usageFillDelaysMs ?? [20, 50, 100, 200],
    ...(options.now ? { now: options.now } : {}),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  let upstreamUp = true;
  const context: TestContext = {
    app,
    db,
    fake,
    baseUrl: address,
    databasePath,
    async stopUpstream() {
      upstreamUp = false;
      await fake.close();
    },
    async close() {
      await app.close();
      await db.close();
      if (upstreamUp) await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return context;
}
