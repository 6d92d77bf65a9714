import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import { createChatRepo } from './repo.js';

export interface PartialFlusher {
  /** Records the latest text of a streaming answer; written at the next flush. */
  mark(messageId: string, content: string, reasoning: string | null): void;
  /** Drops a pending write, once the answer is finalized. */
  forget(messageId: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Streaming answers are saved every `intervalMs`, all of them in one transaction:
 * each DuckDB commit costs an fsync (~2 ms here), so one commit per interval rather
 * than one per answer (or per chunk) keeps the write load flat however many streams run.
 */
export function createPartialFlusher(
  db: Database,
  log: FastifyBaseLogger,
  intervalMs = 1000,
): PartialFlusher {
  const pending = new Map<string, { content: string; reasoning: string | null }>();
  let running: Promise<void> | null = null;

  async function writeBatch(): Promise<void> {
    if (pending.size === 0) return;
    const now = new Date().toISOString();
    const batch = [...pending].map(([id, text]) => ({ id, ...text, now }));
    pending.clear();
    try {
      await db.transaction((tx) => createChatRepo(tx).savePartials(batch));
    } catch (error) {
      log.error(
        { err: error, rows: batch.length },
        'saving partial answers failed; retrying next flush',
      );
      // Newer text that arrived meanwhile wins over the failed batch.
      for (const row of batch) {
        if (!pending.has(row.id))
          pending.set(row.id, { content: row.content, reasoning: row.reasoning });
      }
    }
  }

  const flush = (): Promise<void> => {
    running ??= writeBatch().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    mark(messageId, content, reasoning) {
      pending.set(messageId, { content, reasoning });
    },
    forget(messageId) {
      pending.delete(messageId);
    },
    flush,
    async close() {
      clearInterval(timer);
      await running;
      await flush();
    },
  };
}

/** For an answer stored nowhere (a temporary chat's): no partial text is ever written. */
export const noPartials: PartialFlusher = {
  mark() {},
  forget() {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
