/**
 * The processes under test, each its own OS process so /proc tells their CPU and memory
 * apart: the fake OpenRouter (a tsx runner), the backend and the frontend from their
 * production builds with production dependencies only (laid out in bench/.release as the
 * containers' final stage is), and Debian's nginx with the repo's config.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, closeSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { childrenOf, type ProcGroup } from './procs.js';
import { log, sleep } from './util.js';

const run = promisify(execFile);
export const root = path.resolve(import.meta.dirname, '../..');
export const benchRoot = path.join(root, 'bench');
export const releaseRoot = path.join(benchRoot, '.release');

/**
 * The Node binary that runs the processes under test (backend, frontend, the floor's bare
 * hops): the bench's own unless `--node BIN` (main.ts) names another, e.g. Node 24 as the
 * containers run. The fake and the load client stay on the bench's Node.
 */
let serviceNode = process.execPath;
export function useServiceNode(bin: string): void {
  serviceNode = bin;
}
/**
 * Environment of every backend the bench starts (`--backend-env`, main.ts): the container's C
 * allocator (jemalloc and its MALLOC_CONF, from backend/Dockerfile), which bench/run.sh passes.
 */
let backendEnv: Record<string, string> = {};
export function useBackendEnv(env: Record<string, string>): void {
  backendEnv = env;
}
/** The backend's C allocator as the figures name it. */
export const backendAllocator = (): string =>
  backendEnv.LD_PRELOAD?.includes('jemalloc')
    ? `jemalloc (${backendEnv.MALLOC_CONF ?? 'default'})`
    : 'system';
export const serviceNodeVersion = (): string =>
  execFileSync(serviceNode, ['--version'], { encoding: 'utf8' }).trim();

/**
 * Node's arguments from a service's `start` script ("node --flag … dist/main.js"): the command
 * line its container runs (e2e/src/deploy-commands.test.ts keeps the Dockerfiles, nixpacks and
 * scripts/start.sh alike).
 */
export function startArgs(packageDir: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  const [command, ...args] = String(manifest.scripts?.start ?? '').split(/\s+/);
  if (command !== 'node' || args.length === 0) throw new Error(`${packageDir}: start is not node`);
  return args;
}

/** `npm run build` in backend/ and frontend/ (their dev dependencies must be installed). */
export async function buildAll(): Promise<void> {
  for (const name of ['backend', 'frontend']) {
    log(`building ${name}`);
    await run('npm', ['run', '--silent', 'build'], {
      cwd: path.join(root, name),
      maxBuffer: 64 * 1024 * 1024,
    });
  }
}

/**
 * Lays out each service as its container's final stage: package.json, the lock file,
 * production dependencies only, and dist/. node_modules is reused while the lock file is
 * unchanged, and taken from e2e/.release when that one was installed from the same lock.
 */
export async function prepareRelease(): Promise<void> {
  for (const name of ['backend', 'frontend']) {
    const source = path.join(root, name);
    if (!existsSync(path.join(source, 'dist'))) {
      throw new Error(
        `${name}/dist is missing: build first (npm run bench builds unless --no-build)`,
      );
    }
    const target = path.join(releaseRoot, name);
    await mkdir(target, { recursive: true });
    const lock = await readFile(path.join(source, 'package-lock.json'), 'utf8');
    const stamp = path.join(target, 'node_modules', '.release-lock');
    const installed = await readFile(stamp, 'utf8').catch(() => null);
    await cp(path.join(source, 'package.json'), path.join(target, 'package.json'));
    await cp(path.join(source, 'package-lock.json'), path.join(target, 'package-lock.json'));
    if (installed !== lock) {
      await rm(path.join(target, 'node_modules'), { recursive: true, force: true });
      const e2eModules = path.join(root, 'e2e', '.release', name, 'node_modules');
      const e2eStamp = await readFile(path.join(e2eModules, '.release-lock'), 'utf8').catch(
        () => null,
      );
      if (e2eStamp === lock) {
        log(`${name}: production dependencies copied from e2e/.release`);
        await cp(e2eModules, path.join(target, 'node_modules'), { recursive: true });
      } else {
        log(`${name}: npm ci --omit=dev`);
        await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
          cwd: target,
        });
      }
      await writeFile(stamp, lock);
    }
    await rm(path.join(target, 'dist'), { recursive: true, force: true });
    await cp(path.join(source, 'dist'), path.join(target, 'dist'), { recursive: true });
  }
}

