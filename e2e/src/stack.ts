import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../tools/fake-openrouter/src/server.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface Stack {
  /** The frontend's URL: what a browser opens. */
  url: string;
  backendUrl: string;
  fake: FakeOpenRouter;
  stop(): Promise<void>;
}

/**
 * Both services from their production builds, started as their containers start them
 * (NODE_ENV=production, `node dist/...`), on a temp DuckDB file and the fake OpenRouter.
 */
export async function startStack(): Promise<Stack> {
  for (const built of ['backend/dist/main.js', 'frontend/dist/server/main.js']) {
    if (!existsSync(path.join(root, built))) {
      throw new Error(`${built} is missing: build first (npm test does)`);
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-e2e-'));
  const fake = await startFakeOpenRouter();
  const [backendPort, frontendPort] = [await freePort(), await freePort()];
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const url = `http://127.0.0.1:${frontendPort}`;

  const backend = startService('backend', 'dist/main.js', {
    PORT: String(backendPort),
    HOST: '127.0.0.1',
    DATABASE_PATH: path.join(dir, 'data', 'app.db'),
    OPENROUTER_BASE_URL: fake.url,
    OPENROUTER_API_KEY: 'sk-or-e2e-key',
    LOG_LEVEL: 'warn',
  });
  await waitForHttp(`${backendUrl}/api/health`, backend);
  const frontend = startService('frontend', 'dist/server/main.js', {
    PORT: String(frontendPort),
    HOST: '127.0.0.1',
    BACKEND_URL: backendUrl,
    LOG_LEVEL: 'warn',
  });
  await waitForHttp(`${url}/`, frontend);

  return {
    url,
    backendUrl,
    fake,
    async stop() {
      await Promise.all([stopProcess(frontend.child), stopProcess(backend.child)]);
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function startService(name: string, entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [entry], {
    cwd: path.join(root, name),
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  return { name, child, output: () => output };
}

async function waitForHttp(
  url: string,
  service: ReturnType<typeof startService>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited: ${service.output()}`);
    }
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${service.name} did not answer ${url}: ${service.output()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
