import { describe, expect, it } from 'vitest';
import { ConversationCache, type ContextRow, type ConversationState } from './cache.js';
import { DEFAULT_TITLE, type Conversation } from './schemas.js';

const conversation = (id: string, title = DEFAULT_TITLE): Conversation => ({
  id,
  title,
  model: 'fake/echo',
  fallbackModels: [],
  pinned: false,
  archived: false,
  folderId: null,
  titlePending: false,
  providerRouting: null,
  systemPrompt: null,
  params: {},
  createdAt: '2026-12-05T00:00:00.000Z',
  updatedAt: '2026-12-05T00:00:00.000Z',
});

const row = (id: string, parent: string | null, content: string): ContextRow => ({
  id,
  parent_id: parent,
  role: parent === null ? 'user' : 'assistant',
  content,
  created_at: '2026-12-05T00:00:01.000Z',
});

const turn = (question: string, answer: string, title: string | null = null) => ({
  rows: [row(question, null, `text of ${question}`), row(answer, question, '')] as [
    ContextRow,
    ContextRow,
  ],
  model: 'fake/other',
  updatedAt: '2026-12-05T00:00:02.000Z',
  title,
});

/** A read that counts its calls and answers what the database would. */
function database(state: ConversationState | undefined) {
  const read = { calls: 0, fn: () => Promise.resolve(state) };
  return {
    get calls() {
      return read.calls;
    },
    read: () => {
      read.calls += 1;
      return read.fn();
    },
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ConversationCache', () => {
  it('answers a created conversation from memory, and only to its owner', async () => {
    const cache = new ConversationCache();
    cache.created('u1', conversation('c1'));
    const db = database(undefined);

    expect(await cache.get('u1', 'c1', db.read)).toMatchObject({ userId: 'u1', rows: [] });
    expect(await cache.get('u2', 'c1', db.read)).toBeUndefined();
    expect(db.calls).toBe(0);
  });

  it('reads a missing conversation once, then keeps it', async () => {
    const cache = new ConversationCache();
    const db = database({ userId: 'u1', conversation: conversation('c1'), rows: [] });

    await cache.get('u1', 'c1', db.read);
    await cache.get('u1', 'c1', db.read);
    expect(db.calls).toBe(1);
  });

  it('keeps nothing for a conversation the database does not have for the user', async () => {
    const cache = new ConversationCache();
    const db = database(undefined);

    expect(await cache.get('u1', 'c1', db.read)).toBeUndefined();
    expect(await cache.get('u1', 'c1', db.read)).toBeUndefined();
    expect(db.calls).toBe(2);
  });

  it('adds a saved turn and its answer, replacing the state rather than changing it', async () => {
    const cache = new ConversationCache();
    cache.created('u1', conversation('c1'));
    const before = await cache.get('u1', 'c1', database(undefined).read);

    cache.turnSaved('c1', turn('q1', 'a1', 'A provisional title'));
    cache.answerSaved('c1', 'a1', 'The answer.');
    const after = await cache.get('u1', 'c1', database(undefined).read);

    expect(before?.rows).toEqual([]);
    expect(before?.conversation.model).toBe('fake/echo');
    expect(after?.rows.map((r) => [r.id, r.parent_id, r.content])).toEqual([
      ['q1', null, 'text of q1'],
      ['a1', 'q1', 'The answer.'],
    ]);
    expect(after?.conversation).toMatchObject({
      model: 'fake/other',
      title: 'A provisional title',
      updatedAt: '2026-12-05T00:00:02.000Z',
    });
  });

  it('keeps a title the user gave over the provisional one, as the database UPDATE does', async () => {
    const cache = new ConversationCache();
    cache.created('u1', conversation('c1', 'Renamed'));
    cache.turnSaved('c1', turn('q1', 'a1', 'Provisional'));

    const state = await cache.get('u1', 'c1', database(undefined).read);
    expect(state?.conversation.title).toBe('Renamed');
  });

  it('does not keep a read that a write overtook, so no older state comes back', async () => {
    const cache = new ConversationCache();
    const slow = deferred<ConversationState | undefined>();
    const staleRead = cache.get('u1', 'c1', () => slow.promise);

    // While the read runs, a turn commits (the cache has no entry to update yet).
    cache.turnSaved('c1', turn('q1', 'a1'));
    slow.resolve({ userId: 'u1', conversation: conversation('c1'), rows: [] });
    expect((await staleRead)?.rows).toEqual([]);

    const fresh = database({
      userId: 'u1',
      conversation: conversation('c1'),
      rows: turn('q1', 'a1').rows,
    });
    expect((await cache.get('u1', 'c1', fresh.read))?.rows).toHaveLength(2);
    expect(fresh.calls).toBe(1);
  });

  it('reads again after forget, and after forgetUser for that user only', async () => {
    const cache = new ConversationCache();
    cache.created('u1', conversation('c1'));
    cache.created('u2', conversation('c2'));
    const db = database({ userId: 'u1', conversation: conversation('c1'), rows: [] });

    cache.forget('c1');
    await cache.get('u1', 'c1', db.read);
    expect(db.calls).toBe(1);

    cache.forgetUser('u1');
    await cache.get('u1', 'c1', db.read);
    expect(db.calls).toBe(2);
    const other = database(undefined);
    expect(await cache.get('u2', 'c2', other.read)).toBeDefined();
    expect(other.calls).toBe(0);
  });

  it('forgets a read in flight when its user is forgotten', async () => {
    const cache = new ConversationCache();
    const slow = deferred<ConversationState | undefined>();
    const read = cache.get('u1', 'c1', () => slow.promise);
    cache.forgetUser('u1');
    slow.resolve({ userId: 'u1', conversation: conversation('c1'), rows: [] });
    await read;
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used conversations beyond its limits', async () => {
    const cache = new ConversationCache({ conversations: 2, chars: 1000 });
    cache.created('u1', conversation('c1'));
    cache.created('u1', conversation('c2'));
    await cache.get('u1', 'c1', database(undefined).read); // c1 is now the most recent
    cache.created('u1', conversation('c3'));

    const ids = ['c1', 'c2', 'c3'].filter((id) => {
      const db = database(undefined);
      void cache.get('u1', id, db.read);
      return db.calls === 0;
    });
    expect(ids).toEqual(['c1', 'c3']);
  });

  it('bounds the text it keeps, and never keeps one oversized conversation', async () => {
    const cache = new ConversationCache({ conversations: 100, chars: 800 });
    const big = (id: string, chars: number): ConversationState => ({
      userId: 'u1',
      conversation: conversation(id),
      rows: [row(`${id}-q`, null, 'x'.repeat(chars))],
    });

    await cache.get('u1', 'huge', database(big('huge', 101)).read);
    expect(cache.size).toBe(0);

    for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
      await cache.get('u1', id, database(big(id, 100)).read);
    }
    expect(cache.size).toBe(8);
    const first = database(big('a', 100));
    await cache.get('u1', 'a', first.read);
    expect(first.calls).toBe(1);
  });
});
