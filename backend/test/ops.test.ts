import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../tools/fake-openrouter/src/server.js';
import { collect, postMessage } from '../src/test-support/sse-client.js';
import { messagesOf, Processes, randomPort, setupWithConversation } from './processes.js';

// The `ops` CLI as an operator runs it, next to a real backend process.
let dir: string;
let fake: FakeOpenRouter;
let port: number;
let url: string;
const processes = new Processes(() => ({
  DATABASE_PATH: path.join(dir, 'data', 'app.db'),
  OPENROUTER_BASE_URL: fake.url,
  OPENROUTER_API_KEY: 'sk-or-process-test',
  PORT: String(port),
}));

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-ops-cli-'));
  fake = await startFakeOpenRouter();
  port = randomPort();
  url = `http://127.0.0.1:${port}`;
});
afterEach(async () => {
  processes.killAll();
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

async function signIn(password: string): Promise<number> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  return response.status;
}

describe('npm run ops', () => {
  it('with the backend running: backup and reset-password go through it, restore refuses', async () => {
    await processes.backend(port).up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/echo');
    await collect(postMessage(url, cookie, conversationId, { content: 'keep me' }));

    const target = path.join(dir, 'backups', 'one');
    const backup = await processes.ops(['backup', target]);
    expect(backup.output).toContain('through the backend running');
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(target, 'manifest.json'), 'utf8'));
    expect(manifest.tables).toMatchObject({ users: 1, messages: 2 });

    const again = await processes.ops(['backup', target]);
    expect(again.code).toBe(1);
    expect(again.output).toContain('not an empty folder');

    const restore = await processes.ops(['restore', target]);
    expect(restore.code).toBe(1);
    expect(restore.output).toContain('The backend is running');

    const reset = await processes.ops(['reset-password', 'admin'], {
      env: { NEW_PASSWORD: 'reset through the backend' },
    });
    expect(reset.output).toContain('1 session(s) were signed out');
    expect(reset.code).toBe(0);
    expect(await signIn('reset through the backend')).toBe(200);
    expect(await signIn('correct horse battery')).toBe(401);
    const me = await fetch(`${url}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(401);

    const usage = await processes.ops(['reset-password']);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain('Usage:');
  }, 60_000);

  it('restore refuses while another process holds the database file', async () => {
    // The backend runs on another port than the CLI is told: only the file lock shows it.
    const other = randomPort();
    await processes.backend(other).up();
    const target = path.join(dir, 'backup');
    const backup = await processes.ops(['backup', target], { env: { PORT: String(other) } });
    expect(backup.code).toBe(0);

    const restore = await processes.ops(['restore', target]);
    expect(restore.code).toBe(1);
    expect(restore.output).toContain('is locked by another process');
    expect(restore.output).toContain('stop it first');
    // Nothing moved or added (secret.key is the backend's, written when it started).
    expect((await readdir(path.join(dir, 'data'))).sort()).toEqual(['app.db', 'secret.key']);

    const direct = await processes.ops(['backup', path.join(dir, 'direct')]);
    expect(direct.code).toBe(1);
    expect(direct.output).toContain(`no backend answers on 127.0.0.1:${port}`);
  }, 60_000);

  it('with the backend stopped: opens the file itself; the backend starts on the restored file', async () => {
    const first = processes.backend(port);
    await first.up();
    const { cookie, conversationId } = await setupWithConversation(url, 'fake/echo');
    await collect(postMessage(url, cookie, conversationId, { content: 'before the backup' }));
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const target = path.join(dir, 'offline-backup');
    const backup = await processes.ops(['backup', target]);
    expect(backup.output).toContain('the backend is not running');
    expect(backup.code).toBe(0);

    // Changes after the backup, which the restore takes back.
    const second = processes.backend(port);
    await second.up();
    await collect(postMessage(url, cookie, conversationId, { content: 'after the backup' }));
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const reset = await processes.ops(['reset-password', 'admin'], {
      input: 'typed on stdin\n',
    });
    expect(reset.code).toBe(0);

    const restore = await processes.ops(['restore', target]);
    expect(restore.output).toContain('The previous database is kept as');
    expect(restore.code).toBe(0);
    const files = await readdir(path.join(dir, 'data'));
    expect(files).toContain('app.db');
    expect(files.some((f) => f.startsWith('app.db.before-restore-'))).toBe(true);

    await processes.backend(port).up();
    // The backup predates the reset: the old password and session are back.
    expect(await signIn('correct horse battery')).toBe(200);
    const messages = await messagesOf(url, cookie, conversationId);
    expect(messages.map((m) => m.content.slice(0, 27))).toEqual([
      'before the backup',
      'You said: before the backup',
    ]);
  }, 60_000);
});
