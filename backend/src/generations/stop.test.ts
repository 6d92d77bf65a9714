import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { setupAdmin, type SignedInUser } from '../test-support/factories.js';
import { openSseRequest, type ReceivedEvent } from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeAll(async () => {
  // 100 sends by one user in seconds: past the per-user rate limit, which this is not about.
  ctx = await startTestApp({ env: { CHAT_RATE_LIMIT_PER_MINUTE: '0' } });
  admin = await setupAdmin(ctx.app);
});
afterAll(() => ctx.close());

const STREAMS = 100;
/** Streams running at once: the machines have 2 cores, shared with other test runs. */
const BATCH = 20;
const CHUNKS = 200;

interface Outcome {
  tag: string;
  conversationId: string;
  stopCalledAt: number;
  stopStatus: number;
  events: ReceivedEvent[];
}

/** One answer over its own socket, stopped after a random number of deltas. */
async function streamAndStop(index: number): Promise<Outcome> {
  const create = await ctx.app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: admin.cookie },
    payload: { model: 'fake/slow' },
  });
  const conversationId: string = create.json().id;
  const tag = `abort-${index}-${crypto.randomUUID()}`;
  const stopAfter = 1 + Math.floor(Math.random() * (CHUNKS * 0.75));
  const connection = await openSseRequest(
    `${ctx.baseUrl}/api/conversations/${conversationId}/messages`,
    {
      method: 'POST',
      cookie: admin.cookie,
      body: { content: `${tag} [fake chunks=${CHUNKS} delay=20]` },
    },
  );
  expect(connection.status).toBe(200);
  const events: ReceivedEvent[] = [];
  let deltas = 0;
  let stopCalledAt = 0;
  let stopStatus = 0;
  for await (const event of connection.events) {
    events.push(event);
    if (event.event === 'delta') deltas++;
    if (deltas === stopAfter && stopCalledAt === 0) {
      const generationId = events.find((e) => e.event === 'assistant_message')?.data.generationId;
      stopCalledAt = Date.now();
      const stop = await ctx.app.inject({
        method: 'POST',
        url: `/api/generations/${generationId}/stop`,
        headers: { cookie: admin.cookie },
      });
      stopStatus = stop.statusCode;
    }
  }
  return { tag, conversationId, stopCalledAt, stopStatus, events };
}

describe('stopping many answers', () => {
  it(`aborts ${STREAMS} streams at random points: each upstream call closes within 1 s, no socket stays open`, async () => {
    const outcomes: Outcome[] = [];
    for (let start = 0; start < STREAMS; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, STREAMS - start) }, (_, i) =>
        streamAndStop(start + i),
      );
      outcomes.push(...(await Promise.all(batch)));
    }

    // Every outcome is checked before any assertion, so a failure shows them all.
    const latencies: number[] = [];
    const problems: Array<Record<string, unknown>> = [];
    for (const outcome of outcomes) {
      const stream = ctx.fake.streams.find((s) =>
        JSON.stringify(ctx.fake.requests[s.requestIndex]?.body).includes(outcome.tag),
      );
      const latency = (stream?.closedAt ?? Infinity) - outcome.stopCalledAt;
      latencies.push(latency);
      const detail = await ctx.app.inject({
        url: `/api/conversations/${outcome.conversationId}`,
        headers: { cookie: admin.cookie },
      });
      const answer = detail.json().messages[1];
      const streamed = outcome.events
        .filter((e) => e.event === 'delta')
        .map((e) => e.data.content)
        .join('');
      const last = outcome.events.at(-1);
      const seen = {
        stop: outcome.stopStatus,
        last: `${last?.event}:${last?.data?.status}`,
        endedBy: stream?.endedBy,
        chunksSent: stream?.chunksSent,
        latency,
        saved: answer?.status,
        sameText: answer?.content === streamed,
      };
      const ok =
        seen.stop === 200 &&
        seen.last === 'done:stopped' &&
        seen.endedBy === 'client-closed' &&
        (seen.chunksSent ?? CHUNKS) < CHUNKS &&
        latency < 1000 &&
        seen.saved === 'stopped' &&
        seen.sameText;
      if (!ok) problems.push({ tag: outcome.tag, ...seen });
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    console.info(
      `stop → upstream closed, over ${sorted.length} streams: ` +
        `median ${sorted[Math.floor(sorted.length / 2)]} ms, ` +
        `p95 ${sorted[Math.floor(sorted.length * 0.95)]} ms, max ${sorted.at(-1)} ms`,
    );
    expect(problems).toEqual([]);
    expect(ctx.fake.streams).toHaveLength(STREAMS);

    // Nothing left open: neither the backend's calls to the upstream nor the clients' streams.
    // Each aborted call's socket closed with its stream (closedAt above), but undici (Node's
    // fetch) may open a spare idle connection as an aborted request's socket goes, and lets it
    // idle out within its keep-alive timeout (4 s): hence the wait.
    await expect.poll(() => ctx.fake.openConnections(), { timeout: 10_000 }).toBe(0);
    await expect
      .poll(
        () =>
          new Promise<number>((resolve, reject) =>
            ctx.app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
          ),
        { timeout: 2000 },
      )
      .toBe(0);
  }, 120_000);
});
