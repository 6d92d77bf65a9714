import { rm } from 'node:fs/promises';
import { setupAdmin } from './api.js';
import { startBackend, startFake, stopService, type Service } from './services.js';
import { log } from './util.js';

/**
 * A fresh database file for a benchmark at scale: migrated by the backend itself (started once
 * on it; the admin comes from /api/auth/setup), then filled by `fill` with the backend stopped
 * (a second process cannot open the file for writing). The fake upstream it starts keeps
 * running, pushed to `services` to be stopped with the rest.
 */
export async function freshDatabase(
  label: string,
  o: { dir: string; file: string },
  services: Service[],
  fill: (adminId: string) => Promise<Record<string, number>>,
): Promise<{ fakeUrl: string; rows: Record<string, number>; generateMs: number }> {
  await rm(o.file, { force: true });
  await rm(`${o.file}.wal`, { force: true });
  const fake = await startFake(o.dir);
  services.push(fake.service);
  log(`${label}: migrating ${o.file} by starting the backend on it`);
  const backend = await startBackend({ dir: o.dir, databasePath: o.file, upstreamUrl: fake.url });
  try {
    const { userId } = await setupAdmin(backend.url);
    await stopService(backend.service);
    const start = performance.now();
    const rows = await fill(userId);
    const generateMs = performance.now() - start;
    log(`${label}: generated in ${(generateMs / 1000).toFixed(1)} s: ${JSON.stringify(rows)}`);
    return { fakeUrl: fake.url, rows, generateMs };
  } finally {
    await stopService(backend.service);
  }
}
