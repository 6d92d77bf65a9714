import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { isAppError } from '../errors.js';
import type { ChatMessage, OpenRouterClient, Usage } from '../openrouter/types.js';
import type { ConversationCache } from './cache.js';
import { createConversationsRepo, insertTitleGeneration } from './repo.js';
import { promptCharacters, settleUsage } from '../usage/figures.js';
import type { UsageFiller } from '../usage/fill.js';

/**
 * Naming a conversation after its first answer with a small model (TITLE_MODEL), through the
 * same upstream client and key as the answer. The provisional title (the question's first
 * words, set by the send) stays when the model is off, fails or says nothing usable, and a
 * rename by the user made meanwhile wins: only a title still provisional is replaced.
 */

export interface FirstAnswer {
  userId: string;
  conversationId: string;
  /** The answer's message id: the title call's generation row names it. */
  messageId: string;
  /** The title the send set from the question; replaced only while it is still this. */
  provisional: string;
  question: string;
  answer: string;
  /** The client of the answer (the user's own key, or the server's). */
  openrouter: OpenRouterClient;
  /** Adds the call's cost to the user's spend this month. */
  recordCost: (costUsd: number | null) => void;
}

export interface TitlerDeps {
  db: Database;
  log: FastifyBaseLogger;
  /** TITLE_MODEL; undefined: no model call at all. */
  model: string | undefined;
  /** The longest a title call may take, all in (default 20 s). */
  timeoutMs?: number;
  /** The conversations in use (cache.ts): told when a title changes. */
  cache?: Pick<ConversationCache, 'forget'>;
  /** Completes estimated figures from OpenRouter's GET /generation (usage/fill.ts). */
  usageFill?: Pick<UsageFiller, 'schedule'>;
}

/** Of the question and the answer, this many characters at most go to the title model. */
const EXCERPT_CHARS = 2000;
/** The longest title kept, in code points. */
const MAX_TITLE = 80;

const INSTRUCTIONS =
  'You write the title of a chat conversation. Reply with the title only: at most six words ' +
  'saying what the conversation is about, in the language of the conversation, without quotes, ' +
  'without a full stop at the end, nothing else.';

export function titleMessages(question: string, answer: string): ChatMessage[] {
  return [
    { role: 'system', content: INSTRUCTIONS },
    { role: 'user', content: excerpt(question) },
    { role: 'assistant', content: excerpt(answer) },
    { role: 'user', content: 'Write the title of this conversation.' },
  ];
}

function excerpt(text: string): string {
  const points = Array.from(text);
  return points.length <= EXCERPT_CHARS ? text : `${points.slice(0, EXCERPT_CHARS).join('')}…`;
}

/**
 * The model's reply as a title: its first non-empty line, without a "Title:" label, Markdown
 * emphasis or heading marks, surrounding quotes or a final full stop; control characters and
 * lone surrogates dropped, spaces collapsed, at most 80 code points. Null when nothing is left.
 */
