import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection.js';
import { migrationFiles } from '../db/migrate.js';
import { OpsError } from '../errors.js';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  createConversation,
  sessionCookie,
  setupAdmin,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import { PNG } from '../attachments/fixtures.js';
import { collect, postMessage } from '../test-support/sse-client.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';
import { restoreDatabase } from './restore.js';
import { isLoopback } from './routes.js';

let ctx: TestContext;
let admin: SignedInUser;
let dir: string;

beforeEach(async () => {
  ctx = await startTestApp();
  admin = await setupAdmin(ctx.app);
  dir = await mkdtemp(path.join(tmpdir(), 'ai-ops-'));
});
afterEach(async () => {
  await ctx.close();
  await rm(dir, { recursive: true, force: true });
});

const newConversation = (model: string) => createConversation(ctx.app, admin, { model });

function backup(target: string, remoteAddress?: string) {
  return ctx.app.inject({
    method: 'POST',
    url: '/ops/backup',
    payload: { dir: target },
    ...(remoteAddress ? { remoteAddress } : {}),
  });
}

describe('POST /ops/backup and restore', () => {
  it('backs up while an answer streams; the restored file holds every completed message', async () => {
    const id = await newConversation('fake/echo');
    for (const content of ['first', 'second', 'third'])
      await collect(postMessage(ctx.baseUrl, admin.cookie, id, { content }));

    const target = path.join(dir, 'backup-1');
    let manifest: Manifest | undefined;
    const slow = await newConversation('fake/slow');
    for await (const event of postMessage(ctx.baseUrl, admin.cookie, slow, {
      content: 'streaming meanwhile [fake chunks=60 delay=20]',
    })) {
      if (event.event === 'delta' && manifest === undefined) {
        const response = await backup(target);
        expect(response.statusCode).toBe(200);
        manifest = response.json();
      }
    }
    expect(manifest).toMatchObject({
      format: 'ai-backup/1',
      migrations: await migrationFiles(),
      tables: { users: 1, conversations: 2, messages: 8, generations: 4 },
    });
    const files = await readdir(target);
    expect(files).toEqual(expect.arrayContaining([MANIFEST_FILE, 'schema.sql', 'load.sql']));
    expect(JSON.parse(await readFile(path.join(target, MANIFEST_FILE), 'utf8'))).toEqual(manifest);

    const restoredFile = path.join(dir, 'restored', 'app.db');
    const result = await restoreDatabase({ target: restoredFile, dir: target });
    expect(result).toMatchObject({ target: restoredFile, previous: null });
    const restored = await openDatabase(restoredFile);
    try {
      const completed = await restored.all<{ content: string }>(
        `SELECT content FROM messages WHERE conversation_id = $1 AND role = 'assistant'
         AND status = 'complete' ORDER BY created_at`,
        [id],
      );
      expect(completed.map((m) => m.content.slice(0, 16))).toEqual([
        'You said: first.',
        'You said: second',
        'You said: third.',
      ]);
      // The answer that was streaming is in the backup as it was: the backend marks it
      // interrupted when it starts on the restored file.
      const streaming = await restored.one<{ status: string }>(
        "SELECT status FROM messages WHERE conversation_id = $1 AND role = 'assistant'",
        [slow],
      );
      expect(streaming?.status).toBe('streaming');
      const migrations = await restored.all<{ name: string }>('SELECT name FROM schema_migrations');
      expect(migrations.map((m) => m.name)).toEqual(await migrationFiles());
      const users = await restored.all<{ username: string }>('SELECT username FROM users');
      expect(users).toEqual([{ username: 'admin' }]);
    } finally {
      await restored.close();
    }
  });

  it('refuses a relative, quoted or non-empty backup folder', async () => {
    const full = path.join(dir, 'full');
    await mkdir(full);
    await writeFile(path.join(full, 'x'), 'x');
    const aFile = path.join(dir, 'a-file');
    await writeFile(aFile, 'x');
    for (const target of [
      'relative/backup',
      path.join(dir, "it's"),
      `${dir}/x'); DROP TABLE users; --`,
      path.join(dir, 'back\\slash'),
      path.join(dir, 'line\nbreak'),
      full,
      aFile,
    ]) {
      const response = await backup(target);
      expect(response.statusCode, target).toBe(400);
      expect(response.json().error.code).toBe('ops.backup_dir_invalid');
    }
    expect(await ctx.db.one('SELECT COUNT(*) AS n FROM users')).toEqual({ n: 1 });
    // A folder that cannot be created says why, without internal detail.
    const underAFile = await backup(path.join(aFile, 'inside'));
    expect(underAFile.statusCode).toBe(400);
    expect(underAFile.json().error.message).toMatch(/^Cannot use .*inside \(ENOTDIR\)\.$/);
    // An empty folder that already exists is fine.
    await mkdir(path.join(dir, 'empty'));
    expect((await backup(path.join(dir, 'empty'))).statusCode).toBe(200);
  });

  it('replaces an existing file only after the import matched the manifest, keeping the old one', async () => {
    const target = path.join(dir, 'backup');
    expect((await backup(target)).statusCode).toBe(200);
    const file = path.join(dir, 'live', 'app.db');
    await mkdir(path.dirname(file));
    await writeFile(file, 'not even a database');

    // A manifest that does not match what was exported: nothing is replaced.
    const manifestFile = path.join(target, MANIFEST_FILE);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
    await writeFile(
      manifestFile,
      JSON.stringify({ ...manifest, tables: { ...manifest.tables, users: 5 } }),
    );
    const refused = restoreDatabase({ target: file, dir: target });
    await expect(refused).rejects.toThrow(OpsError);
    await expect(refused).rejects.toThrow('users: 1 rows, the manifest says 5');
    expect(await readFile(file, 'utf8')).toBe('not even a database');
    expect(await readdir(path.dirname(file))).toEqual(['app.db']);

    await writeFile(manifestFile, JSON.stringify(manifest));
    const now = new Date('2030-01-02T03:04:05.678Z');
    const result = await restoreDatabase({ target: file, dir: target, now });
    const previous = `${file}.before-restore-2030-01-02T03-04-05-678Z`;
    expect(result.previous).toBe(previous);
    expect(await readFile(previous, 'utf8')).toBe('not even a database');
    expect((await readdir(path.dirname(file))).sort()).toEqual([
      'app.db',
      'app.db.before-restore-2030-01-02T03-04-05-678Z',
    ]);
    const restored = await openDatabase(file);
    expect(await restored.all('SELECT username FROM users')).toEqual([{ username: 'admin' }]);
    await restored.close();
  });

  it('refuses a folder without a manifest', async () => {
    await expect(
      restoreDatabase({ target: path.join(dir, 'app.db'), dir: path.join(dir, 'nothing') }),
    ).rejects.toThrow('is not a folder written by `ops backup`');
  });
});

