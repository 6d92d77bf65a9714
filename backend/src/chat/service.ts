import type { FastifyBaseLogger } from 'fastify';
import type { SendAdmission } from '../admission/admission.js';
import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import type { OpenRouterClient } from '../openrouter/types.js';
import { ConversationCache } from '../conversations/cache.js';
import { createConversationsRepo } from '../conversations/repo.js';
import { DEFAULT_TITLE } from '../conversations/schemas.js';
import type { Message } from '../conversations/schemas.js';
import { createPartialFlusher, type PartialFlusher } from './flusher.js';
import { Generation } from './generation.js';
import { noChatMetrics, type ChatMetrics } from './metrics.js';
import { GenerationRegistry } from './registry.js';
import { createChatRepo, type FinishedGeneration, type NewTurn } from './repo.js';
import { newestId, pathTo } from './branch.js';
import { createGroupCommit } from '../db/group-commit.js';
import type { Titler } from '../conversations/titles.js';

export interface ChatDeps {
  db: Database;
  openrouter: OpenRouterClient;
  log: FastifyBaseLogger;
  flushIntervalMs?: number;
  metrics?: ChatMetrics;
  /** The admin's model allow-list (settings/model-access.ts): checked before any upstream call. */
  modelAccess?: { assertAllowed(userId: string, models: string[]): Promise<void> };
  /**
   * Rate limit, monthly budget and the user's own key (admission/admission.ts), checked before
   * any upstream call. Without it: the server's key, no limits.
   */
  admission?: SendAdmission;
  /** The conversations in use (shared with the conversations service, which forgets on change). */
  cache?: ConversationCache;
  /** Names a conversation after its first answer (conversations/titles.ts); none by default. */
  titles?: Pick<Titler, 'afterFirstAnswer'>;
}

export interface Turn {
  userMessage: Message;
  generation: Generation;
}

