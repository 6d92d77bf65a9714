import { createAttachmentsRepo } from '../attachments/repo.js';
import type { AttachmentsService } from '../attachments/service.js';
import { AppError } from '../errors.js';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { createFoldersRepo } from '../folders/repo.js';
import { ConversationCache } from './cache.js';
import {
  createConversationsRepo,
  toComparisons,
  type ConversationChanges,
  type ListPosition,
} from './repo.js';
import {
  DEFAULT_TITLE,
  type Comparison,
  type Conversation,
  type GenerationParams,
  type Message,
  type ProviderRouting,
} from './schemas.js';

export interface ConversationsDeps {
  now?: () => Date;
  /**
   * The chat's view of the conversations in use (cache.ts): every change made here is told to
   * it once committed.
   */
  cache?: ConversationCache;
  /**
   * Whether a title call for the conversation is running, or ended at or after `since` (a
   * `performance.now()` time) (titles.ts); none by default.
   */
  titlePending?: (conversationId: string, since: number) => boolean;
  /** The user's default model (models/service.ts): the model of a conversation created without one. */
  defaultModelOf?: (userId: string) => Promise<string | null>;
  /** Attached files: listed with their messages (metadata only), removed with the conversation. */
  attachments?: Pick<AttachmentsService, 'ofConversation' | 'removeFiles'>;
}

export function createConversationsService(
  db: Database,
  {
    now = () => new Date(),
    cache = new ConversationCache(),
    titlePending = () => false,
    defaultModelOf,
    attachments,
  }: ConversationsDeps = {},
) {
  const repo = createConversationsRepo(db);
  // A title call that ends while a row is read may have renamed it after the read's snapshot:
  // that row still counts as pending, so the client reads again rather than keep the old title.
  const withPending =
    (since: number) =>
    (c: Conversation): Conversation =>
      titlePending(c.id, since) ? { ...c, titlePending: true } : c;

  async function get(userId: string, id: string): Promise<Conversation> {
    const since = performance.now();
    const conversation = await repo.find(userId, id);
    if (!conversation) throw new AppError('conversation.not_found');
    return withPending(since)(conversation);
  }

  return {
    get,

    async create(
      userId: string,
      input: {
        title?: string;
        model?: string;
        fallbackModels?: string[];
        providerRouting?: ProviderRouting | null;
        systemPrompt?: string | null;
        params?: GenerationParams;
      },
    ): Promise<Conversation> {
      const at = now().toISOString();
      const providerRouting = checkRouting(input.providerRouting ?? null);
      const model = input.model ?? (await defaultModelOf?.(userId)) ?? null;
      const conversation: Conversation = {
        id: newId(),
        title: input.title ?? DEFAULT_TITLE,
        model,
        fallbackModels: input.fallbackModels ?? [],
        pinned: false,
        archived: false,
        folderId: null,
        titlePending: false,
        providerRouting,
        systemPrompt: systemPromptOf(input.systemPrompt),
        params: input.params ?? {},
        createdAt: at,
        updatedAt: at,
      };
      await repo.insert(userId, conversation);
      cache.created(userId, conversation);
      return conversation;
    },

    async list(
      userId: string,
      query: { limit: number; cursor?: string; archived: boolean; folderId?: string },
    ) {
      const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
      const filter = { archived: query.archived, folderId: query.folderId ?? null };
      // One row more than asked tells whether another page exists.
      const since = performance.now();
      const rows = await repo.list(userId, query.limit + 1, filter, after);
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        conversations: page.map(withPending(since)),
        nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
      };
    },

    async getWithMessages(
      userId: string,
      id: string,
    ): Promise<{ conversation: Conversation; messages: Message[]; comparisons: Comparison[] }> {
      const conversation = await get(userId, id);
      const [messages, attached] = await Promise.all([
        repo.listMessages(userId, id),
        attachments?.ofConversation(userId, id),
      ]);
      // Only a conversation with compared answers has comparison rows to read.
      const comparisons = messages.some((m) => m.comparisonId !== null)
        ? toComparisons(await repo.listComparisons(userId, id), messages)
        : [];
      if (!attached || attached.size === 0) return { conversation, messages, comparisons };
      return {
        conversation,
        messages: messages.map((m) => {
          const list = attached.get(m.id);
          return list ? { ...m, attachments: list } : m;
        }),
        comparisons,
      };
    },

    /** A folder given must be one of the user's: checked and filed in one transaction. */
    async update(userId: string, id: string, changes: ConversationChanges): Promise<Conversation> {
      const at = now().toISOString();
      const checked: ConversationChanges = { ...changes };
      if (changes.providerRouting !== undefined) {
        checked.providerRouting = checkRouting(changes.providerRouting);
      }
      if (changes.systemPrompt !== undefined) {
        checked.systemPrompt = systemPromptOf(changes.systemPrompt);
      }
      const since = performance.now();
      const updated = await db.transaction(async (tx) => {
        const folderId = changes.folderId;
        if (typeof folderId === 'string' && !(await createFoldersRepo(tx).find(userId, folderId))) {
          // The conversation's own absence wins: another user's ids all answer 404 alike.
          if (!(await createConversationsRepo(tx).find(userId, id))) {
            throw new AppError('conversation.not_found');
          }
          throw new AppError('folder.not_found');
        }
        return createConversationsRepo(tx).update(userId, id, checked, at);
      });
      cache.forget(id);
      if (!updated) throw new AppError('conversation.not_found');
      return withPending(since)(updated);
    },

    /** Deletes the conversation, its messages and attachments (their files once committed). */
    async remove(userId: string, id: string): Promise<void> {
      const { deleted, files } = await db.transaction(async (tx) => {
        if (!(await createConversationsRepo(tx).delete(userId, id))) {
          return { deleted: false, files: [] };
        }
        return {
          deleted: true,
          files: await createAttachmentsRepo(tx).deleteOfConversation(userId, id),
        };
      });
      cache.forget(id);
      if (!deleted) throw new AppError('conversation.not_found');
      await attachments?.removeFiles(userId, files);
    },
  };
}

