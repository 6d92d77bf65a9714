import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase, type ObservableDatabase, type QueueState } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { createKeyring } from '../keys/crypto.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createLivenessCheck } from './liveness.js';
import { createReadinessCheck } from './readiness.js';

const idle: QueueState = { waiting: 0, runningForMs: null, lastCompletedMsAgo: 1, closed: false };
const busy: QueueState = { waiting: 3, runningForMs: 5, lastCompletedMsAgo: 1, closed: false };

/**
 * Holds the database's one connection with a transaction until `release()`: every call
 * made meanwhile waits in the queue behind it, as it would behind a burst of chat writes.
 */
async function holdQueue(db: Pick<ObservableDatabase, 'transaction'>) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const held = db.transaction(async () => {
    entered();
    await gate;
  });
  await inside;
  let released = false;
  return {
    held,
    get released() {
      return released;
    },
    async release() {
      released = true;
      release();
      await held;
    },
  };
}

describe('GET /api/ready and /api/health on the test app', () => {
  let ctx: TestContext;
  beforeEach(async () => {
    ctx = await startTestApp();
  });
  afterEach(() => ctx.close());

  it('answers ready, without a session, once every migration is applied', async () => {
    const response = await ctx.app.inject({ url: '/api/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready' });
  });

  it('answers 503 while a migration file is not recorded as applied', async () => {
    await ctx.db.run("DELETE FROM schema_migrations WHERE name = '001_initial.sql'");
    const response = await ctx.app.inject({ url: '/api/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      status: 'not_ready',
      reason: 'migrations not applied: 001_initial.sql',
    });
    // Liveness is another question: the process and its database are fine.
    expect((await ctx.app.inject({ url: '/api/health' })).statusCode).toBe(200);
  });

  it('answers both probes 200 while the queue is held busy, before the holding call is released', async () => {
    // The orchestrator has probed since start-up: the migrations are known to be applied.
    expect((await ctx.app.inject({ url: '/api/ready' })).statusCode).toBe(200);

    const hold = await holdQueue(ctx.db);
    const queuedWrites = Array.from({ length: 5 }, () => ctx.db.run('SELECT 1'));
    // Only so that a regression fails on the assertions below instead of hanging the test.
    const safety = setTimeout(() => void hold.release(), 5000);
    try {
      const [health, ready] = await Promise.all([
        ctx.app.inject({ url: '/api/health' }),
        ctx.app.inject({ url: '/api/ready' }),
      ]);
      expect(hold.released).toBe(false);
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', database: 'ok', upstreamKeyConfigured: true });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready' });
    } finally {
      clearTimeout(safety);
      await hold.release();
      await Promise.all(queuedWrites);
    }
  });

  it('does not wait for the migrations check behind a busy queue: not_ready at once, ready once it ran', async () => {
    const hold = await holdQueue(ctx.db);
    const safety = setTimeout(() => void hold.release(), 5000);
    try {
      const ready = await ctx.app.inject({ url: '/api/ready' });
      expect(hold.released).toBe(false);
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not_ready', reason: 'checking migrations' });
    } finally {
      clearTimeout(safety);
      await hold.release();
    }
    // The check queued by that probe runs once the queue moves; a later probe gets its result.
    await expect
      .poll(async () => (await ctx.app.inject({ url: '/api/ready' })).json())
      .toEqual({ status: 'ready' });
  });
});

describe('a stuck or closed database', () => {
  let db: ObservableDatabase;
  let app: FastifyInstance;
  beforeEach(async () => {
    db = await openDatabase(':memory:');
    await migrate(db);
    const config = loadConfig({});
    const openrouter = createOpenRouterClient({
      baseUrl: config.openrouterBaseUrl,
      apiKey: undefined,
    });
    // A threshold of milliseconds instead of a minute, so that "stuck" comes quickly.
    const keyring = createKeyring(randomBytes(32));
    app = await buildApp({ config, db, openrouter, keyring, logger: false, healthDbStuckMs: 20 });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
    if (!db.queueState().closed) await db.close();
  });

  it('answers 503 to both probes while one call holds the connection past the threshold', async () => {
    const hold = await holdQueue(db);
    try {
      await expect
        .poll(async () => (await app.inject({ url: '/api/health' })).statusCode)
        .toBe(503);
      const health = await app.inject({ url: '/api/health' });
      expect(health.json()).toEqual({
        status: 'degraded',
        database: 'error',
        upstreamKeyConfigured: false,
      });
      const ready = await app.inject({ url: '/api/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ status: 'not_ready', reason: 'database not responding' });
    } finally {
      await hold.release();
    }
    // Unstuck, both recover (readiness once its first migrations check got through the queue).
    expect((await app.inject({ url: '/api/health' })).statusCode).toBe(200);
    await expect
      .poll(async () => (await app.inject({ url: '/api/ready' })).json())
      .toEqual({ status: 'ready' });
  });

  it('answers 503 to both probes once the database is closed', async () => {
    expect((await app.inject({ url: '/api/ready' })).statusCode).toBe(200);
    await db.close();
    const health = await app.inject({ url: '/api/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'degraded', database: 'error' });
    const ready = await app.inject({ url: '/api/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not_ready', reason: 'database unavailable' });
  });
});

describe('the checks on a database that fails every call', () => {
  const failing = {
    all: () => Promise.reject(new Error('The database is broken.')),
    one: () => Promise.reject(new Error('The database is broken.')),
    run: () => Promise.reject(new Error('The database is broken.')),
    transaction: () => Promise.reject(new Error('The database is broken.')),
  };

  it('is not ready when the database does not answer', async () => {
    const check = createReadinessCheck({
      db: failing,
      queueState: () => idle,
      stuckAfterMs: 60_000,
      isShuttingDown: () => false,
    });
    expect(await check()).toEqual({ ready: false, reason: 'database unavailable' });
  });

  it('is not alive when the idle database fails a query', async () => {
    const check = createLivenessCheck({
      db: failing,
      queueState: () => idle,
      stuckAfterMs: 60_000,
    });
    expect(await check()).toMatchObject({ ok: false, reason: 'database query failed' });
  });

  it('is not alive when the busy queue completes calls that all fail', async () => {
    // Busy: the probe does not wait for its query, but answers from the last one that finished.
    const check = createLivenessCheck({
      db: failing,
      queueState: () => busy,
      stuckAfterMs: 60_000,
    });
    await check();
    await expect.poll(check).toMatchObject({ ok: false, reason: 'database query failed' });
  });
});
