import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import {
  buildUser,
  setupAdmin,
  upload,
  uploadAttachment,
  type SignedInUser,
} from '../test-support/factories.js';
import { GIF, JPEG, PDF, PNG, SVG, WEBP } from './fixtures.js';

let ctx: TestContext;
let admin: SignedInUser;
let dir: string;

beforeEach(async () => {
  ctx = await startTestApp({ env: { ATTACHMENT_MAX_MB: '1' } });
  admin = await setupAdmin(ctx.app);
  dir = path.join(path.dirname(ctx.databasePath), 'attachments');
});
afterEach(() => ctx.close());

const fileOf = (user: SignedInUser, id: string) => path.join(dir, user.id, id);
const rowOf = (id: string) =>
  ctx.db.one<{
    user_id: string;
    conversation_id: string | null;
    message_id: string | null;
    media_type: string;
    kind: string;
    size_bytes: number;
    sha256: string;
  }>('SELECT * FROM attachments WHERE id = $1', [id]);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function filesOnDisk(): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const user of await readdir(dir)) {
    for (const file of await readdir(path.join(dir, user))) out.push(`${user}/${file}`);
  }
  return out;
}

describe('POST /api/attachments', () => {
  it('stores the file under the data folder and its metadata in the database, pending', async () => {
    const response = await upload(ctx.app, admin, 'pixel.png', PNG);
    expect(response.statusCode, response.body).toBe(201);
    const meta = response.json();
    expect(meta).toEqual({
      id: expect.any(String),
      name: 'pixel.png',
      mediaType: 'image/png',
      kind: 'image',
      size: PNG.length,
      createdAt: expect.any(String),
    });
    expect(await readFile(fileOf(admin, meta.id))).toEqual(PNG);
    expect(await rowOf(meta.id)).toMatchObject({
      user_id: admin.id,
      conversation_id: null,
      message_id: null,
      media_type: 'image/png',
      kind: 'image',
      size_bytes: PNG.length,
      sha256: sha256(PNG),
    });
  });

  it('decides the type from the content, never from the name or the Content-Type claimed', async () => {
    const kinds: Array<[string, Buffer, string]> = [
      ['a.jpg', JPEG, 'image/jpeg'],
      ['b.gif', GIF, 'image/gif'],
      ['c.webp', WEBP, 'image/webp'],
      ['d.pdf', PDF, 'application/pdf'],
      ['looks-like-text.txt', PNG, 'image/png'],
      ['notes.md', Buffer.from('# Notes\n'), 'text/plain'],
      ['page.html', Buffer.from('<script>alert(1)</script>'), 'text/plain'],
    ];
    for (const [name, bytes, mediaType] of kinds) {
      const response = await upload(ctx.app, admin, name, bytes);
      expect(response.statusCode, name).toBe(201);
      expect(response.json().mediaType, name).toBe(mediaType);
    }
  });

  it('refuses SVG, unknown and binary files with 415 attachment.unsupported_type, keeping nothing', async () => {
    const refused: Array<[string, Buffer]> = [
      ['drawing.svg', SVG],
      ['fake.png', Buffer.from('<html>not an image</html>')],
      ['program.exe', Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03])],
      ['utf16.txt', Buffer.from('hello', 'utf16le')],
    ];
    for (const [name, bytes] of refused) {
      const response = await upload(ctx.app, admin, name, bytes);
      expect(response.statusCode, name).toBe(415);
      expect(response.json().error.code).toBe('attachment.unsupported_type');
    }
    expect(await filesOnDisk()).toEqual([]);
    expect(await ctx.db.all('SELECT id FROM attachments')).toEqual([]);
  });

  it('refuses a file over ATTACHMENT_MAX_MB with 413, told by its length or found while streaming', async () => {
    const limit = 1024 * 1024;
    const exact = Buffer.concat([PDF, Buffer.alloc(limit - PDF.length, 0x20)]);
    expect((await upload(ctx.app, admin, 'exact.pdf', exact)).statusCode).toBe(201);

    const over = Buffer.concat([exact, Buffer.from('!')]);
    const declared = await upload(ctx.app, admin, 'over.pdf', over);
    expect(declared.statusCode).toBe(413);
    expect(declared.json().error).toEqual({
      code: 'attachment.too_large',
      message: 'The file is larger than 1 MB, the most one attachment may be.',
    });

    // Chunked, without a Content-Length: the limit is found while the bytes arrive.
    const chunks = [over.subarray(0, 600_000), over.subarray(600_000)];
    const streamed = await fetch(`${ctx.baseUrl}/api/attachments?name=over.pdf`, {
      method: 'POST',
      headers: { cookie: admin.cookie, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe('attachment.too_large');
    // Only the accepted file is kept: no partial upload is left behind.
    expect(await filesOnDisk()).toHaveLength(1);
    expect(await ctx.db.all('SELECT id FROM attachments')).toHaveLength(1);
  });

  it('refuses an empty file, a body that is not octet-stream, and a name with a path', async () => {
    const empty = await upload(ctx.app, admin, 'empty.txt', Buffer.alloc(0));
    expect(empty.json().error.code).toBe('attachment.empty');
    const json = await ctx.app.inject({
      method: 'POST',
      url: '/api/attachments?name=a.txt',
      headers: { cookie: admin.cookie },
      payload: { content: 'hello' },
    });
    expect(json.statusCode).toBe(415);
    const pathName = await upload(ctx.app, admin, '../../etc/passwd', Buffer.from('x'));
    expect(pathName.statusCode).toBe(400);
    const noName = await ctx.app.inject({
      method: 'POST',
      url: '/api/attachments',
      headers: { cookie: admin.cookie, 'content-type': 'application/octet-stream' },
      payload: PNG,
    });
    expect(noName.statusCode).toBe(400);
    expect(await filesOnDisk()).toEqual([]);
  });

  it('needs a session', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/attachments?name=a.png',
      headers: { 'content-type': 'application/octet-stream' },
      payload: PNG,
    });
    expect(response.statusCode).toBe(401);
    expect(await filesOnDisk()).toEqual([]);
  });
});

