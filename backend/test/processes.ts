import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { sessionCookie } from '../src/test-support/factories.js';

// Real processes (tsx runs the sources), for what only a process shows: the file lock
// between two processes, signals, exit codes, recovery after a crash.
const backendDir = path.resolve(import.meta.dirname, '..');

export interface Spawned {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

export interface SpawnedBackend extends Spawned {
  url: string;
  /** Resolves once `/api/health` answers; rejects with the process's output if it exits first. */
  up(timeoutMs?: number): Promise<void>;
}

/** Tracks every child so a test's afterEach can kill what is left. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  constructor(private readonly env: () => Record<string, string>) {}

  /** The backend on `port`, with the shared environment plus `env`. */
  backend(port: number, env: Record<string, string> = {}): SpawnedBackend {
    const spawned = this.spawn(['src/main.ts'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    });
    const url = `http://127.0.0.1:${port}`;
    return { ...spawned, url, up: (timeoutMs) => waitUntilUp(spawned, url, timeoutMs) };
  }

  /** The ops CLI; resolves once it exits. */
  async ops(
    args: string[],
    options: { env?: Record<string, string>; input?: string } = {},
  ): Promise<{ code: number | null; output: string }> {
    const run = this.spawn(['src/ops.ts', ...args], options.env ?? {}, options.input);
    const code = await run.exited;
    return { code, output: run.output() };
  }

  killAll(): void {
    for (const child of this.children.splice(0)) child.kill('SIGKILL');
  }

  private spawn(args: string[], env: Record<string, string>, input?: string): Spawned {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: backendDir,
      env: { ...process.env, ...this.env(), ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    this.children.push(child);
    if (input !== undefined) child.stdin?.end(input);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    // 'close', not 'exit': by then the output is all read.
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    return { child, exited, output: () => output };
  }
}

/**
 * The backend runs from source through tsx here: a cold start under a full parallel test run
 * on 2 cores has taken over 15 s, so the wait is generous (a healthy start takes ~1.5 s). A
 * process that exits instead (a port taken, a bad setting) fails the wait at once, with its
 * output: a bare timeout once hid the cause of a CI failure (12-06).
 */
async function waitUntilUp(backend: Spawned, url: string, timeoutMs = 45_000): Promise<void> {
  let exitCode: number | null | undefined;
  void backend.exited.then((code) => (exitCode = code));
  const failure = (what: string) =>
    new Error(`backend at ${url} ${what}; its output:\n${backend.output().slice(-4000)}`);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      const how = exitCode ?? backend.child.signalCode;
      throw failure(`exited (${how}) before it was up`);
    }
    try {
      if ((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // Not listening yet, or not answering within 2 s.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw failure(`did not start within ${timeoutMs} ms`);
}

/**
 * A port for a backend process, below Linux's ephemeral range (32768–60999 by default): the
 * tests running beside listen on port 0 (the fake upstream) and connect out, and the system
 * hands out ports from that range for both. A backend that cannot listen never comes up: the
 * likely cause of one CI run's 45 s wait in ops.test.ts (12-06).
 */
export const randomPort = () => 20_000 + Math.floor(Math.random() * 12_768);

/** First-run setup over HTTP, then a conversation with `model`. */
export async function setupWithConversation(
  url: string,
  model: string,
  password = 'correct horse battery',
): Promise<{ cookie: string; conversationId: string }> {
  const setup = await fetch(`${url}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (setup.status !== 201) throw new Error(`setup failed: ${await setup.text()}`);
  const cookie = sessionCookie(setup.headers.getSetCookie());
  const conversation = await fetch(`${url}/api/conversations`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ model }),
  });
  return { cookie, conversationId: ((await conversation.json()) as { id: string }).id };
}

export async function messagesOf(url: string, cookie: string, conversationId: string) {
  const response = await fetch(`${url}/api/conversations/${conversationId}`, {
    headers: { cookie },
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return ((await response.json()) as { messages: any[] }).messages;
}
