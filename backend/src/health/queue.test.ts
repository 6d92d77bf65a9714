import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type ObservableDatabase } from '../db/connection.js';
import { judgeQueue } from './queue.js';

let db: ObservableDatabase;
beforeEach(async () => {
  db = await openDatabase(':memory:');
});
afterEach(async () => {
  if (!db.queueState().closed) await db.close();
});

describe('the queue state of the one connection', () => {
  it('counts waiting calls, times the running one and notes the last completion, without queueing', async () => {
    expect(db.queueState()).toEqual({
      waiting: 0,
      runningForMs: null,
      lastCompletedMsAgo: null,
      closed: false,
    });
    expect(judgeQueue(db.queueState(), 60_000)).toBe('idle');

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const held = db.transaction(async () => {
      entered();
      await gate;
    });
    await inside;
    const queued = [db.run('SELECT 1'), db.run('SELECT 2')];

    const whileHeld = db.queueState();
    expect(whileHeld.waiting).toBe(2);
    expect(whileHeld.runningForMs).toBeGreaterThanOrEqual(0);
    expect(whileHeld.lastCompletedMsAgo).toBeNull();
    expect(judgeQueue(whileHeld, 60_000)).toBe('busy');
    // Past the threshold, the same state is a stuck one.
    expect(judgeQueue({ ...whileHeld, runningForMs: 60_001 }, 60_000)).toBe('stuck');

    release();
    await held;
    await Promise.all(queued);
    const after = db.queueState();
    expect(after).toMatchObject({ waiting: 0, runningForMs: null, closed: false });
    expect(after.lastCompletedMsAgo).toBeGreaterThanOrEqual(0);
    expect(judgeQueue(after, 60_000)).toBe('idle');
  });

  it('counts a failed call as completed and leaves the queue as it was', async () => {
    await expect(db.run('SELECT * FROM no_such_table')).rejects.toThrow();
    expect(db.queueState()).toMatchObject({ waiting: 0, runningForMs: null });
    expect(db.queueState().lastCompletedMsAgo).not.toBeNull();
    expect(await db.one('SELECT 1 AS ok')).toEqual({ ok: 1 });
  });

  it('says closed once the database is closed', async () => {
    await db.close();
    expect(db.queueState()).toMatchObject({ waiting: 0, runningForMs: null, closed: true });
    expect(judgeQueue(db.queueState(), 60_000)).toBe('closed');
    await expect(db.one('SELECT 1')).rejects.toThrow('The database is closed.');
  });
});
