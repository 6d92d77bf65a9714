import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../tools/fake-openrouter/src/server.js';
import { sessionCookie } from '../src/test-support/factories.js';
import { postMessage } from '../src/test-support/stream.js';

// The backend as a real process (tsx runs src/main.ts), for what only a process shows:
// the file lock between two processes and recovery after a crash.
const backendDir = path.resolve(import.meta.dirname, '..');
let dir: string;
let fake: FakeOpenRouter;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-process-'));
  fake = await startFakeOpenRouter();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

function startBackend(port: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: backendDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_PATH: path.join(dir, 'app.db'),
      OPENROUTER_BASE_URL: fake.url,
      OPENROUTER_API_KEY: 'sk-or-process-test',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function waitUntilUp(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/api/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`backend at ${url} did not start`);
}

const port = () => 20_000 + Math.floor(Math.random() * 20_000);

describe('the backend process', () => {
  it('refuses at once to open a database file another backend holds', async () => {
    const p = port();
    startBackend(p);
    await waitUntilUp(`http://127.0.0.1:${p}`);
    const second = startBackend(port());
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('already opened by another process');
  });

  it('after a crash mid-answer, marks the answer interrupted and keeps its saved part', async () => {
    const p = port();
    const url = `http://127.0.0.1:${p}`;
    const first = startBackend(p);
    await waitUntilUp(url);
    const setup = await fetch(`${url}/api/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'correct horse battery' }),
    });
    const cookie = sessionCookie(setup.headers.getSetCookie());
    const conversation = await (
      await fetch(`${url}/api/conversations`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake/slow' }),
      })
    ).json();

    let received = 0;
    const controller = new AbortController();
    try {
      for await (const event of postMessage(
        url,
        cookie,
        conversation.id,
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

    startBackend(p);
    await waitUntilUp(url);
    const detail = await (
      await fetch(`${url}/api/conversations/${conversation.id}`, { headers: { cookie } })
    ).json();
    expect(detail.messages).toHaveLength(2);
    expect(detail.messages[0]).toMatchObject({
      role: 'user',
      content: 'crash [fake chunks=400 delay=10]',
    });
    expect(detail.messages[1].status).toBe('interrupted');
    expect(detail.messages[1].content).toContain('You said: crash');
  });
});
