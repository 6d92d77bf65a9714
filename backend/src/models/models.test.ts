import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { setupAdmin } from '../test-support/factories.js';

let ctx: TestContext;
afterEach(() => ctx.close());

const modelRequests = () => ctx.fake.requests.filter((r) => r.path === '/api/v1/models').length;

describe('GET /api/models', () => {
  it('serves the catalog from DuckDB, calling upstream once per TTL', async () => {
    ctx = await startTestApp({ modelsTtlSeconds: 3600 });
    const { cookie } = await setupAdmin(ctx.app);
    const first = await ctx.app.inject({ url: '/api/models', headers: { cookie } });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.stale).toBe(false);
    expect(body.models.length).toBeGreaterThan(3);
    const echo = body.models.find((m: { id: string }) => m.id === 'fake/echo');
    expect(echo).toMatchObject({
      pricing: { prompt: expect.any(String), completion: expect.any(String) },
    });
    expect(echo.contextLength).toBeGreaterThan(0);

    await ctx.app.inject({ url: '/api/models', headers: { cookie } });
    expect(modelRequests()).toBe(1);
    const rows = await ctx.db.one<{ n: number }>('SELECT COUNT(*) AS n FROM models');
    expect(rows?.n).toBe(body.models.length);
  });

  it('serves the cached copy, marked stale, when upstream is down', async () => {
    ctx = await startTestApp({ modelsTtlSeconds: 0 });
    const { cookie } = await setupAdmin(ctx.app);
    const fresh = (await ctx.app.inject({ url: '/api/models', headers: { cookie } })).json();
    await ctx.stopUpstream();
    const response = await ctx.app.inject({ url: '/api/models', headers: { cookie } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ stale: true, models: fresh.models });
  });

  it('answers a readable 502 when upstream is down and nothing is cached', async () => {
    ctx = await startTestApp();
    const { cookie } = await setupAdmin(ctx.app);
    await ctx.stopUpstream();
    const response = await ctx.app.inject({ url: '/api/models', headers: { cookie } });
    expect(response.statusCode).toBe(502);
    expect(response.json().error.code).toBe('upstream.network');
  });
});
