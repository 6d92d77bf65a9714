import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Row, type SqlParam } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { createAuthService } from './service.js';

let dir: string;
let db: Database;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-auth-'));
  db = await openDatabase(path.join(dir, 'app.db'));
  await migrate(db);
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** The database, except that the session lookup's answer is held until `release()`. */
function holdingSessionLookups(inner: Database) {
  let release: () => void = () => undefined;
  let held = false;
  const wrapped: Database = {
    ...inner,
    all: (sql, params) => inner.all(sql, params),
    run: (sql, params) => inner.run(sql, params),
    transaction: (work) => inner.transaction(work),
    checkpoint: () => inner.checkpoint(),
    close: () => inner.close(),
    async one<T extends object = Row>(sql: string, params?: SqlParam[]) {
      const answer = await inner.one<T>(sql, params);
      if (held && sql.includes('FROM sessions s JOIN users u')) {
        await new Promise<void>((resolve) => (release = resolve));
      }
      return answer;
    },
  };
  return {
    db: wrapped,
    hold: () => (held = true),
    release: () => {
      held = false;
      release();
    },
  };
}

const ctx = { ip: '127.0.0.1', userAgent: 'test' };

describe('the auth service', () => {
  it('never caches a session that was revoked while it was being looked up', async () => {
    const gate = holdingSessionLookups(db);
    const auth = createAuthService(gate.db);
    const { token } = await auth.setup('admin', 'correct horse battery', ctx);

    gate.hold();
    // The lookup reads the session (still valid), and its answer waits...
    const lookup = auth.authenticate(token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // ...while the session is revoked.
    await auth.logout(token, ctx);
    gate.release();
    expect((await lookup)?.user.username).toBe('admin');

    // Had the stale answer been cached, the revoked token would still work for 30 s.
    expect(await auth.authenticate(token)).toBeNull();
  });

  it('answers a revoked session at once, though it was cached', async () => {
    const auth = createAuthService(db);
    const { token, user } = await auth.setup('admin', 'correct horse battery', ctx);
    expect((await auth.authenticate(token))?.user.id).toBe(user.id);
    expect(await auth.signOutEverywhere(user.id, ctx)).toBe(1);
    expect(await auth.authenticate(token)).toBeNull();
  });
});
