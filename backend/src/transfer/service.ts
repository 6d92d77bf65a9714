import { AppError } from '../errors.js';
import type { ConversationCache } from '../conversations/cache.js';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import { looksLikeArchive, planArchive } from './archive.js';
import { looksLikeChatGpt, planChatGpt } from './chatgpt.js';
import { attachment } from './filename.js';
import { conversationMarkdown } from './markdown.js';
import { looksLikeOpenWebUi, planOpenWebUi } from './open-webui.js';
import { invalid, type ImportPlan } from './plan.js';
import { createTransferRepo, type ConversationHead, type NewConversation } from './repo.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  type ExportComparison,
  type ExportConversation,
  type ExportMessage,
  type ImportResult,
} from './schemas.js';

/** Conversations read per page by an export of everything. */
const EXPORT_PAGE = 100;

export interface Download {
  contentType: string;
  contentDisposition: string;
  body: string | AsyncIterable<string>;
}

export function createTransferService(
  db: Database,
  options: {
    now?: () => Date;
    /** The chat's conversations in memory: told of every conversation an import wrote. */
    cache?: Pick<ConversationCache, 'forget'>;
  } = {},
) {
  const now = options.now ?? (() => new Date());
  const repo = createTransferRepo(db);

  return {
    /** One conversation, every branch: Markdown to read, or the archive format with one entry. */
    async exportConversation(
      userId: string,
      id: string,
      format: 'markdown' | 'json',
    ): Promise<Download> {
      const conversation = await repo.findConversation(userId, id);
      if (!conversation) throw new AppError('conversation.not_found');
      const messages = await repo.messages(userId, id);
      const comparisons = await repo.comparisons(userId, id);
      const exportedAt = now().toISOString();
      if (format === 'markdown') {
        return {
          contentType: 'text/markdown; charset=utf-8',
          contentDisposition: attachment(conversation.title, 'md', 'conversation'),
          body: conversationMarkdown(conversation, messages, exportedAt, comparisons),
        };
      }
      return {
        contentType: 'application/json; charset=utf-8',
        contentDisposition: attachment(conversation.title, 'json', 'conversation'),
        body: `${archiveHead(exportedAt)}${JSON.stringify(entry(conversation, messages, comparisons))}]}\n`,
      };
    },

    /**
     * Every conversation of the user as one archive, written as it is read: a page of
     * conversations at a time, then each one's messages, so memory holds one conversation,
     * not the user's whole history. The stream pulls the next piece only when the client
     * has taken the last one.
     */
    exportAll(userId: string, username: string): Download {
      const exportedAt = now().toISOString();
      async function* pieces(): AsyncGenerator<string> {
        yield archiveHead(exportedAt);
        let after: { createdAt: string; id: string } | null = null;
        let first = true;
        for (;;) {
          const page = await repo.conversationPage(userId, after, EXPORT_PAGE);
          for (const conversation of page) {
            const messages = await repo.messages(userId, conversation.id);
            const comparisons = await repo.comparisons(userId, conversation.id);
            yield `${first ? '' : ','}\n${JSON.stringify(entry(conversation, messages, comparisons))}`;
            first = false;
          }
          const last = page.at(-1);
          if (!last || page.length < EXPORT_PAGE) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
        yield '\n]}\n';
      }
      return {
        contentType: 'application/json; charset=utf-8',
        contentDisposition: attachment(
          `ai-workspace-${username}-${exportedAt.slice(0, 10)}`,
          'json',
          'ai-workspace-export',
        ),
        body: pieces(),
      };
    },

    /**
     * Reads the whole file into a plan first (format found from its content, every part
     * checked, limits applied), so a file that is invalid anywhere writes nothing. Then each
     * conversation is written in a transaction of its own, with new ids, for this user only.
     */
    async importFile(userId: string, body: unknown): Promise<ImportResult> {
      const plan = planOf(body);
      const conversations: ImportResult['conversations'] = [];
      let importedMessages = 0;
      for (const planned of plan.conversations) {
        const ids = new Map(planned.messages.map((m) => [m.key, newId()]));
        const conversation: NewConversation = {
          id: newId(),
          title: planned.title,
          model: planned.model,
          fallbackModels: planned.fallbackModels,
          providerRouting: planned.providerRouting,
          systemPrompt: planned.systemPrompt ?? null,
          params: planned.params ?? {},
          createdAt: planned.createdAt,
          updatedAt: planned.updatedAt,
          messages: planned.messages.map((m) => ({
            id: ids.get(m.key)!,
            parentId: m.parentKey === null ? null : ids.get(m.parentKey)!,
            role: m.role,
            content: m.content,
            reasoning: m.reasoning,
            sources: m.sources,
            model: m.model,
            status: m.status,
            error: m.error,
            createdAt: m.createdAt,
            updatedAt: m.updatedAt,
            generation: m.generation && { ...m.generation, id: newId() },
          })),
          comparisons: (planned.comparisons ?? []).map((c) => ({
            id: newId(),
            questionId: ids.get(c.questionKey)!,
            answerIds: c.answerKeys.map((key) => ids.get(key)!),
            chosenId: c.chosenKey === null ? null : ids.get(c.chosenKey)!,
            createdAt: c.createdAt,
            chosenAt: c.chosenAt,
          })),
        };
        await db.transaction((tx) =>
          createTransferRepo(tx).insertConversation(userId, conversation),
        );
        // A new id nobody can have read yet; forgotten anyway, as every write outside the chat is.
        options.cache?.forget(conversation.id);
        conversations.push({
          id: conversation.id,
          title: conversation.title,
          messages: conversation.messages.length,
        });
        importedMessages += conversation.messages.length;
      }
      return {
        format: plan.format,
        importedConversations: conversations.length,
        importedMessages,
        conversations,
        skipped: [...plan.skipped].map(([what, count]) => ({ what, count })),
      };
    },
  };
}

export type TransferService = ReturnType<typeof createTransferService>;

/** Which export the body is, told from its content (never a file name). */
function planOf(body: unknown): ImportPlan {
  if (looksLikeArchive(body)) return planArchive(body as Record<string, unknown>);
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw invalid('it holds no conversations.');
  // Judged by the first entry; every entry is then read as that format (and must be one).
  if (looksLikeChatGpt(items[0])) return planChatGpt(items);
  if (looksLikeOpenWebUi(items[0])) return planOpenWebUi(items);
  throw new AppError('import.unrecognized');
}

function archiveHead(exportedAt: string): string {
  return `{"format":${JSON.stringify(ARCHIVE_FORMAT)},"version":${ARCHIVE_VERSION},"exportedAt":${JSON.stringify(exportedAt)},"conversations":[`;
}

/** The entry of one conversation, its fields named one by one: nothing else is written. */
function entry(
  c: ConversationHead,
  messages: readonly ExportMessage[],
  comparisons: readonly ExportComparison[],
): ExportConversation {
  return {
    id: c.id,
    title: c.title,
    model: c.model,
    fallbackModels: c.fallbackModels,
    providerRouting: c.providerRouting,
    systemPrompt: c.systemPrompt,
    params: {
      temperature: c.params.temperature,
      topP: c.params.topP,
      maxTokens: c.params.maxTokens,
      reasoningEffort: c.params.reasoningEffort,
    },
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    messages: messages.map((m) => ({
      id: m.id,
      parentId: m.parentId,
      role: m.role,
      content: m.content,
      reasoning: m.reasoning,
      sources: m.sources ? m.sources.map((s) => ({ url: s.url, title: s.title })) : null,
      model: m.model,
      status: m.status,
      error: m.error,
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
      generation: m.generation && {
        model: m.generation.model,
        provider: m.generation.provider,
        upstreamId: m.generation.upstreamId,
        promptTokens: m.generation.promptTokens,
        completionTokens: m.generation.completionTokens,
        reasoningTokens: m.generation.reasoningTokens,
        cachedTokens: m.generation.cachedTokens,
        cost: m.generation.cost,
        timeToFirstTokenMs: m.generation.timeToFirstTokenMs,
        durationMs: m.generation.durationMs,
        finishReason: m.generation.finishReason,
        errorCode: m.generation.errorCode,
        createdAt: m.generation.createdAt,
      },
      ...(m.attachments
        ? {
            attachments: m.attachments.map((a) => ({
              name: a.name,
              mediaType: a.mediaType,
              kind: a.kind,
              size: a.size,
              sha256: a.sha256,
            })),
          }
        : {}),
    })),
    comparisons: comparisons.map((comparison) => ({
      id: comparison.id,
      questionId: comparison.questionId,
      answerIds: [...comparison.answerIds],
      chosenId: comparison.chosenId,
      createdAt: comparison.createdAt,
      chosenAt: comparison.chosenAt,
    })),
  };
}
