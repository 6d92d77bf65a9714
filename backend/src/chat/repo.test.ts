import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/connection.js';
import { migrate } from '../db/migrate.js';
import { DEFAULT_TITLE } from '../conversations/schemas.js';
import { createChatRepo, type FinishedGeneration, type NewTurn } from './repo.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-chat-repo-'));
  db = await openDatabase(path.join(dir, 'app.db'));
  await migrate(db);
  await db.run(
    `INSERT INTO conversations (id, user_id, title, model, created_at, updated_at)
     VALUES ('c1', 'u1', $1, NULL, now(), now())`,
    [DEFAULT_TITLE],
  );
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

const turn = (n: number): NewTurn => ({
  userId: 'u1',
  conversationId: 'c1',
  userMessage: {
    id: `q${n}`,
    parentId: null,
    content: `question ${n}`,
    createdAt: '2026-12-04T10:00:00.000Z',
  },
  answers: [
    {
      id: `a${n}`,
      createdAt: '2026-12-04T10:00:00.001Z',
      generationId: `g${n}`,
      model: 'fake/echo',
    },
  ],
  comparisonId: null,
  model: 'fake/echo',
  title: `Title ${n}`,
});

const finished = (n: number, content: string): FinishedGeneration => ({
  userId: 'u1',
  messageId: `a${n}`,
  generationId: `g${n}`,
  conversationId: 'c1',
  content,
  reasoning: null,
  sources: null,
  status: 'complete',
  error: null,
  errorCode: null,
  upstreamId: 'up-1',
  provider: 'Fake',
  answeredModel: null,
  usage: { promptTokens: 3, completionTokens: 5, reasoningTokens: 0, cachedTokens: 0, cost: 0.25 },
  usageSource: 'stream',
  timeToFirstTokenMs: 12,
  durationMs: 40,
  finishReason: 'stop',
  now: '2026-12-04T10:00:01.000Z',
});

const answer = async (id: string) =>
  db.one<{ content: string; status: string }>(
    'SELECT content, status FROM messages WHERE id = $1',
    [id],
  );

describe('chat repo writes', () => {
  it('saves partial text only while the answer is still streaming', async () => {
    const repo = createChatRepo(db);
    await db.transaction((tx) => createChatRepo(tx).insertTurns([turn(1), turn(2)]));
    await db.transaction((tx) => createChatRepo(tx).finishAll([finished(1, 'final one')]));

    await repo.savePartials([
      { id: 'a1', content: 'late partial', reasoning: null, now: '2026-12-04T10:00:02.000Z' },
      { id: 'a2', content: 'partial two', reasoning: 'thinking', now: '2026-12-04T10:00:02.000Z' },
    ]);

    expect(await answer('a1')).toEqual({ content: 'final one', status: 'complete' });
    expect(await answer('a2')).toEqual({ content: 'partial two', status: 'streaming' });
  });

  it('finishes each answer of a batch with its own text and usage, and sets the title once', async () => {
    await db.transaction((tx) => createChatRepo(tx).insertTurns([turn(1), turn(2)]));
    await db.transaction((tx) =>
      createChatRepo(tx).finishAll([finished(1, 'first'), finished(2, 'second')]),
    );

    expect(await answer('a1')).toEqual({ content: 'first', status: 'complete' });
    expect(await answer('a2')).toEqual({ content: 'second', status: 'complete' });
    const generations = await db.all<{ id: string; completion_tokens: number; cost_usd: number }>(
      'SELECT id, completion_tokens, cost_usd FROM generations ORDER BY id',
    );
    expect(generations).toEqual([
      { id: 'g1', completion_tokens: 5, cost_usd: 0.25 },
      { id: 'g2', completion_tokens: 5, cost_usd: 0.25 },
    ]);
    const conversation = await db.one<{ title: string; model: string }>(
      "SELECT title, model FROM conversations WHERE id = 'c1'",
    );
    expect(conversation).toEqual({ title: 'Title 1', model: 'fake/echo' });
  });

  it('reuses its prepared statements across batches of the same size and of other sizes', async () => {
    for (let n = 1; n <= 6; n += 1) {
      await db.transaction((tx) => createChatRepo(tx).insertTurns([turn(n)]));
    }
    await db.transaction((tx) => createChatRepo(tx).insertTurns([turn(7), turn(8), turn(9)]));
    const count = await db.one<{ n: number }>(
      "SELECT count(*) AS n FROM messages WHERE conversation_id = 'c1'",
    );
    expect(count?.n).toBe(18);
  });
});
