import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
export const releaseRoot = path.join(root, 'e2e', '.release');

/**
 * The Node binary the services run on: the containers' version (backend/Dockerfile's
 * NODE_IMAGE), which scripts/lib.sh installs into .tools/ when missing. Set in SERVICE_NODE
 * for the test files (stack.ts), unless the caller named one.
 */
async function ensureServiceNode(): Promise<void> {
  if (process.env.SERVICE_NODE) return;
  const { stdout } = await run(
    'bash',
    ['-c', 'source scripts/lib.sh && ensure_service_node >&2 && printf %s "$SERVICE_NODE"'],
    { cwd: root },
  );
  process.env.SERVICE_NODE = stdout;
}

/**
 * Vitest global setup: lays out each service as its container's final stage does —
 * package.json, the lock file, `npm ci --omit=dev` and the build output, nothing else —
 * so the suite runs with production dependencies only. node_modules is reused while the
 * lock file is unchanged. The services then run on the containers' Node (ensureServiceNode).
 */
export default async function prepareReleases(): Promise<void> {
  await ensureServiceNode();
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
