import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createReadinessCheck } from './readiness.js';

let ctx: TestContext;
beforeEach(async () => {
  ctx = await startTestApp();
});
afterEach(() => ctx.close());

describe('GET /api/ready', () => {
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

  it('is not ready when the database does not answer', async () => {
    const failing = {
      all: () => Promise.reject(new Error('The database is closed.')),
      one: () => Promise.reject(new Error('The database is closed.')),
      run: () => Promise.reject(new Error('The database is closed.')),
    };
    const check = createReadinessCheck({ db: failing, isShuttingDown: () => false });
    expect(await check()).toEqual({ ready: false, reason: 'database unavailable' });
  });
});