describe('POST /ops/reset-password', () => {
  it('sets the new password and signs the user out everywhere', async () => {
    const before = await ctx.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    expect(before.statusCode).toBe(200);

    const reset = await ctx.app.inject({
      method: 'POST',
      url: '/ops/reset-password',
      payload: { username: 'admin', password: 'a brand new password' },
    });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ username: 'admin', sessionsRevoked: 1 });

    const after = await ctx.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    expect(after.statusCode).toBe(401);
    const oldPassword = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'correct horse battery' },
    });
    expect(oldPassword.statusCode).toBe(401);
    const login = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: 'a brand new password' },
    });
    expect(login.statusCode).toBe(200);
    const me = await ctx.app.inject({
      url: '/api/auth/me',
      headers: { cookie: sessionCookie(login.headers['set-cookie']) },
    });
    expect(me.json().user.username).toBe('admin');
  });

  it('refuses an unknown user and a too short password', async () => {
    const unknown = await ctx.app.inject({
      method: 'POST',
      url: '/ops/reset-password',
      payload: { username: 'nobody', password: 'long enough password' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('user.not_found');
    const short = await ctx.app.inject({
      method: 'POST',
      url: '/ops/reset-password',
      payload: { username: 'admin', password: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error).toEqual({
      code: 'password.too_short',
      message: 'The password must have at least 8 characters.',
    });
  });
});

describe('the ops routes', () => {
  it('answer only loopback callers, whatever X-Forwarded-For says', async () => {
    const target = path.join(dir, 'never');
    for (const remoteAddress of ['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5']) {
      const refused = await backup(target, remoteAddress);
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('ops.loopback_only');
    }
    const forwarded = await ctx.app.inject({
      method: 'POST',
      url: '/ops/reset-password',
      remoteAddress: '10.0.0.5',
      headers: { 'x-forwarded-for': '127.0.0.1' },
      payload: { username: 'admin', password: 'a brand new password' },
    });
    expect(forwarded.statusCode).toBe(403);
    expect(await readdir(dir)).toEqual([]);
    const me = await ctx.app.inject({ url: '/api/auth/me', headers: { cookie: admin.cookie } });
    expect(me.statusCode).toBe(200);
  });

  it('are not under /api and not in the OpenAPI document, nor is /metrics', async () => {
    const doc = (await ctx.app.inject({ url: '/api/openapi.json' })).json();
    const paths = Object.keys(doc.paths);
    expect(paths).toContain('/api/ready');
    expect(paths.filter((p) => !p.startsWith('/api/'))).toEqual([]);
    const proxied = await ctx.app.inject({
      method: 'POST',
      url: '/api/ops/backup',
      headers: { cookie: admin.cookie },
      payload: { dir: path.join(dir, 'x') },
    });
    expect(proxied.statusCode).toBe(404);
  });

  it('recognise loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])
      expect(isLoopback(address), address).toBe(true);
    for (const address of [undefined, '10.0.0.5', '::ffff:10.0.0.5', '::', '128.0.0.1', 'fe80::1'])
      expect(isLoopback(address), address).toBe(false);
  });
});

describe('backups and attached files', () => {
  it('copies the files of the attachment rows; restore puts them back, keeping the old folder', async () => {
    const id = await newConversation('openai/gpt-4o-mini');
    const sent = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const pending = await uploadAttachment(ctx.app, admin, 'notes.md', Buffer.from('# notes'));
    await collect(
      postMessage(ctx.baseUrl, admin.cookie, id, { content: 'x', attachmentIds: [sent] }),
    );
    const target = path.join(dir, 'backup');
    const response = await backup(target);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ attachmentFiles: 2, tables: { attachments: 2 } });
    expect(await readFile(path.join(target, 'attachments', admin.id, sent))).toEqual(PNG);
    expect(await readFile(path.join(target, 'attachments', admin.id, pending), 'utf8')).toBe(
      '# notes',
    );

    // A file missing from the backup is found before anything is replaced.
    const file = path.join(dir, 'live', 'app.db');
    const live = path.join(dir, 'live', 'attachments');
    await mkdir(path.join(live, admin.id), { recursive: true });
    await writeFile(path.join(live, admin.id, 'older'), 'kept aside');
    await rm(path.join(target, 'attachments', admin.id, pending));
    await expect(restoreDatabase({ target: file, dir: target })).rejects.toThrow(
      'holds 1 files; the manifest says 2',
    );
    expect(await readdir(path.dirname(file))).toEqual(['attachments']);
    await writeFile(path.join(target, 'attachments', admin.id, pending), '# notes');

    const now = new Date('2030-01-02T03:04:05.678Z');
    const result = await restoreDatabase({ target: file, dir: target, now });
    expect(result.previousAttachments).toBe(`${live}.before-restore-2030-01-02T03-04-05-678Z`);
    expect((await readdir(path.join(live, admin.id))).sort()).toEqual([sent, pending].sort());
    expect(await readFile(path.join(live, admin.id, sent))).toEqual(PNG);
    expect(await readFile(path.join(result.previousAttachments!, admin.id, 'older'), 'utf8')).toBe(
      'kept aside',
    );
  });
});
