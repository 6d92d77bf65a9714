import type { AttachmentMeta } from '../attachments/repo.js';
import { DEFAULT_TITLE, type Conversation } from './schemas.js';

/** A message of a conversation as the context of the next answer needs it. */
export type ContextRow = {
  id: string;
  parent_id: string | null;
  role: 'system' | 'user' | 'assistant';
  content: string;
  created_at: string;
  /** The files a user message carries (metadata; the bytes are read when sent). None: absent. */
  attachments?: AttachmentMeta[];
  /** The comparison an answer is one of (migration 012); absent or null for other messages. */
  comparison_id?: string | null;
};

/** A comparison as a send needs it: the answer chosen to continue with, if any. */
export interface ComparisonState {
  id: string;
  questionId: string;
  chosenId: string | null;
}

/**
 * What a send needs to know about a conversation: its owner, settings (model, fallbacks, provider
 * routing, system prompt, parameter overrides) and message tree.
 */
export interface ConversationState {
  userId: string;
  conversation: Conversation;
  rows: ContextRow[];
  /** Its comparisons (where a send without a parent continues); absent: none. */
  comparisons?: readonly ComparisonState[];
}

export interface ConversationCacheLimits {
  /** Conversations kept, least recently used dropped first. */
  conversations: number;
  /** Characters of message text kept in all; a conversation over an eighth of it is not kept. */
  chars: number;
}

// 1,000 conversations of ten short turns hold ~13 MB of heap here (2,000 measured: 26 MB).
const defaultLimits: ConversationCacheLimits = { conversations: 1000, chars: 16_000_000 };

/**
 * The conversations in use, kept in memory so that a send reads nothing from DuckDB: the
 * conversation and its messages were two lookups of ~0.5–1 ms of CPU each before every
 * upstream call (docs/benchmarks.md), on a connection every page load shares.
 *
 * Only one backend process opens the database file (DuckDB's lock), so this process sees
 * every write. The chat writes through it (a created conversation, a saved turn, a saved
 * answer); every other write to a conversation or its messages must call `forget` (or
 * `forgetUser`) once it has committed — conversations/service.ts and admin/service.ts do.
 * A lookup that misses reads the database and keeps the result only when no write to that
 * conversation happened while it read (a load ticket marked stale by every write), so a
 * slow read can never put back a state older than a write already seen.
 *
 * States handed out are shared: callers must not change them.
 */
export class ConversationCache {
  /** Insertion order is recency: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private readonly loads = new Map<string, { stale: boolean }>();
  private chars = 0;

  constructor(private readonly limits: ConversationCacheLimits = defaultLimits) {}

  /** The user's conversation from memory, or from `read` (kept when nothing raced it). */
  async get(
    userId: string,
    conversationId: string,
    read: () => Promise<ConversationState | undefined>,
  ): Promise<ConversationState | undefined> {
    const cached = this.entries.get(conversationId);
    if (cached) {
      this.entries.delete(conversationId);
      this.entries.set(conversationId, cached);
      return cached.state.userId === userId ? cached.state : undefined;
    }
    const ticket = { stale: false };
    this.loads.set(conversationId, ticket);
    try {
      const state = await read();
      if (state && !ticket.stale) this.put(conversationId, state);
      return state;
    } finally {
      if (this.loads.get(conversationId) === ticket) this.loads.delete(conversationId);
    }
  }

  /** A conversation just created: it has no messages yet. */
  created(userId: string, conversation: Conversation): void {
    this.changed(conversation.id);
    this.put(conversation.id, { userId, conversation, rows: [] });
  }

  /**
   * A turn committed: the question and its (still empty) answers join the tree (with the
   * comparison they make, if any), and the conversation takes the turn's model, activity time
   * and provisional title, as the turn's UPDATE did in the database.
   */
  turnSaved(
    conversationId: string,
    turn: {
      rows: ContextRow[];
      comparison?: ComparisonState;
      model: string;
      updatedAt: string;
      title: string | null;
    },
  ): void {
    this.changed(conversationId);
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    const { userId, conversation, rows, comparisons } = entry.state;
    const title =
      turn.title !== null && conversation.title === DEFAULT_TITLE ? turn.title : conversation.title;
    this.put(conversationId, {
      userId,
      conversation: { ...conversation, model: turn.model, updatedAt: turn.updatedAt, title },
      rows: [...rows, ...turn.rows],
      ...(turn.comparison || comparisons
        ? { comparisons: [...(comparisons ?? []), ...(turn.comparison ? [turn.comparison] : [])] }
        : {}),
    });
  }

  /** An answer's final text committed. */
  answerSaved(conversationId: string, messageId: string, content: string): void {
    this.changed(conversationId);
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    const rows = entry.state.rows.map((row) => (row.id === messageId ? { ...row, content } : row));
    this.put(conversationId, { ...entry.state, rows });
  }

  /** The conversation or its messages changed some other way: read it again next time. */
  forget(conversationId: string): void {
    this.changed(conversationId);
    this.drop(conversationId);
  }

  /** Every conversation of the user (deleted, say). */
  forgetUser(userId: string): void {
    // A load in flight does not say whose conversation it reads: all of them start over.
    for (const ticket of this.loads.values()) ticket.stale = true;
    for (const [id, entry] of this.entries) if (entry.state.userId === userId) this.drop(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private changed(conversationId: string): void {
    const ticket = this.loads.get(conversationId);
    if (ticket) ticket.stale = true;
  }

  /** States are replaced whole, never changed: a send may still hold the previous one. */
  private put(conversationId: string, state: ConversationState): void {
    this.drop(conversationId);
    let chars = 0;
    for (const row of state.rows) chars += row.content.length;
    if (chars > this.limits.chars / 8) return;
    this.entries.set(conversationId, { state, chars });
    this.chars += chars;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= this.limits.conversations && this.chars <= this.limits.chars) break;
      this.drop(id);
    }
  }

  private drop(conversationId: string): void {
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    this.entries.delete(conversationId);
    this.chars -= entry.chars;
  }
}

interface Entry {
  state: ConversationState;
  /** Characters of message text in the state. */
  chars: number;
}
