import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { createConversation, setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

const newConversation = (model: string) => createConversation(ctx.app, admin, { model });

async function scrape(): Promise<string> {
  const response = await ctx.app.inject({ url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return response.body;
}

/** The value of one sample, e.g. sample(text, 'chat_cost_usd_total{model="fake/echo"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('counts a streamed chat by route pattern, with its tokens, cost and time to first token', async () => {
    const id = await newConversation('fake/echo');
    const events = await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'count me' }),
    );
    const usage = events.find((e) => e.event === 'usage')?.data;

    // The stream's request is counted when its socket response closes, just after the client read it all.
    await expect
      .poll(async () =>
        sample(
          await scrape(),
          'http_requests_total{method="POST",route="/api/conversations/:id/messages",status="200"}',
        ),
      )
      .toBe(1);
    const text = await scrape();
    expect(text).not.toContain(id);
    expect(
      sample(text, 'http_requests_total{method="POST",route="/api/conversations",status="201"}'),
    ).toBe(1);
    const streamed = 'method="POST",route="/api/conversations/:id/messages",status="200"';
    expect(sample(text, `http_request_duration_seconds_count{${streamed}}`)).toBe(1);
    expect(sample(text, `http_request_duration_seconds_sum{${streamed}}`)).toBeGreaterThan(0);

    const model = 'model="fake/echo"';
    expect(sample(text, `chat_tokens_total{${model},kind="prompt"}`)).toBe(usage.promptTokens);
    expect(sample(text, `chat_tokens_total{${model},kind="completion"}`)).toBe(
      usage.completionTokens,
    );
    expect(sample(text, `chat_tokens_total{${model},kind="reasoning"}`)).toBe(0);
    expect(sample(text, `chat_cost_usd_total{${model}}`)).toBeCloseTo(usage.cost, 12);
    expect(sample(text, `upstream_time_to_first_token_seconds_count{${model}}`)).toBe(1);
    expect(sample(text, `upstream_duration_seconds_count{${model}}`)).toBe(1);
    expect(sample(text, 'chat_streams_running')).toBe(0);
    expect(sample(text, 'db_query_duration_seconds_count{kind="query"}')).toBeGreaterThan(0);
    expect(sample(text, 'db_query_duration_seconds_count{kind="transaction"}')).toBeGreaterThan(0);
    // Default process metrics come along.
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('counts upstream errors by code', async () => {
    const id = await newConversation('fake/error');
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'hi [fake status=402]' }));
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'hi [fake status=429]' }));
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'hi [fake status=402]' }));
    const text = await scrape();
    expect(sample(text, 'upstream_errors_total{code="upstream.insufficient_credits"}')).toBe(2);
    expect(sample(text, 'upstream_errors_total{code="upstream.rate_limited"}')).toBe(1);
    expect(sample(text, 'upstream_time_to_first_token_seconds_count{model="fake/error"}')).toBe(
      undefined,
    );
  });

  it('shows a running stream, and labels unknown URLs as unmatched', async () => {
    const id = await newConversation('fake/slow');
    let running: number | undefined;
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, id, {
      content: 'slow [fake chunks=20 delay=20]',
    })) {
      if (event.event === 'delta' && running === undefined)
        running = sample(await scrape(), 'chat_streams_running');
    }
    expect(running).toBe(1);
    expect(sample(await scrape(), 'chat_streams_running')).toBe(0);

    await ctx.app.inject({ url: '/wp-login.php' });
    await ctx.app.inject({ url: `/api/conversations/${id}/nope` });
    const text = await scrape();
    expect(sample(text, 'http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(
      2,
    );
    expect(text).not.toContain('wp-login');
  });

  it("reports DuckDB's memory by component, the buffer pool's growing with the data", async () => {
    const before = sample(await scrape(), 'duckdb_memory_bytes{tag="BASE_TABLE"}');
    const id = await newConversation('fake/echo');
    await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content: 'x'.repeat(190_000) }));
    await ctx.db.checkpoint();
    const text = await scrape();
    const after = sample(text, 'duckdb_memory_bytes{tag="BASE_TABLE"}');
    expect(before).toBeGreaterThanOrEqual(0);
    expect(after).toBeGreaterThan(before!);
    expect(sample(text, 'duckdb_memory_bytes{tag="ART_INDEX"}')).toBeGreaterThanOrEqual(0);
  });

  it('is served outside /api only, without a session, and per app (two apps do not clash)', async () => {
    expect((await ctx.app.inject({ url: '/api/metrics' })).statusCode).toBe(404);
    const other = await startTestApp();
    try {
      await other.app.inject({ url: '/api/health' });
      const mine = await scrape();
      const theirs = (await other.app.inject({ url: '/metrics' })).body;
      expect(
        sample(theirs, 'http_requests_total{method="GET",route="/api/health",status="200"}'),
      ).toBe(1);
      expect(
        sample(mine, 'http_requests_total{method="GET",route="/api/health",status="200"}'),
      ).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});