describe('GET /api/attachments/:id', () => {
  it('serves the owner the bytes with the stored type, nosniff, and a disposition', async () => {
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const got = await ctx.app.inject({
      url: `/api/attachments/${image}`,
      headers: { cookie: admin.cookie },
    });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload).toEqual(PNG);
    expect(got.headers).toMatchObject({
      'content-type': 'image/png',
      'content-disposition': 'inline; filename="pixel.png"',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'content-length': String(PNG.length),
    });

    // An HTML file is text: served as text/plain, downloaded, never rendered.
    const html = await uploadAttachment(ctx.app, admin, 'page.html', Buffer.from('<h1>hi</h1>'));
    const page = await ctx.app.inject({
      url: `/api/attachments/${html}`,
      headers: { cookie: admin.cookie },
    });
    expect(page.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(page.headers['content-disposition']).toBe('attachment; filename="page.html"');
    expect(page.body).toBe('<h1>hi</h1>');

    const pdf = await uploadAttachment(ctx.app, admin, 'Résumé "final".pdf', PDF);
    const doc = await ctx.app.inject({
      url: `/api/attachments/${pdf}`,
      headers: { cookie: admin.cookie },
    });
    expect(doc.headers['content-type']).toBe('application/pdf');
    expect(doc.headers['content-disposition']).toBe(
      `attachment; filename="Resume-final.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9-final.pdf`,
    );
  });

  it("answers 404 for another user's attachment and for a missing one", async () => {
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const other = await buildUser(ctx.app, ctx.db);
    for (const url of [`/api/attachments/${image}`, `/api/attachments/${crypto.randomUUID()}`]) {
      const response = await ctx.app.inject({ url, headers: { cookie: other.cookie } });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('attachment.not_found');
    }
  });
});

describe('DELETE /api/attachments/:id', () => {
  it('deletes a pending upload with its file; not twice, not another user’s', async () => {
    const image = await uploadAttachment(ctx.app, admin, 'pixel.png', PNG);
    const other = await buildUser(ctx.app, ctx.db);
    const del = (user: SignedInUser) =>
      ctx.app.inject({
        method: 'DELETE',
        url: `/api/attachments/${image}`,
        headers: { cookie: user.cookie },
      });
    expect((await del(other)).statusCode).toBe(404);
    expect(existsSync(fileOf(admin, image))).toBe(true);
    expect((await del(admin)).statusCode).toBe(204);
    expect(existsSync(fileOf(admin, image))).toBe(false);
    expect(await rowOf(image)).toBeUndefined();
    expect((await del(admin)).statusCode).toBe(404);
  });
});

describe('GET /api/attachment-limits', () => {
  it('tells the client what may be attached', async () => {
    const response = await ctx.app.inject({
      url: '/api/attachment-limits',
      headers: { cookie: admin.cookie },
    });
    expect(response.json()).toMatchObject({
      maxBytes: 1024 * 1024,
      perMessage: 10,
      imageTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
      documentTypes: ['application/pdf'],
    });
    expect(response.json().textExtensions).toContain('md');
    expect(response.json().textExtensions).not.toContain('svg');
  });
});