export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** True once stop() was called: an exit before that is a crash. */
  stopping: boolean;
  exited: Promise<number | null>;
  group(): ProcGroup;
  tail(lines?: number): string;
}

/** Every process started here, so none outlives the bench (even when it is interrupted). */
const started = new Set<ChildProcess>();
function killAll(): void {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  logFile: string,
): Service {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  started.add(child);
  child.once('exit', () => started.delete(child));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  const service: Service = {
    name,
    child,
    pid,
    logFile,
    stopping: false,
    exited,
    group: () => ({ name, pids: () => [pid] }),
    tail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
  return service;
}

export function crashed(service: Service): boolean {
  return (
    !service.stopping && (service.child.exitCode !== null || service.child.signalCode !== null)
  );
}

export async function stopService(service: Service, timeoutMs = 20_000): Promise<number | null> {
  service.stopping = true;
  if (service.child.exitCode !== null || service.child.signalCode !== null) {
    return service.child.exitCode;
  }
  service.child.kill('SIGTERM');
  const force = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  const code = await service.exited;
  clearTimeout(force);
  return code;
}

export async function waitForHttp(
  url: string,
  service: Service,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      const how = service.child.exitCode ?? service.child.signalCode;
      throw new Error(`${service.name} exited (${how}):\n${service.tail()}`);
    }
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // Not listening yet, or not answering within 2 s.
    }
    await sleep(100);
  }
  throw new Error(`${service.name} did not answer ${url}:\n${service.tail()}`);
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

const baseEnv = () => ({ PATH: process.env.PATH ?? '', NODE_ENV: 'production' });

/** The fake OpenRouter in its own process (so its CPU is not counted in ours). */
export async function startFake(dir: string): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const service = startProcess(
    'fake',
    process.execPath,
    ['--import', 'tsx', path.join(benchRoot, 'src', 'fake-runner.ts')],
    benchRoot,
    { PATH: process.env.PATH ?? '', PORT: String(port) },
    path.join(dir, 'fake.log'),
  );
  const url = `http://127.0.0.1:${port}/api/v1`;
  await waitForHttp(`${url}/models`, service);
  return { service, url };
}

/**
 * A bare Node HTTP hop (floor-hop.mjs) in front of `upstreamUrl`: the relay benchmark's
 * floor, two of them in a row standing where the backend and the frontend stand.
 */
export async function startBareHop(
  dir: string,
  name: string,
  upstreamUrl: string,
): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const service = startProcess(
    name,
    serviceNode,
    [path.join(benchRoot, 'src', 'floor-hop.mjs')],
    benchRoot,
    { ...baseEnv(), PORT: String(port), UPSTREAM: upstreamUrl },
    path.join(dir, `${name}.log`),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, service);
  return { service, url };
}

export interface BackendOptions {
  dir: string;
  databasePath: string;
  upstreamUrl: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof for a profile of the backend under load. */
  nodeArgs?: string[];
  /** The Node binary (default: the services', see useServiceNode). */
  node?: string;
  /** The directory with the backend's package.json, node_modules and dist/ (default: the release's). */
  root?: string;
}

