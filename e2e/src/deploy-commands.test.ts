import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendAllocatorEnv, serviceNode, startArgs, startStack } from './stack.js';

// Each service is started in four places besides this suite: its Dockerfile's CMD, its
// nixpacks.toml, `npm start` and scripts/start.sh. They must run one command line, the one
// this suite and the bench run (package.json's `start`): a Node flag missing from one of them
// changes the service's memory there (docs/benchmarks.md, Findings 9).
const root = path.resolve(import.meta.dirname, '../..');
const read = (...parts: string[]) => readFileSync(path.join(root, ...parts), 'utf8');

describe.each(['backend', 'frontend'])('%s start command', (name) => {
  const command = ['node', ...startArgs(path.join(root, name))].join(' ');

  it('is the Dockerfile CMD', () => {
    const cmd = read(name, 'Dockerfile').match(/^CMD (\[.*\])$/m);
    expect(cmd).not.toBeNull();
    expect((JSON.parse(cmd![1]!) as string[]).join(' ')).toBe(command);
  });

  it("is nixpacks.toml's start", () => {
    const start = read(name, 'nixpacks.toml').match(/^cmd = "(.*)"$/m);
    // The backend's starts on the allocator its Dockerfile sets (below).
    const mallocConf = read(name, 'Dockerfile').match(/^ {4}MALLOC_CONF=(\S+)$/m)?.[1];
    const allocator = mallocConf ? `LD_PRELOAD=libjemalloc.so.2 MALLOC_CONF=${mallocConf} ` : '';
    expect(start?.[1]).toBe(allocator + command);
  });

  it('is what scripts/start.sh runs', () => {
    expect(read('scripts', 'start.sh')).toContain(`exec ${command}`);
  });

  it("holds V8's young generation to Node 20's size, whichever Node runs it", () => {
    expect(command).toContain('--max-semi-space-size=16');
  });
});

describe('the Node the services run on here', () => {
  it("is the containers' version (the Dockerfiles' NODE_IMAGE)", () => {
    const images = ['backend', 'frontend'].map(
      (name) => read(name, 'Dockerfile').match(/^ARG NODE_IMAGE=node:([\d.]+)-/m)?.[1],
    );
    expect(images[0]).toBeDefined();
    expect(images[1]).toBe(images[0]);
    const version = execFileSync(serviceNode(), ['--version'], { encoding: 'utf8' }).trim();
    expect(version).toBe(`v${images[0]}`);
  });
});

describe("the backend's C allocator", () => {
  const dockerfile = read('backend', 'Dockerfile');
  const mallocConf = dockerfile.match(/^ {4}MALLOC_CONF=(\S+)$/m)?.[1];

  it('is preloaded jemalloc in its container, installed before the preload is set', () => {
    expect(mallocConf).toBeDefined();
    const install = dockerfile.indexOf('apt-get install -y --no-install-recommends libjemalloc2');
    const preload = dockerfile.indexOf('ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2');
    expect(install).toBeGreaterThan(0);
    expect(preload).toBeGreaterThan(install);
  });

  it('is the same here: the suite starts the backend on jemalloc with that MALLOC_CONF', async () => {
    expect(backendAllocatorEnv().MALLOC_CONF).toBe(mallocConf);
    const stack = await startStack({ LOG_LEVEL: 'info' });
    try {
      const mapsJemalloc = (pid: number | undefined) =>
        readFileSync(`/proc/${pid}/maps`, 'utf8').includes('/libjemalloc.so.2');
      expect(mapsJemalloc(stack.backend.child.pid), 'jemalloc in the backend').toBe(true);
      // The backend says so at start, as an operator reads it from a container's log.
      expect(stack.backend.output()).toContain(
        `"allocator":"jemalloc","mallocConf":"${mallocConf}"`,
      );
      // The frontend keeps the system's (on jemalloc it gained no CPU: benchmarks, Findings 10).
      expect(mapsJemalloc(stack.frontend.child.pid), 'jemalloc in the frontend').toBe(false);
    } finally {
      await stack.stop();
    }
  });
});