export function cleanTitle(reply: string): string | null {
  const line =
    reply
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '';
  let title = line
    .replace(/^#+\s*/, '')
    .replace(/^(?:\*\*|__)?title(?:\*\*|__)?\s*:\s*/i, '')
    .replace(/^[*_]+|[*_]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  // Quotes “” ‘’ «» and the ideographic full stop 。 as escapes: esbuild leaves regex literals as
  // written, and one character beyond Latin-1 makes V8 hold the whole bundle as a two-byte
  // string (scripts/bundle.mjs).
  title = title
    .replace(
      /^["'\u201C\u201D\u2018\u2019\u00AB\u00BB`]+|["'\u201C\u201D\u2018\u2019\u00AB\u00BB`]+$/g,
      '',
    )
    .trim();
  title = title.replace(/[.\u3002]+$/, '').trim();
  const points = Array.from(title);
  if (points.length > MAX_TITLE) {
    const cut = points.slice(0, MAX_TITLE).join('');
    const space = cut.lastIndexOf(' ');
    title = `${space > 40 ? cut.slice(0, space) : cut}…`;
  }
  return title === '' ? null : title;
}

export function createTitler({ db, log, model, timeoutMs = 20_000, cache, usageFill }: TitlerDeps) {
  /** Title calls running, by conversation id. */
  const running = new Map<string, AbortController>();
  /** When each recent title call ended (`performance.now()`), by conversation id. */
  const ended = new Map<string, number>();
  const tasks = new Set<Promise<void>>();
  const idle = async (): Promise<void> => {
    while (tasks.size > 0) await Promise.allSettled([...tasks]);
  };

  async function name(first: FirstAnswer, titleModel: string, signal: AbortSignal) {
    const startedAt = performance.now();
    const messages = titleMessages(first.question, first.answer);
    let text = '';
    let usage: Usage | null = null;
    let upstreamId: string | null = null;
    let provider: string | null = null;
    let answeredModel: string | null = null;
    let finishReason: string | null = null;
    let firstTokenAt: number | null = null;
    let errorCode: string | null = null;
    try {
      const events = first.openrouter.streamChat(
        { model: titleModel, messages },
        { signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) },
      );
      for await (const event of events) {
        if (event.type === 'meta') {
          upstreamId = event.upstreamId;
          provider = event.provider ?? provider;
          answeredModel = event.model;
        } else if (event.type === 'delta') {
          firstTokenAt ??= performance.now();
          text += event.content;
        } else if (event.type === 'usage') usage = event.usage;
        else if (event.type === 'finish') finishReason = event.finishReason;
      }
    } catch (error) {
      errorCode = isAppError(error) ? error.code : 'internal';
      if (!isAppError(error) && !signal.aborted) {
        log.warn({ err: error, conversationId: first.conversationId }, 'title call failed');
      }
    }
    const title = errorCode === null ? cleanTitle(text) : null;
    const settled = settleUsage({
      usage,
      upstreamId,
      promptCharacters: promptCharacters(messages),
      completionCharacters: text.length,
      reasoningCharacters: 0,
    });
    const generationId = newId();
    // One transaction on the writer: the rename check and the write see the same title.
    const outcome = await db.transaction(async (tx) => {
      const repo = createConversationsRepo(tx);
      const current = await repo.titleOf(first.conversationId);
      // Deleted meanwhile (with its generations, or with its user): nothing to keep.
      if (current === undefined) return 'gone';
      const renamed = title !== null && current === first.provisional;
      if (renamed) await repo.setTitle(first.conversationId, title);
      // Whatever the outcome, the call is on record, with what it cost.
      await insertTitleGeneration(tx, {
        id: generationId,
        userId: first.userId,
        conversationId: first.conversationId,
        messageId: first.messageId,
        model: answeredModel ?? titleModel,
        provider,
        upstreamId,
        usage: settled.usage,
        usageSource: settled.source,
        timeToFirstTokenMs: firstTokenAt === null ? null : Math.round(firstTokenAt - startedAt),
        durationMs: Math.round(performance.now() - startedAt),
        finishReason,
        errorCode,
        createdAt: new Date().toISOString(),
      });
      return renamed ? 'renamed' : 'kept';
    });
    if (outcome === 'renamed') cache?.forget(first.conversationId);
    first.recordCost(settled.usage?.cost ?? null);
    if (outcome !== 'gone' && settled.source === 'estimate') {
      usageFill?.schedule({
        generationId,
        upstreamId,
        openrouter: first.openrouter,
        recordCost: first.recordCost,
      });
    }
    log.debug({ conversationId: first.conversationId, errorCode, outcome }, 'title call ended');
  }

  return {
    /**
     * Whether a title call for this conversation is running now, or ended at or after `since`
     * (a `performance.now()` time: when a read of the conversation started).
     */
    isPending: (conversationId: string, since = Infinity): boolean =>
      running.has(conversationId) || (ended.get(conversationId) ?? -Infinity) >= since,

    /**
     * Starts naming the conversation after its first answer; returns at once (the answer's
     * `done` does not wait for it). Nothing happens without TITLE_MODEL, and the provisional
     * title stays. Never throws: a failure is logged and the provisional title kept.
     */
    afterFirstAnswer(first: FirstAnswer): void {
      if (model === undefined || running.has(first.conversationId)) return;
      const controller = new AbortController();
      running.set(first.conversationId, controller);
      const task = name(first, model, controller.signal)
        .catch((error: unknown) => {
          log.error({ err: error, conversationId: first.conversationId }, 'saving a title failed');
        })
        .finally(() => {
          running.delete(first.conversationId);
          tasks.delete(task);
          const at = performance.now();
          ended.set(first.conversationId, at);
          // A read takes milliseconds; a minute-old end can no longer overlap one.
          for (const [id, endedAt] of ended) if (at - endedAt > 60_000) ended.delete(id);
        });
      tasks.add(task);
    },

    /** Resolves once no title call runs (tests; shutdown after `close`). */
    idle,

    /** At shutdown: aborts the running title calls (their provisional titles stay) and waits. */
    async close(): Promise<void> {
      for (const controller of running.values()) controller.abort();
      await idle();
    },
  };
}

export type Titler = ReturnType<typeof createTitler>;
