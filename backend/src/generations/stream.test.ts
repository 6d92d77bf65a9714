import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  createConversation,
  buildUser,
  setupAdmin,
  type SignedInUser,
} from '../test-support/factories.js';
import {
  openSseRequest,
  type ReceivedEvent,
  type SseConnection,
} from '../test-support/sse-client.js';

let ctx: TestContext;
let admin: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
});
afterEach(() => ctx.close());

const newConversation = (model: string) => createConversation(ctx.app, admin, { model });

async function savedAnswer(conversationId: string) {
  const response = await ctx.app.inject({
    url: `/api/conversations/${conversationId}`,
    headers: { cookie: admin.cookie },
  });
  expect(response.statusCode).toBe(200);
  return response.json().messages[1];
}

function send(conversationId: string, content: string): Promise<SseConnection> {
  return openSseRequest(`${ctx.baseUrl}/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    cookie: admin.cookie,
    body: { content },
  });
}

function reattach(generationId: string, cookie = admin.cookie): Promise<SseConnection> {
  return openSseRequest(`${ctx.baseUrl}/api/generations/${generationId}/stream`, {
    method: 'GET',
    cookie,
  });
}

/** Reads events until `until` says stop (then drops the connection) or the stream ends. */
async function read(
  connection: SseConnection,
  until: (events: ReceivedEvent[]) => boolean = () => false,
): Promise<ReceivedEvent[]> {
  const events: ReceivedEvent[] = [];
  for await (const event of connection.events) {
    events.push(event);
    if (until(events)) {
      connection.close();
      break;
    }
  }
  return events;
}

const text = (events: ReceivedEvent[], kind: 'delta' | 'reasoning' = 'delta') =>
  events
    .filter((e) => e.event === kind)
    .map((e) => e.data.content as string)
    .join('');
const count = (events: ReceivedEvent[], kind: string) =>
  events.filter((e) => e.event === kind).length;
/** The `assistant_message` event's data: `{ messageId, generationId, model }`. */
function startOf(events: ReceivedEvent[]) {
  const event = events.find((e) => e.event === 'assistant_message');
  if (!event) throw new Error('no assistant_message event');
  return event.data;
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /api/generations/:id/stream', () => {
  it('replays what was written while nobody listened, then continues live to the saved text', async () => {
    const id = await newConversation('fake/slow');
    const first = await read(await send(id, 'drop me [fake chunks=60 delay=20]'), (events) => {
      return count(events, 'delta') === 5;
    });
    const started = startOf(first);
    expect(started).toMatchObject({ model: 'fake/slow' });
    const beforeDrop = text(first);

    // The generation goes on while no one listens; the conversation names it for a reload.
    await pause(300);
    const answer = await savedAnswer(id);
    expect(answer).toMatchObject({ status: 'streaming', id: started.messageId });
    expect(answer.generation.id).toBe(started.generationId);

    const again = await reattach(started.generationId);
    expect(again.status).toBe(200);
    const events = await read(again);
    expect(events[0]).toEqual({
      event: 'assistant_message',
      data: {
        messageId: started.messageId,
        generationId: started.generationId,
        model: 'fake/slow',
      },
    });
    // The first delta is everything so far: more than before the drop, starting with it.
    const replay = events[1];
    expect(replay?.event).toBe('delta');
    expect(replay?.data.content.startsWith(beforeDrop)).toBe(true);
    expect(replay?.data.content.length).toBeGreaterThan(beforeDrop.length);
    expect(count(events, 'delta')).toBeGreaterThan(2); // then live deltas
    expect(events.at(-1)).toMatchObject({
      event: 'done',
      data: { messageId: started.messageId, status: 'complete', finishReason: 'stop' },
    });
    expect(events.map((e) => e.event)).toContain('usage');

    const saved = await savedAnswer(id);
    expect(saved.status).toBe('complete');
    expect(text(events)).toBe(saved.content);
    expect(ctx.fake.streams[0]?.endedBy).toBe('complete');
  });

  it('gives every listener exactly the final text, whenever it attaches or drops again', async () => {
    const id = await newConversation('fake/reasoning');
    const first = await read(
      await send(id, 'many eyes [fake reasoning=30 chunks=80 delay=10]'),
      (events) => events.some((e) => e.event === 'assistant_message'),
    );
    const { generationId } = startOf(first);

    // Twelve listeners attach at spread-out moments (during the reasoning and during the
    // answer); a third of them drop once more midway and attach again.
    const listeners = Array.from({ length: 12 }, async (_, i) => {
      await pause(i * 80);
      const connection = await reattach(generationId);
      if (connection.status !== 200) return { ended: true, events: [] as ReceivedEvent[] };
      if (i % 3 === 0) {
        await read(connection, (events) => count(events, 'delta') + count(events, 'reasoning') > 3);
        await pause(50);
        const last = await reattach(generationId);
        return { ended: last.status !== 200, events: await read(last) };
      }
      return { ended: false, events: await read(connection) };
    });
    const results = await Promise.all(listeners);

    const saved = await savedAnswer(id);
    expect(saved.status).toBe('complete');
    expect(saved.reasoning.length).toBeGreaterThan(0);
    const followed = results.filter((r) => !r.ended);
    expect(followed.length).toBeGreaterThanOrEqual(6);
    for (const { events } of followed) {
      expect(events[0]?.event).toBe('assistant_message');
      expect(events.at(-1)?.event).toBe('done');
      expect(text(events)).toBe(saved.content);
      expect(text(events, 'reasoning')).toBe(saved.reasoning);
    }
  });

  it('answers 404 generation.not_found once the answer has ended; the saved message is there', async () => {
    const id = await newConversation('fake/echo');
    const events = await read(await send(id, 'quick one'));
    expect(events.at(-1)?.event).toBe('done');
    const { generationId } = startOf(events);

    const late = await reattach(generationId);
    expect(late.status).toBe(404);
    expect(late.json).toMatchObject({ error: { code: 'generation.not_found' } });
    const saved = await savedAnswer(id);
    expect(saved).toMatchObject({ status: 'complete', content: text(events) });
    expect(saved.generation.id).toBe(generationId);
  });

  it("answers 404 for another user's running generation, as for an unknown id", async () => {
    const id = await newConversation('fake/slow');
    const mine = await send(id, 'mine [fake chunks=40 delay=20]');
    const started = await read(mine, (events) => count(events, 'delta') === 1);
    const { generationId } = startOf(started);

    const other = await buildUser(ctx.app, ctx.db);
    const theirs = await reattach(generationId, other.cookie);
    expect(theirs.status).toBe(404);
    expect(theirs.json).toMatchObject({ error: { code: 'generation.not_found' } });
    const unknown = await reattach(crypto.randomUUID());
    expect(unknown.status).toBe(404);
    const stop = await ctx.app.inject({
      method: 'POST',
      url: `/api/generations/${generationId}/stop`,
      headers: { cookie: other.cookie },
    });
    expect(stop.statusCode).toBe(404);

    // Mine still runs and completes.
    const events = await read(await reattach(generationId));
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
  });

  it('stops a reattached answer at once: the upstream call closes and the stream ends stopped', async () => {
    const id = await newConversation('fake/slow');
    const first = await read(
      await send(id, 'stop later [fake chunks=200 delay=20]'),
      (events) => count(events, 'delta') === 2,
    );
    const { generationId } = startOf(first);
    const again = await reattach(generationId);
    const events: ReceivedEvent[] = [];
    let stoppedAt = 0;
    for await (const event of again.events) {
      events.push(event);
      if (count(events, 'delta') === 5 && stoppedAt === 0) {
        stoppedAt = Date.now();
        const stop = await ctx.app.inject({
          method: 'POST',
          url: `/api/generations/${generationId}/stop`,
          headers: { cookie: admin.cookie },
        });
        expect(stop.json()).toEqual({ stopped: true });
      }
    }
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    const stream = await ctx.fake.waitForStreamClosed(0, 1000);
    expect(stream.endedBy).toBe('client-closed');
    expect((stream.closedAt ?? Infinity) - stoppedAt).toBeLessThan(1000);
    const saved = await savedAnswer(id);
    expect(saved.status).toBe('stopped');
    expect(text(events)).toBe(saved.content);
  });

  it('refuses an id that is not a UUID, and a request without a session', async () => {
    const bad = await ctx.app.inject({
      url: '/api/generations/nope/stream',
      headers: { cookie: admin.cookie },
    });
    expect(bad.statusCode).toBe(400);
    const anonymous = await ctx.app.inject({
      url: `/api/generations/${crypto.randomUUID()}/stream`,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
