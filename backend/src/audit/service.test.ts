import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { createAuditLog } from './service.js';

const DAY_MS = 86_400_000;
let dir: string;
let db: Database;
let clock: Date;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-audit-'));
  db = await openDatabase(path.join(dir, 'app.db'));
  await migrate(db);
  clock = new Date('2026-01-01T12:00:00.000Z');
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const auditLog = (retentionDays: number) =>
  createAuditLog({ db, log: pino({ level: 'silent' }), now: () => clock, retentionDays });

/** One entry per day for `days` days, the clock left on the last one. */
async function recordDaily(days: number, retentionDays: number) {
  const audit = auditLog(retentionDays);
  for (let day = 0; day < days; day++) {
    if (day > 0) clock = new Date(clock.getTime() + DAY_MS);
    await audit.record({ actorId: null, action: 'auth.sign_in_failed', detail: { day } });
  }
  return audit;
}

describe('audit log retention', () => {
  it('deletes only the entries older than the retention, newest kept in order', async () => {
    const audit = await recordDaily(40, 30);
    clock = new Date(clock.getTime() + 3600_000);

    // Days 0 to 9 are more than 30 days old an hour after day 39's entry.
    expect(await audit.prune()).toBe(10);
    const page = await audit.list(100, undefined);
    expect(page.entries.map((e) => e.detail?.day)).toEqual(
      Array.from({ length: 30 }, (_, i) => 39 - i),
    );
    // Nothing more to delete until the clock moves on.
    expect(await audit.prune()).toBe(0);
    clock = new Date(clock.getTime() + 2 * DAY_MS);
    expect(await audit.prune()).toBe(2);
  });

  it('keeps everything when the retention is 0', async () => {
    const audit = await recordDaily(5, 0);
    clock = new Date(clock.getTime() + 10_000 * DAY_MS);

    expect(await audit.prune()).toBe(0);
    expect((await audit.list(100, undefined)).entries).toHaveLength(5);
  });
});