export async function startBackend(o: BackendOptions): Promise<{ service: Service; url: string }> {
  const port = await freePort();
  const packageDir = o.root ?? path.join(releaseRoot, 'backend');
  const service = startProcess(
    'backend',
    o.node ?? serviceNode,
    [...(o.nodeArgs ?? []), ...startArgs(packageDir)],
    packageDir,
    {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_PATH: o.databasePath,
      OPENROUTER_BASE_URL: o.upstreamUrl,
      OPENROUTER_API_KEY: 'sk-or-bench-key',
      // The load sends far more than a person would: the per-user rate limit stays out of it.
      CHAT_RATE_LIMIT_PER_MINUTE: '0',
      // The production default: one line per request, written to a file as a container's are.
      LOG_LEVEL: 'info',
      SHUTDOWN_GRACE_MS: '2000',
      ...backendEnv,
      ...o.env,
    },
    path.join(o.dir, 'backend.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/api/ready`, service, 120_000);
  return { service, url };
}

export async function startFrontend(
  dir: string,
  backendUrl: string,
): Promise<{ service: Service; url: string; port: number }> {
  const port = await freePort();
  const packageDir = path.join(releaseRoot, 'frontend');
  const service = startProcess(
    'frontend',
    serviceNode,
    startArgs(packageDir),
    packageDir,
    {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      BACKEND_URL: backendUrl,
      LOG_LEVEL: 'info',
    },
    path.join(dir, 'frontend.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, service);
  return { service, url, port };
}

export interface Nginx {
  service: Service;
  /** https://127.0.0.1:<port> (the certificate is for localhost). */
  url: string;
  certFile: string;
}

/**
 * Debian's nginx with deploy/nginx rendered by deploy/nginx/render.sh, a fresh self-signed
 * certificate, `worker_processes auto` as Debian's nginx.conf has, and enough connections
 * for 1,000 streams (each holds two: the client's and the one to the frontend).
 */
export async function startNginx(dir: string, frontendPort: number): Promise<Nginx> {
  const prefix = path.join(dir, 'nginx');
  const temp = path.join(prefix, 'temp');
  await mkdir(path.join(prefix, 'logs'), { recursive: true });
  await mkdir(temp, { recursive: true });
  // Workers run as nobody when started by root: they must reach the temp folder.
  await chmod(dir, 0o755);
  await chmod(prefix, 0o755);
  await chmod(temp, 0o777);
  const cert = path.join(prefix, 'cert.pem');
  const key = path.join(prefix, 'key.pem');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const rendered = path.join(prefix, 'ai.conf');
  await run('bash', [path.join(root, 'deploy/nginx/render.sh'), rendered], {
    env: {
      ...process.env,
      NGINX_SERVER_NAME: 'localhost',
      NGINX_HTTP_PORT: String(httpPort),
      NGINX_HTTPS_PORT: String(httpsPort),
      NGINX_TLS_CERT: cert,
      NGINX_TLS_KEY: key,
      FRONTEND_UPSTREAM: `127.0.0.1:${frontendPort}`,
    },
  });
  await writeFile(
    path.join(prefix, 'nginx.conf'),
    `worker_processes auto;
worker_rlimit_nofile 16384;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 8192; }
http {
  include /etc/nginx/mime.types;
  sendfile on;
  tcp_nopush on;
  access_log ${prefix}/logs/access.log;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  include ${rendered};
}
`,
  );
  const service = startProcess(
    'nginx',
    '/usr/sbin/nginx',
    ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    prefix,
    { PATH: process.env.PATH ?? '' },
    path.join(dir, 'nginx.log'),
  );
  service.group = () => ({ name: 'nginx', pids: () => [service.pid, ...childrenOf(service.pid)] });
  await waitForPort(httpsPort, service);
  return { service, url: `https://127.0.0.1:${httpsPort}`, certFile: cert };
}

async function waitForPort(port: number, service: Service, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) throw new Error(`nginx exited:\n${service.tail()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nginx did not listen on ${port}:\n${service.tail()}`);
}

export async function nginxVersion(): Promise<string> {
  try {
    const { stderr } = await run('/usr/sbin/nginx', ['-v']);
    return stderr.trim().replace(/^nginx version: /, '');
  } catch {
    return 'not installed';
  }
}
