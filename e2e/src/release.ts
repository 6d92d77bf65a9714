import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
export const releaseRoot = path.join(root, 'e2e', '.release');

/**
 * What the services run on, as in their containers: the Node of backend/Dockerfile's
 * NODE_IMAGE, which scripts/lib.sh installs into .tools/ when missing, and the backend's
 * allocator (the Dockerfile's jemalloc and MALLOC_CONF). Set in SERVICE_NODE,
 * SERVICE_LD_PRELOAD and SERVICE_MALLOC_CONF for the test files (stack.ts), unless the caller
 * set them.
 */
async function ensureServiceRuntime(): Promise<void> {
  const names = ['SERVICE_NODE', 'SERVICE_LD_PRELOAD', 'SERVICE_MALLOC_CONF'] as const;
  if (names.every((name) => process.env[name])) return;
  const { stdout } = await run(
    'bash',
    [
      '-c',
      'source scripts/lib.sh && ensure_service_node >&2 && service_allocator && ' +
        'printf "%s\\n" "$SERVICE_NODE" "$SERVICE_LD_PRELOAD" "$SERVICE_MALLOC_CONF"',
    ],
    { cwd: root },
  );
  const values = stdout.split('\n');
  names.forEach((name, i) => (process.env[name] ||= values[i]));
}

/**
 * Vitest global setup: lays out each service as its container's final stage does —
 * package.json, the lock file, `npm ci --omit=dev` and the build output, nothing else —
 * so the suite runs with production dependencies only. node_modules is reused while the
 * lock file is unchanged. The services then run on the containers' Node and allocator
 * (ensureServiceRuntime).
 */
export default async function prepareReleases(): Promise<void> {
  await ensureServiceRuntime();
  for (const name of ['backend', 'frontend']) {
    const source = path.join(root, name);
    const target = path.join(releaseRoot, name);
    await mkdir(target, { recursive: true });
    const lock = await readFile(path.join(source, 'package-lock.json'), 'utf8');
    const stamp = path.join(target, 'node_modules', '.release-lock');
    const installed = await readFile(stamp, 'utf8').catch(() => null);
    await cp(path.join(source, 'package.json'), path.join(target, 'package.json'));
    await cp(path.join(source, 'package-lock.json'), path.join(target, 'package-lock.json'));
    if (installed !== lock) {
      await rm(path.join(target, 'node_modules'), { recursive: true, force: true });
      await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: target,
      });
      await writeFile(stamp, lock);
    }
    await rm(path.join(target, 'dist'), { recursive: true, force: true });
    await cp(path.join(source, 'dist'), path.join(target, 'dist'), { recursive: true });
  }
}