export type ConversationsService = ReturnType<typeof createConversationsService>;

/**
 * What the schema cannot say: a provider both allowed (`only`) and ignored is refused (no
 * request could ever use it as asked). Empty lists are dropped, and an object with nothing set
 * means OpenRouter's default routing: it is stored as null.
 */
export function checkRouting(routing: ProviderRouting | null): ProviderRouting | null {
  if (routing === null) return null;
  const ignored = new Set((routing.ignore ?? []).map((slug) => slug.toLowerCase()));
  const both = (routing.only ?? []).find((slug) => ignored.has(slug.toLowerCase()));
  if (both !== undefined) {
    throw new AppError(
      'request.invalid',
      `providerRouting: the provider ${both} is both in only and in ignore.`,
    );
  }
  const set = Object.entries(routing).filter(
    ([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0),
  );
  return set.length === 0 ? null : (Object.fromEntries(set) as ProviderRouting);
}

/** An empty system prompt is none: stored as null. Any other text is kept as sent. */
export function systemPromptOf(text: string | null | undefined): string | null {
  return text === undefined || text === null || text === '' ? null : text;
}

function encodeCursor(c: Conversation): string {
  return Buffer.from(JSON.stringify([c.pinned, c.updatedAt, c.id])).toString('base64url');
}

function decodeCursor(cursor: string): ListPosition {
  try {
    const [pinned, updatedAt, id] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof pinned === 'boolean' &&
      typeof updatedAt === 'string' &&
      typeof id === 'string' &&
      !Number.isNaN(Date.parse(updatedAt))
    ) {
      return { pinned, updatedAt, id };
    }
  } catch {
    // Falls through to the typed error below.
  }
  throw new AppError(
    'request.invalid',
    'The cursor is not valid: use nextCursor from the previous page.',
  );
}