export function createChatService({
  db,
  openrouter,
  log,
  flushIntervalMs,
  metrics = noChatMetrics,
  modelAccess,
  admission = serverKeyOnly(openrouter),
  cache = new ConversationCache(),
  titles,
}: ChatDeps) {
  const repo = createChatRepo(db);
  const conversations = createConversationsRepo(db);
  const flusher: PartialFlusher = createPartialFlusher(db, log, flushIntervalMs);
  // Under load, many turns share one commit (db/group-commit.ts).
  const saveTurn = createGroupCommit<NewTurn>(db, (tx, turns) =>
    createChatRepo(tx).insertTurns(turns),
  );
  const saveFinished = createGroupCommit<FinishedGeneration>(db, (tx, finished) =>
    createChatRepo(tx).finishAll(finished),
  );
  const registry = new GenerationRegistry();

  return {
    registry,

    /**
     * Starts an answer. The upstream call starts at once, while the user's message and the
     * answer's row (status streaming) are committed; the turn is returned only once they are,
     * so a caller told "accepted" can rely on the question being saved. Should the save fail,
     * the upstream call is aborted and the error thrown: nothing was accepted. (Overlapping
     * the two hides the commit from the time to first token: a commit takes ~1–3 ms here, and
     * under load waits its turn on the one connection.)
     */
    async send(
      userId: string,
      conversationId: string,
      input: { content: string; model?: string; parentId?: string },
      requestId?: string,
    ): Promise<Turn> {
      // From memory for a conversation in use: a send then reads nothing from the database.
      const state = await cache.get(userId, conversationId, async () => {
        const conversation = await conversations.find(userId, conversationId);
        if (!conversation) return undefined;
        return { userId, conversation, rows: await repo.contextRows(userId, conversationId) };
      });
      if (!state) throw new AppError('conversation.not_found');
      const { conversation, rows } = state;
      const model = input.model ?? conversation.model;
      if (!model) throw new AppError('model.required');
      await modelAccess?.assertAllowed(userId, [model, ...conversation.fallbackModels]);
      // Whose key, and whether the rate limit and the budget let this send start.
      const admitted = await admission.admit(userId);

      let parentId: string | null;
      if (input.parentId !== undefined) {
        if (!rows.some((row) => row.id === input.parentId)) {
          throw new AppError('message.parent_invalid');
        }
        parentId = input.parentId;
      } else {
        parentId = newestId(rows);
      }

      const created = new Date();
      const userMessage: Message = {
        id: crypto.randomUUID(),
        conversationId,
        parentId,
        role: 'user',
        content: input.content,
        reasoning: null,
        model: null,
        status: 'complete',
        error: null,
        createdAt: created.toISOString(),
        updatedAt: created.toISOString(),
        generation: null,
      };
      // One millisecond later, so "oldest first" puts the answer after its question.
      const answerCreatedAt = new Date(created.getTime() + 1).toISOString();
      const assistantId = crypto.randomUUID();
      const generationId = crypto.randomUUID();
      const title =
        parentId === null && conversation.title === DEFAULT_TITLE ? titleFrom(input.content) : null;

      const saved = saveTurn({
        userId,
        conversationId,
        userMessage: {
          id: userMessage.id,
          parentId,
          content: input.content,
          createdAt: userMessage.createdAt,
        },
        assistantMessage: { id: assistantId, createdAt: answerCreatedAt },
        generationId,
        model,
        title,
      });

      const messages = [
        ...pathTo(rows, parentId),
        { role: 'user' as const, content: input.content },
      ]
        .filter((m) => m.content !== '')
        .map(({ role, content }) => ({ role, content }));
      const generation = new Generation(
        generationId,
        userId,
        conversationId,
        assistantId,
        model,
        {
          model,
          models: conversation.fallbackModels,
          provider: conversation.providerRouting,
          messages,
        },
        {
          openrouter: admitted.openrouter,
          flusher,
          // Once the answer is saved, its cost counts against the user's budget; the first
          // answer of a conversation then gets it named (titles.ts), without waiting for that.
          saveFinished: (finished) =>
            saveFinished(finished).then(
              () => {
                cache.answerSaved(conversationId, assistantId, finished.content);
                admitted.recordCost(finished.usage?.cost ?? null);
                if (title !== null && finished.status === 'complete') {
                  titles?.afterFirstAnswer({
                    userId,
                    conversationId,
                    messageId: assistantId,
                    provisional: title,
                    question: input.content,
                    answer: finished.content,
                    openrouter: admitted.openrouter,
                    recordCost: (cost) => admitted.recordCost(cost),
                  });
                }
              },
              (error: unknown) => {
                cache.forget(conversationId);
                throw error;
              },
            ),
          log,
          metrics,
        },
        saved,
      );
      registry.add(generation);
      generation.start(requestId);
      try {
        await saved;
      } catch (error) {
        generation.abort('discard');
        throw error;
      }
      cache.turnSaved(conversationId, {
        rows: [
          {
            id: userMessage.id,
            parent_id: parentId,
            role: 'user',
            content: input.content,
            created_at: userMessage.createdAt,
          },
          {
            id: assistantId,
            parent_id: userMessage.id,
            role: 'assistant',
            content: '',
            created_at: answerCreatedAt,
          },
        ],
        model,
        updatedAt: userMessage.createdAt,
        title,
      });
      return { userMessage, generation };
    },

    /** The user's running generation, to reattach to; generation.not_found once it has ended. */
    running(userId: string, generationId: string): Generation {
      const generation = registry.find(userId, generationId);
      if (!generation) throw new AppError('generation.not_found');
      return generation;
    },

    /**
     * Stops every running answer of the user (each is saved as `stopped` with its text so
     * far): their access was taken away (disabled, deleted), so their upstream calls, and
     * what those cost, end now rather than when the answers would have.
     */
    stopAllOf(userId: string): number {
      const running = registry.ofUser(userId);
      for (const generation of running) generation.abort('stop');
      return running.length;
    },

    stop(userId: string, generationId: string): void {
      const generation = registry.find(userId, generationId);
      if (!generation) throw new AppError('generation.not_found');
      generation.abort('stop');
    },

    /** At start-up: answers left `streaming` by a previous process are marked interrupted. */
    recoverInterrupted(): Promise<number> {
      return repo.interruptStreaming(
        new Date().toISOString(),
        'The server restarted while this answer was being written.',
      );
    },

    /** At shutdown: lets running answers finish for `graceMs`, saves the rest as interrupted. */
    async shutdown(graceMs: number): Promise<void> {
      await registry.drain(graceMs);
      await flusher.close();
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;

/** Every send with the server's key, unlimited: the chat without the admission gate. */
function serverKeyOnly(openrouter: OpenRouterClient): SendAdmission {
  return {
    admit: () =>
      openrouter.hasKey
        ? Promise.resolve({ openrouter, recordCost: () => undefined })
        : Promise.reject(new AppError('upstream.no_key')),
  };
}

/** A provisional title from the first words of the first message. */
export function titleFrom(content: string): string {
  const words = content.replace(/\s+/g, ' ').trim();
  // Cut by code point, so an emoji is never split into a lone surrogate.
  const points = Array.from(words);
  if (points.length <= 60) return words;
  const cut = points.slice(0, 60).join('');
  const space = cut.lastIndexOf(' ');
  return `${space > 30 ? cut.slice(0, space) : cut}…`;
}
