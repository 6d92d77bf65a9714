/** What the figures were measured on. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { backendAllocator, nginxVersion, root, serviceNodeVersion } from './services.js';
import { table } from './util.js';

export async function machineInfo() {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const servicesNode = serviceNodeVersion();
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: os.release(),
    /** The services' Node (`--node`), then the bench's own (the fake's and the load client's). */
    node:
      servicesNode === process.version
        ? process.version
        : `${servicesNode} (services), ${process.version} (fake, client)`,
    /** The backend's C allocator (`--backend-env`: the container's jemalloc, or the system's). */
    backendAllocator: backendAllocator(),
    nginx: await nginxVersion(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    /** Uncommitted changes under backend/ and frontend/ were part of what was built. */
    uncommittedChanges: git(['status', '--porcelain', '--', 'backend', 'frontend']) !== '',
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export function machineMarkdown(m: Awaited<ReturnType<typeof machineInfo>>): string {
  return (
    table(
      [
        'nproc',
        'CPU',
        'memory',
        'kernel',
        'Node',
        "backend's C allocator",
        'nginx',
        'commit',
        'load average at start (1/5/15 min)',
      ],
      [
        [
          String(m.nproc),
          m.cpuModel,
          `${m.memoryGiB} GiB`,
          m.kernel,
          m.node,
          m.backendAllocator,
          m.nginx,
          `${m.commit}${m.uncommittedChanges ? ' + uncommitted changes' : ''}`,
          m.loadAverageAtStart.join(' / '),
        ],
      ],
    ) + '\n'
  );
}
