import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../tools/fake-openrouter/src/server.js';
import { postMessage, type ReceivedEvent } from '../src/test-support/sse-client.js';
import { messagesOf, Processes, randomPort, setupWithConversation } from './processes.js';

let dir: string;
let fake: FakeOpenRouter;
const processes = new Processes(() => ({
  DATABASE_PATH: path.join(dir, 'app.db'),
  OPENROUTER_BASE_URL: fake.url,
  OPENROUTER_API_KEY: 'sk-or-process-test',
}));

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-process-'));
  fake = await startFakeOpenRouter();
});
afterEach(async () => {
  processes.killAll();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

const deltas = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.content as string)
    .join('');

// Each test starts one or two backend processes (see `up` in processes.ts): more time than the default.
describe('the backend process', { timeout: 90_000 }, () => {
  it('refuses at once to open a database file another backend holds', async () => {
    const p = randomPort();
    await processes.backend(p).up();
    const second = processes.backend(randomPort());
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('already opened by another process');
  });

  it('after a crash mid-answer, marks the answer interrupted and keeps its saved part', async () => {
    const p = randomPort();
    const url = `http://127.0.0.1:${p}`;
    const first = processes.backend(p);
    await first.up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/slow');

    let received = 0;
    const controller = new AbortController();
    try {
      for await (const event of postMessage(
        url,
        cookie,
        conversationId,
        { content: 'crash [fake chunks=400 delay=10]' },
        controller.signal,
      )) {
        if (event.event === 'delta' && ++received === 150) {
          // Past at least one flush (every second): then the process dies without warning.
          first.child.kill('SIGKILL');
          break;
        }
      }
    } catch {
      // The connection dies with the process.
    }
    await first.exited;

    await processes.backend(p).up();
    const messages = await messagesOf(url, cookie, conversationId);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatchObject({
      role: 'user',
      content: 'crash [fake chunks=400 delay=10]',
    });
    expect(messages[1].status).toBe('interrupted');
    expect(messages[1].content).toContain('You said: crash');
  });
});

describe('graceful shutdown', { timeout: 90_000 }, () => {
  it('on SIGTERM lets a short answer finish within the grace, then exits 0', async () => {
    const p = randomPort();
    const url = `http://127.0.0.1:${p}`;
    const first = processes.backend(p, { SHUTDOWN_GRACE_MS: '5000' });
    await first.up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/slow');

    const events: ReceivedEvent[] = [];
    let signalledAt = 0;
    for await (const event of postMessage(url, cookie, conversationId, {
      content: 'short [fake chunks=20 delay=50]',
    })) {
      events.push(event);
      if (event.event === 'delta' && signalledAt === 0) {
        signalledAt = Date.now();
        first.child.kill('SIGTERM');
      }
    }
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000 + 3000);

    await processes.backend(p).up();
    const messages = await messagesOf(url, cookie, conversationId);
    expect(messages[1]).toMatchObject({ status: 'complete', content: deltas(events) });
  });

  it('past the grace, saves a long answer as interrupted with its text, tells the client, exits 0', async () => {
    const p = randomPort();
    const url = `http://127.0.0.1:${p}`;
    const first = processes.backend(p, { SHUTDOWN_GRACE_MS: '500' });
    await first.up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/slow');

    const events: ReceivedEvent[] = [];
    let signalledAt = 0;
    for await (const event of postMessage(url, cookie, conversationId, {
      content: 'long [fake chunks=1000 delay=50]',
    })) {
      events.push(event);
      if (event.event === 'delta' && signalledAt === 0) {
        signalledAt = Date.now();
        first.child.kill('SIGTERM');
      }
    }
    // The last event before the stream ended says why.
    expect(events.at(-1)).toMatchObject({
      event: 'error',
      data: { code: 'server.shutting_down' },
    });
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(3000);

    await processes.backend(p).up();
    const messages = await messagesOf(url, cookie, conversationId);
    const partial = deltas(events);
    expect(partial.length).toBeGreaterThan(0);
    expect(messages[1]).toMatchObject({ status: 'interrupted', content: partial });
    expect(messages[1].error).toContain('shut down');
  });

  it('exits at once on a second signal; the answer is recovered as interrupted', async () => {
    const p = randomPort();
    const url = `http://127.0.0.1:${p}`;
    const first = processes.backend(p, { SHUTDOWN_GRACE_MS: '60000' });
    await first.up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/slow');

    let received = 0;
    let signalledAt = 0;
    try {
      for await (const event of postMessage(url, cookie, conversationId, {
        content: 'forever [fake chunks=1000 delay=20]',
      })) {
        if (event.event === 'delta' && ++received === 80) {
          // Past at least one flush, so some text is saved.
          signalledAt = Date.now();
          first.child.kill('SIGTERM');
          await new Promise((resolve) => setTimeout(resolve, 200));
          first.child.kill('SIGTERM');
        }
      }
    } catch {
      // The connection dies with the process.
    }
    expect(await first.exited).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(3000);

    await processes.backend(p).up();
    const messages = await messagesOf(url, cookie, conversationId);
    expect(messages[1].status).toBe('interrupted');
    expect(messages[1].content).toContain('You said: forever');
  });
});
