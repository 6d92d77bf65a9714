/**
 * Backend variants for the side-by-side tools (backend-ab.ts, read-ab.ts): `NAME[:OPTION;…]`
 * on the command line, each option one of `dist=DIR` (a backend/dist built elsewhere, e.g. in a
 * worktree of another commit, run with this release's node_modules), `node=BIN` (the Node
 * binary), `flag=--x` (a Node flag; repeatable), `root=DIR` (a backend directory of its own:
 * package.json, whose `start` gives the Node flags, node_modules and dist/) or `KEY=VALUE` (an
 * environment variable of the backend, e.g. a config setting).
 */
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  releaseRoot,
  startBackend,
  startFake,
  stopService,
  type BackendOptions,
  type Service,
} from './services.js';

export interface Variant {
  name: string;
  options: Pick<BackendOptions, 'env' | 'nodeArgs' | 'node' | 'root'> & { dist?: string };
}

export function parseVariant(spec: string): Variant {
  const colon = spec.indexOf(':');
  const name = colon === -1 ? spec : spec.slice(0, colon);
  const env: Record<string, string> = {};
  const nodeArgs: string[] = [];
  const options: Variant['options'] = { env, nodeArgs };
  for (const option of colon === -1 ? [] : spec.slice(colon + 1).split(';')) {
    const eq = option.indexOf('=');
    if (eq === -1) throw new Error(`variant ${name}: "${option}" is not KEY=VALUE`);
    const key = option.slice(0, eq);
    const val = option.slice(eq + 1);
    if (key === 'dist') options.dist = path.resolve(val);
    else if (key === 'node') options.node = val;
    else if (key === 'root') options.root = path.resolve(val);
    else if (key === 'flag') nodeArgs.push(val);
    else env[key] = val;
  }
  return { name, options };
}

/**
 * Runs `work` against the variant's backend, with a fake upstream, in a temporary directory;
 * then stops both and removes the directory. `databasePath` gets that directory (a fresh file
 * in it, or a file elsewhere).
 */
export async function withVariantBackend<T>(
  variant: Variant,
  databasePath: (dir: string) => string,
  work: (backend: { service: Service; url: string }) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ai-variant-'));
  try {
    const fake = await startFake(dir);
    try {
      const backend = await startBackend({
        dir,
        databasePath: databasePath(dir),
        upstreamUrl: fake.url,
        ...(await variantBackendOptions(variant, dir)),
      });
      try {
        return await work(backend);
      } finally {
        await stopService(backend.service);
      }
    } finally {
      await stopService(fake.service);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What startBackend needs to run `variant`; a `dist=` variant gets a directory in `dir`. */
async function variantBackendOptions(
  variant: Variant,
  dir: string,
): Promise<Pick<BackendOptions, 'env' | 'nodeArgs' | 'node' | 'root'>> {
  const { dist, ...options } = variant.options;
  return dist ? { ...options, root: await backendRoot(dir, dist) } : options;
}

/**
 * A backend directory whose dist/ is a copy of `dist`, with the release's package.json and
 * node_modules. A copy, not a link: Node resolves a linked main.js to its real path and would
 * look for the packages beside the original (none, outside a checkout).
 */
async function backendRoot(dir: string, dist: string): Promise<string> {
  const root = path.join(dir, 'backend');
  await mkdir(root, { recursive: true });
  await cp(path.join(releaseRoot, 'backend', 'package.json'), path.join(root, 'package.json'));
  await symlink(path.join(releaseRoot, 'backend', 'node_modules'), path.join(root, 'node_modules'));
  await cp(dist, path.join(root, 'dist'), { recursive: true });
  return root;
}
