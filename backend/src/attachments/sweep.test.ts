import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import type { ObservableDatabase } from '../db/connection.js';
import { createKeyring } from '../keys/crypto.js';
import { createOpenRouterClient } from '../openrouter/client.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  createConversation,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { PNG } from './fixtures.js';
import { createAttachmentsService } from './service.js';
import { AttachmentStore } from './store.js';

let ctx: TestContext;
let admin: SignedInUser;
let dir: string;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  dir = path.join(path.dirname(ctx.databasePath), 'attachments');
});
afterEach(() => ctx.close());

const service = () =>
  createAttachmentsService({
    db: ctx.db,
    store: new AttachmentStore(dir),
    log: pino({ level: 'silent' }),
    maxBytes: 1024 * 1024,
    perMessage: 10,
  });

describe('the sweep at start', () => {
  it('removes files without a row, partial uploads, stale uploads and attachments of deleted conversations; keeps the rest', async () => {
    const conversation = await createConversation(ctx.app, admin, { model: 'openai/gpt-4o-mini' });
    const sent = await uploadAttachment(ctx.app, admin, 'sent.png', PNG);
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, conversation, { content: 'x', attachmentIds: [sent] }),
    );
    const fresh = await uploadAttachment(ctx.app, admin, 'fresh.png', PNG);
    const stale = await uploadAttachment(ctx.app, admin, 'stale.png', PNG);
    await ctx.db.run('UPDATE attachments SET created_at = CAST($2 AS TIMESTAMPTZ) WHERE id = $1', [
      stale,
      new Date(Date.now() - 25 * 3600 * 1000).toISOString(),
    ]);
    // A send that committed after its conversation was deleted: its attachment's row remains.
    const stray = await uploadAttachment(ctx.app, admin, 'stray.png', PNG);
    await ctx.db.run('UPDATE attachments SET conversation_id = $2, message_id = $3 WHERE id = $1', [
      stray,
      crypto.randomUUID(),
      crypto.randomUUID(),
    ]);
    // A crash after a row's deletion committed, before its file went; and during an upload.
    const userDir = path.join(dir, admin.id);
    const orphan = path.join(userDir, crypto.randomUUID());
    const partial = path.join(userDir, `${crypto.randomUUID()}.part`);
    await writeFile(orphan, PNG);
    await writeFile(partial, PNG.subarray(0, 10));
    // A deleted user's folder whose removal was cut short.
    const gone = path.join(dir, crypto.randomUUID());
    await mkdir(gone);
    await writeFile(path.join(gone, crypto.randomUUID()), PNG);

    expect(await service().sweep()).toEqual({ rows: 2, files: 3 });

    const ids = (await ctx.db.all<{ id: string }>('SELECT id FROM attachments')).map((r) => r.id);
    expect(ids.sort()).toEqual([sent, fresh].sort());
    for (const id of [sent, fresh]) expect(existsSync(path.join(userDir, id))).toBe(true);
    for (const file of [
      orphan,
      partial,
      gone,
      path.join(userDir, stale),
      path.join(userDir, stray),
    ])
      expect(existsSync(file), file).toBe(false);
    // Nothing left to do the second time.
    expect(await service().sweep()).toEqual({ rows: 0, files: 0 });
  });

  it('runs when the app starts, before it answers', async () => {
    const orphan = path.join(dir, admin.id, crypto.randomUUID());
    await mkdir(path.dirname(orphan), { recursive: true });
    await writeFile(orphan, PNG);
    // A second app on the same database file, as after a restart.
    const config = loadConfig({
      DATABASE_PATH: ctx.databasePath,
      OPENROUTER_BASE_URL: ctx.fake.url,
      OPENROUTER_API_KEY: 'sk-or-test-key',
    });
    const app = await buildApp({
      config,
      db: ctx.db as ObservableDatabase,
      openrouter: createOpenRouterClient({ baseUrl: config.openrouterBaseUrl, apiKey: 'k' }),
      keyring: createKeyring(randomBytes(32)),
      logger: false,
    });
    try {
      await app.ready();
      expect(existsSync(orphan)).toBe(false);
    } finally {
      await app.close();
    }
  });
});
