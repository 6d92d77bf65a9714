import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { releaseRoot } from './release.js';
import {
  startFakeOpenRouter,
  type FakeOpenRouter,
} from '../../tools/fake-openrouter/src/server.js';

export const root = path.resolve(import.meta.dirname, '../..');
export { releaseRoot };

export interface Service {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export interface Stack {
  /** The frontend's URL: what a browser opens (nginx adds its own in front). */
  url: string;
  frontendPort: number;
  backendUrl: string;
  backendPort: number;
  databasePath: string;
  dir: string;
  fake: FakeOpenRouter;
  backend: Service;
  frontend: Service;
  /** Starts the backend again on the same database file (after a stop or a crash). */
  restartBackend(env?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Both services from their production builds with production dependencies only (see
 * release.ts), started as their containers start them (NODE_ENV=production, the command their
 * package.json's `start` declares), on a temp DuckDB file and the fake OpenRouter.
 */
export async function startStack(
  backendEnv: Record<string, string> = {},
  frontendEnv: Record<string, string> = {},
): Promise<Stack> {
  for (const built of ['backend/dist/main.js', 'frontend/dist/server/main.js']) {
    if (!existsSync(path.join(releaseRoot, built))) {
      throw new Error(`${built} is missing: build first (npm test does)`);
    }
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-e2e-'));
  const fake = await startFakeOpenRouter();
  const [backendPort, frontendPort] = [await freePort(), await freePort()];
  const backendUrl = `http://127.0.0.1:${backendPort}`;
  const url = `http://127.0.0.1:${frontendPort}`;
  const databasePath = path.join(dir, 'data', 'app.db');

  const startBackend = async (env: Record<string, string> = {}) => {
    const service = startService('backend', {
      PORT: String(backendPort),
      HOST: '127.0.0.1',
      DATABASE_PATH: databasePath,
      OPENROUTER_BASE_URL: fake.url,
      OPENROUTER_API_KEY: 'sk-or-e2e-key',
      // The corpus tests send hundreds of messages a minute; a test may set a limit.
      CHAT_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      ...backendEnv,
      ...env,
    });
    try {
      await waitForHttp(`${backendUrl}/api/health`, service);
    } catch (error) {
      await stopService(service);
      throw error;
    }
    return service;
  };

  const frontend = startService('frontend', {
    PORT: String(frontendPort),
    HOST: '127.0.0.1',
    BACKEND_URL: backendUrl,
    LOG_LEVEL: 'warn',
    ...frontendEnv,
  });
  const removeAll = async (backend?: Service) => {
    await Promise.all([stopService(frontend), backend && stopService(backend)]);
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  };
  let backend: Service | undefined;
  try {
    backend = await startBackend();
    await waitForHttp(`${url}/`, frontend);
  } catch (error) {
    // A service that failed to start leaves nothing running behind the failed test.
    await removeAll(backend);
    throw error;
  }
  const stack: Stack = {
    url,
    frontendPort,
    backendUrl,
    backendPort,
    databasePath,
    dir,
    fake,
    frontend,
    backend,
    async restartBackend(env) {
      await stopService(stack.backend);
      stack.backend = await startBackend(env);
    },
    stop: () => removeAll(stack.backend),
  };
  return stack;
}

/**
 * Node's arguments from the package's `start` script ("node --flag … dist/main.js"): the one
 * command line the Dockerfile's CMD, nixpacks.toml and scripts/start.sh repeat
 * (deploy-commands.test.ts keeps them alike).
 */
export function startArgs(packageDir: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const [command, ...args] = String(manifest.scripts?.start ?? '').split(/\s+/);
  if (command !== 'node' || args.length === 0) throw new Error(`${packageDir}: start is not node`);
  return args;
}

/** The containers' Node (release.ts sets SERVICE_NODE); this one when run without it. */
export const serviceNode = (): string => process.env.SERVICE_NODE || process.execPath;

/**
 * The backend's allocator as its container sets it (backend/Dockerfile: jemalloc and its
 * MALLOC_CONF; release.ts resolves both); none when run without them.
 */
export function backendAllocatorEnv(): Record<string, string> {
  const preload = process.env.SERVICE_LD_PRELOAD;
  const mallocConf = process.env.SERVICE_MALLOC_CONF;
  return preload && mallocConf ? { LD_PRELOAD: preload, MALLOC_CONF: mallocConf } : {};
}

export function startService(name: string, env: Record<string, string>): Service {
  const dir = path.join(releaseRoot, name);
  return startProcess(name, serviceNode(), startArgs(dir), dir, {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    ...(name === 'backend' ? backendAllocatorEnv() : {}),
    ...env,
  });
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Service {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d));
  child.stderr?.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, output: () => output, exited };
}

export async function waitForHttp(url: string, service: Service, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      const how = service.child.exitCode ?? service.child.signalCode;
      throw new Error(`${service.name} exited (${how}): ${service.output()}`);
    }
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // Not listening yet, or not answering within 2 s.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${service.name} did not answer ${url}: ${service.output()}`);
}

export function stopService(service: Service): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null)
    return Promise.resolve();
  service.child.kill('SIGTERM');
  const force = setTimeout(() => service.child.kill('SIGKILL'), 15_000);
  return service.exited.then(() => clearTimeout(force));
}

export function freePort(): Promise<number> {
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
