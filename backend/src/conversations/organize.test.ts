import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestContext } from '../test-support/context.js';
import { buildUser, setupAdmin, type SignedInUser } from '../test-support/factories.js';

// Pinning, archiving, folders and the list's keyset pages over them.

let ctx: TestContext;
let alice: SignedInUser;

beforeEach(async () => {
  ctx = await startTestApp();
  alice = await setupAdmin(ctx.app, 'alice');
});
afterEach(() => ctx.close());

type Conv = {
  id: string;
  title: string;
  pinned: boolean;
  archived: boolean;
  folderId: string | null;
  updatedAt: string;
};

async function api(
  user: SignedInUser,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: unknown,
) {
  return ctx.app.inject({
    method,
    url,
    headers: { cookie: user.cookie },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

async function create(user: SignedInUser, title: string): Promise<Conv> {
  const response = await api(user, 'POST', '/api/conversations', { title });
  expect(response.statusCode).toBe(201);
  return response.json();
}

async function patch(user: SignedInUser, id: string, body: Record<string, unknown>) {
  return api(user, 'PATCH', `/api/conversations/${id}`, body);
}

/** Every page of a list, `limit` at a time, following nextCursor. */
async function allPages(user: SignedInUser, query: string, limit: number): Promise<Conv[]> {
  const seen: Conv[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const url: string = `/api/conversations?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await api(user, 'GET', url);
    expect(response.statusCode).toBe(200);
    const page = response.json() as { conversations: Conv[]; nextCursor: string | null };
    expect(page.conversations.length).toBeLessThanOrEqual(limit);
    seen.push(...page.conversations);
    cursor = page.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('too many pages');
}

/** The list's order: pinned first, then newest activity, then id (descending). */
function listOrder(a: Conv, b: Conv): number {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

describe('pin, archive and keyset pages', () => {
  it('lists pinned first, leaves archived ones out, and pages without gaps or repeats', async () => {
    const made: Conv[] = [];
    for (let i = 0; i < 23; i++) made.push(await create(alice, `chat ${i}`));
    // Same timestamps for a few, so the id decides between them across a page boundary.
    await ctx.db.run(
      `UPDATE conversations SET updated_at = CAST($1 AS TIMESTAMPTZ) WHERE id IN ($2, $3, $4, $5)`,
      ['2024-05-01T10:00:00.000Z', made[3]!.id, made[4]!.id, made[5]!.id, made[6]!.id],
    );
    for (const i of [2, 10, 20]) {
      const pinned = await patch(alice, made[i]!.id, { pinned: true });
      expect(pinned.json()).toMatchObject({ pinned: true, archived: false });
    }
    for (const i of [5, 11]) {
      expect((await patch(alice, made[i]!.id, { archived: true })).json().archived).toBe(true);
    }
    // Pinning and archiving are not activity: the time stays.
    const five = (await api(alice, 'GET', `/api/conversations/${made[5]!.id}`)).json();
    expect(five.conversation.updatedAt).toBe('2024-05-01T10:00:00.000Z');

    const main = await allPages(alice, '', 4);
    expect(main.map((c) => c.id)).toEqual(
      [...main].sort(listOrder).map((c) => c.id), // in order
    );
    expect(new Set(main.map((c) => c.id)).size).toBe(21); // every one, once
    expect(main.slice(0, 3).every((c) => c.pinned)).toBe(true);
    expect(main.some((c) => c.archived)).toBe(false);
    // Page size 1 and 7 give the same sequence.
    expect((await allPages(alice, '', 1)).map((c) => c.id)).toEqual(main.map((c) => c.id));
    expect((await allPages(alice, '', 7)).map((c) => c.id)).toEqual(main.map((c) => c.id));

    const archived = await allPages(alice, '&archived=true', 1);
    expect(archived.map((c) => c.title).sort()).toEqual(['chat 11', 'chat 5']);

    // Unarchived, it is back in the main list.
    await patch(alice, made[5]!.id, { archived: false });
    const back = await allPages(alice, '', 30);
    expect(back.map((c) => c.id)).toContain(made[5]!.id);
    expect(await allPages(alice, '&archived=true', 30)).toHaveLength(1);

    // Unpinned, it goes back among the others by its time.
    await patch(alice, made[10]!.id, { pinned: false });
    const after = await allPages(alice, '', 30);
    expect(after.filter((c) => c.pinned).map((c) => c.id)).toEqual(
      [made[20]!.id, made[2]!.id].sort((a, b) =>
        listOrder(
          after.find((c) => c.id === a)!,
          after.find((c) => c.id === b)!,
        ),
      ),
    );
  });

  it('refuses bad values with 400 and changes nothing', async () => {
    const c = await create(alice, 'keep me');
    for (const body of [
      { pinned: 'yes' },
      { archived: 1 },
      { folderId: 'not-a-uuid' },
      { folderId: 7 },
      { pinned: true, extra: 1 },
    ]) {
      const response = await patch(alice, c.id, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe('request.invalid');
    }
    for (const query of ['?archived=maybe', '?folderId=x', '?cursor=bm9wZQ', '?limit=0']) {
      const response = await api(alice, 'GET', `/api/conversations${query}`);
      expect(response.statusCode, query).toBe(400);
    }
    const saved = (await api(alice, 'GET', `/api/conversations/${c.id}`)).json().conversation;
    expect(saved).toMatchObject({ pinned: false, archived: false, folderId: null });
  });
});

describe('folders', () => {
  it('creates, renames, files conversations, lists a folder, and deletes it keeping them', async () => {
    const created = await api(alice, 'POST', '/api/folders', { name: 'Work' });
    expect(created.statusCode).toBe(201);
    const work = created.json() as { id: string; name: string };
    const home = (await api(alice, 'POST', '/api/folders', { name: 'Home' })).json();
    expect((await api(alice, 'GET', '/api/folders')).json().folders.map((f: Conv) => f.id)).toEqual(
      [home.id, work.id],
    );
    const renamed = await api(alice, 'PATCH', `/api/folders/${work.id}`, { name: 'Job' });
    expect(renamed.json()).toMatchObject({ id: work.id, name: 'Job' });

    const a = await create(alice, 'a');
    const b = await create(alice, 'b');
    await create(alice, 'c');
    expect((await patch(alice, a.id, { folderId: work.id })).json().folderId).toBe(work.id);
    await patch(alice, b.id, { folderId: work.id });
    // In at most one folder: filing it elsewhere moves it.
    await patch(alice, b.id, { folderId: home.id });
    expect((await allPages(alice, `&folderId=${work.id}`, 1)).map((c) => c.id)).toEqual([a.id]);
    expect((await allPages(alice, `&folderId=${home.id}`, 10)).map((c) => c.id)).toEqual([b.id]);
    // The main list still has every conversation.
    expect(await allPages(alice, '', 10)).toHaveLength(3);

    expect((await patch(alice, b.id, { folderId: null })).json().folderId).toBeNull();

    const deleted = await api(alice, 'DELETE', `/api/folders/${work.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(
      (await api(alice, 'GET', `/api/conversations/${a.id}`)).json().conversation,
    ).toMatchObject({ id: a.id, folderId: null });
    expect((await api(alice, 'GET', '/api/folders')).json().folders).toHaveLength(1);
    expect((await api(alice, 'DELETE', `/api/folders/${work.id}`)).statusCode).toBe(404);
  });

  it('refuses blank or long names and unknown folders', async () => {
    for (const name of ['', '   ', 'x'.repeat(101)]) {
      const response = await api(alice, 'POST', '/api/folders', { name });
      expect(response.statusCode, JSON.stringify(name)).toBe(400);
    }
    const c = await create(alice, 'c');
    const missing = await patch(alice, c.id, { folderId: crypto.randomUUID() });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('folder.not_found');
    expect((await api(alice, 'GET', '/api/folders')).json().folders).toEqual([]);
  });

  it("keeps users apart: another user's folder or conversation answers 404", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    const bobsFolder = (await api(bob, 'POST', '/api/folders', { name: 'Bob' })).json();
    const bobsChat = await create(bob, 'bob chat');
    await patch(bob, bobsChat.id, { folderId: bobsFolder.id, pinned: true });
    const mine = await create(alice, 'mine');

    // Filing my conversation in Bob's folder: his folder is not found for me.
    const filed = await patch(alice, mine.id, { folderId: bobsFolder.id });
    expect(filed.statusCode).toBe(404);
    expect(filed.json().error.code).toBe('folder.not_found');
    // Bob's conversation, whatever the change: not found.
    for (const body of [{ pinned: false }, { archived: true }, { folderId: null }]) {
      const response = await patch(alice, bobsChat.id, body);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('conversation.not_found');
    }
    expect(
      (await api(alice, 'PATCH', `/api/folders/${bobsFolder.id}`, { name: 'x' })).statusCode,
    ).toBe(404);
    expect((await api(alice, 'DELETE', `/api/folders/${bobsFolder.id}`)).statusCode).toBe(404);
    // Listing Bob's folder as me finds nothing of his.
    expect(await allPages(alice, `&folderId=${bobsFolder.id}`, 10)).toEqual([]);
    expect((await api(alice, 'GET', '/api/folders')).json().folders).toEqual([]);

    // Bob's things are as he left them.
    const his = (await api(bob, 'GET', `/api/conversations/${bobsChat.id}`)).json().conversation;
    expect(his).toMatchObject({ pinned: true, archived: false, folderId: bobsFolder.id });
    expect((await api(bob, 'GET', '/api/folders')).json().folders[0].name).toBe('Bob');
  });

  it("deletes a user's folders with the user", async () => {
    const bob = await buildUser(ctx.app, ctx.db, 'bob');
    await api(bob, 'POST', '/api/folders', { name: 'Bob' });
    const response = await api(alice, 'DELETE', `/api/admin/users/${bob.id}`);
    expect(response.statusCode).toBe(204);
    const left = await ctx.db.one<{ n: number }>(
      'SELECT COUNT(*) AS n FROM folders WHERE user_id = $1',
      [bob.id],
    );
    expect(Number(left?.n)).toBe(0);
  });
});
