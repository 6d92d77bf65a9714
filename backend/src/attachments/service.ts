import type { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/connection.js';
import { AppError } from '../errors.js';
import type { ChatMessage, ContentPart } from '../openrouter/types.js';
import { byMessage, createAttachmentsRepo, toMeta, type AttachmentMeta } from './repo.js';
import { TEXT_EXTENSIONS } from './sniff.js';
import { tooLargeMessage, type AttachmentStore } from './store.js';

/** Uploads a user may have waiting for their message at once. */
export const MAX_PENDING = 50;
/** An upload not sent with a message within this time is deleted. */
export const PENDING_TTL_MS = 24 * 3600 * 1000;

export interface AttachmentsDeps {
  db: Database;
  store: AttachmentStore;
  log: FastifyBaseLogger;
  maxBytes: number;
  perMessage: number;
  /**
   * The input modalities of a model in the catalog ("text", "image", "file"), null when the
   * catalog does not know it (then nothing is refused: upstream decides).
   */
  inputModalitiesOf?: (modelId: string) => Promise<string[] | null>;
  now?: () => Date;
}

/** A message of a branch as the upstream request is built from it. */
export interface BranchMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  attachments?: readonly AttachmentMeta[];
}

/**
 * The attachments a send will carry, checked and held: the user's uploads are locked against
 * another send or a delete until `finish` (after the turn's commit, or its failure).
 */
export interface SendAttachments {
  /** In the order the send named them. */
  attachments: AttachmentMeta[];
  /** What the turn's transaction writes (attachments/repo.ts `attach`). */
  claims: Array<{ id: string; position: number }>;
  copies: Array<{ id: string; sourceId: string; position: number; createdAt: string }>;
  /** Releases the lock; after a failed send (`committed` false) also removes the copies' files. */
  finish(committed: boolean): Promise<void>;
}

export function createAttachmentsService(deps: AttachmentsDeps) {
  const { db, store, log } = deps;
  const now = deps.now ?? (() => new Date());
  const repo = createAttachmentsRepo(db);
  /** Per user: the tail of the chain of operations on their pending uploads. */
  const locks = new Map<string, Promise<void>>();

  /** Runs one after another per user: a send's claim, a delete of a pending upload. */
  async function lock(userId: string): Promise<() => void> {
    const previous = locks.get(userId) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => held);
    locks.set(userId, tail);
    await previous;
    return () => {
      release();
      if (locks.get(userId) === tail) locks.delete(userId);
    };
  }

  /** Removes files whose rows' deletion has committed; a failure is logged (the sweep retries). */
  async function removeFiles(userId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await store.remove(userId, ids).catch((error: unknown) => {
      log.warn({ err: error, count: ids.length }, 'attachment files could not be removed');
    });
  }

  /**
   * Deletes uploads never sent within PENDING_TTL_MS and attachments of conversations that
   * no longer exist, rows first, then their files.
   */
  async function sweepAbandoned(): Promise<number> {
    const before = new Date(now().getTime() - PENDING_TTL_MS).toISOString();
    const gone = await db.transaction((tx) => createAttachmentsRepo(tx).deleteAbandoned(before));
    const byUser = new Map<string, string[]>();
    for (const row of gone) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.id]);
    for (const [userId, ids] of byUser) await removeFiles(userId, ids);
    return gone.length;
  }

  async function partsOf(userId: string, message: BranchMessage): Promise<ContentPart[]> {
    const parts: ContentPart[] = [];
    // OpenRouter recommends the text first, then the images.
    if (message.content !== '') parts.push({ type: 'text', text: message.content });
    for (const a of message.attachments ?? []) {
      let bytes: Buffer;
      try {
        bytes = await store.read(userId, a.id);
      } catch (error) {
        log.warn({ err: error, attachmentId: a.id }, 'an attached file is missing');
        parts.push({
          type: 'text',
          text: `[The attached file "${a.name}" is no longer available.]`,
        });
        continue;
      }
      const dataUrl = `data:${a.mediaType};base64,${bytes.toString('base64')}`;
      if (a.kind === 'image') parts.push({ type: 'image_url', image_url: { url: dataUrl } });
      else if (a.kind === 'pdf')
        parts.push({ type: 'file', file: { filename: a.name, file_data: dataUrl } });
      else parts.push({ type: 'text', text: textFilePart(a.name, bytes.toString('utf8')) });
    }
    return parts;
  }

  return {
    limits() {
      return {
        maxBytes: deps.maxBytes,
        perMessage: deps.perMessage,
        imageTypes: ['image/png', 'image/jpeg', 'image/gif', 'image/webp'],
        documentTypes: ['application/pdf'],
        textExtensions: [...TEXT_EXTENSIONS],
      };
    },

    /**
     * Stores an upload as a pending attachment of the user. `declaredBytes` (Content-Length)
     * over the limit is refused before reading anything.
     */
    async upload(
      userId: string,
      name: string,
      body: Readable,
      declaredBytes: number | undefined,
    ): Promise<AttachmentMeta> {
      if (declaredBytes !== undefined && declaredBytes > deps.maxBytes) {
        body.resume();
        throw tooLarge(deps.maxBytes);
      }
      if ((await repo.pendingCount(userId)) >= MAX_PENDING) {
        body.resume();
        throw new AppError('attachment.too_many_pending');
      }
      const file = await store.receive(userId, name, body, deps.maxBytes);
      const meta: AttachmentMeta = {
        id: file.id,
        name,
        mediaType: file.type.mediaType,
        kind: file.type.kind,
        size: file.size,
        createdAt: now().toISOString(),
      };
      try {
        await repo.insert({ ...meta, userId, sha256: file.sha256 });
      } catch (error) {
        await removeFiles(userId, [file.id]);
        throw error;
      }
      return meta;
    },

    /** The user's attachment and its bytes, to download. */
    async open(userId: string, id: string): Promise<{ meta: AttachmentMeta; body: Readable }> {
      const row = await repo.find(userId, id);
      if (!row) throw new AppError('attachment.not_found');
      try {
        return { meta: toMeta(row), body: await store.open(userId, id) };
      } catch (error) {
        log.warn({ err: error, attachmentId: id }, 'an attached file is missing');
        throw new AppError('attachment.not_found');
      }
    },

    /** Deletes an upload not sent yet (removed from the composer). */
    async removePending(userId: string, id: string): Promise<void> {
      const release = await lock(userId);
      try {
        const row = await repo.find(userId, id);
        if (!row) throw new AppError('attachment.not_found');
        if (row.message_id !== null) throw new AppError('attachment.in_use');
        if (await db.transaction((tx) => createAttachmentsRepo(tx).deletePending(userId, id))) {
          await removeFiles(userId, [id]);
        }
      } finally {
        release();
      }
    },

    /**
     * The attachments of a message about to be sent: the user's pending uploads join it, and
     * attachments of earlier messages (an edited question's) are copied onto it. Another
     * user's id, or one that does not exist, is attachment.not_found.
     */
    async forSend(userId: string, ids: readonly string[]): Promise<SendAttachments> {
      if (ids.length > deps.perMessage) {
        throw new AppError(
          'attachment.too_many',
          `A message can carry at most ${deps.perMessage} attachments.`,
        );
      }
      const release = await lock(userId);
      const copies: SendAttachments['copies'] = [];
      try {
        const rows = await Promise.all(ids.map((id) => repo.find(userId, id)));
        if (rows.some((row) => !row)) throw new AppError('attachment.not_found');
        const attachments: AttachmentMeta[] = [];
        const claims: SendAttachments['claims'] = [];
        const at = now().toISOString();
        for (const [position, row] of rows.entries()) {
          if (!row) continue;
          if (row.message_id === null) {
            claims.push({ id: row.id, position });
            attachments.push(toMeta(row));
          } else {
            const id = await store.duplicate(userId, row.id);
            copies.push({ id, sourceId: row.id, position, createdAt: at });
            attachments.push({ ...toMeta(row), id, createdAt: at });
          }
        }
        let finished = false;
        return {
          attachments,
          claims,
          copies,
          async finish(committed) {
            if (finished) return;
            finished = true;
            release();
            if (!committed)
              await removeFiles(
                userId,
                copies.map((c) => c.id),
              );
          },
        };
      } catch (error) {
        release();
        await removeFiles(
          userId,
          copies.map((c) => c.id),
        );
        throw error;
      }
    },

    /**
     * Refuses, before any upstream call, a branch with images for a model whose catalog entry
     * takes no image input (OpenRouter would find no endpoint for it). PDFs are never refused:
     * OpenRouter parses them for models without file input (its file-parser plugin). Returns the
     * fallback models that can take the branch (those known to take no images are left out).
     */
    async checkModels(
      model: string,
      fallbackModels: readonly string[],
      branch: readonly BranchMessage[],
    ): Promise<string[]> {
      const hasImages = branch.some((m) => m.attachments?.some((a) => a.kind === 'image'));
      if (!hasImages || !deps.inputModalitiesOf) return [...fallbackModels];
      const takesImages = async (id: string) => {
        const inputs = await deps.inputModalitiesOf!(id);
        return inputs === null || inputs.includes('image');
      };
      if (!(await takesImages(model))) {
        throw new AppError(
          'attachment.images_unsupported',
          `The model ${model} does not accept images: choose a model with image input.`,
        );
      }
      const usable: string[] = [];
      for (const id of fallbackModels) if (await takesImages(id)) usable.push(id);
      return usable;
    },

    /**
     * The branch as OpenRouter's messages: text stays a string; a message with attachments
     * becomes content parts (images as `image_url` data URLs, PDFs as `file` parts, text files
     * as text parts). Empty messages without attachments (failed answers) are left out.
     */
    async upstreamMessages(
      userId: string,
      branch: readonly BranchMessage[],
    ): Promise<ChatMessage[]> {
      const kept = branch.filter((m) => m.content !== '' || (m.attachments?.length ?? 0) > 0);
      // The usual branch has no files: no promise per message on the send's path.
      if (!kept.some((m) => (m.attachments?.length ?? 0) > 0)) {
        return kept.map(({ role, content }) => ({ role, content }));
      }
      return Promise.all(
        kept.map(async (m) =>
          (m.attachments?.length ?? 0) > 0
            ? { role: m.role, content: await partsOf(userId, m) }
            : { role: m.role, content: m.content },
        ),
      );
    },

    /** Each attachment row of the conversation, by message: what its messages carry. */
    async ofConversation(userId: string, conversationId: string) {
      return byMessage(await repo.ofConversation(userId, conversationId));
    },

    removeFiles,

    /** After a user's deletion committed: their folder goes. */
    async removeUser(userId: string): Promise<void> {
      await store.removeUser(userId).catch((error: unknown) => {
        log.warn({ err: error }, "a deleted user's attachment files could not be removed");
      });
    },

    sweepAbandoned,

    /**
     * At start, before requests: abandoned rows go, then every file without a row (left by a
     * crash between a row's deletion and its file's, or during an upload).
     */
    async sweep(): Promise<{ rows: number; files: number }> {
      const rows = await sweepAbandoned();
      const known = new Set((await repo.allIds()).map((r) => `${r.user_id}/${r.id}`));
      const files = await store.sweep((userId, id) => known.has(`${userId}/${id}`));
      return { rows, files };
    },
  };
}

export type AttachmentsService = ReturnType<typeof createAttachmentsService>;

/** The chat without attachments (tests of other parts): text only, every attachment id unknown. */
export const withoutAttachments: Pick<
  AttachmentsService,
  'forSend' | 'checkModels' | 'upstreamMessages' | 'removeFiles'
> = {
  removeFiles: () => Promise.resolve(),
  forSend: () => Promise.reject(new AppError('attachment.not_found')),
  checkModels: (_model, fallbackModels) => Promise.resolve([...fallbackModels]),
  upstreamMessages: (_userId, branch) =>
    Promise.resolve(
      branch.filter((m) => m.content !== '').map(({ role, content }) => ({ role, content })),
    ),
};

function tooLarge(maxBytes: number): AppError {
  return new AppError('attachment.too_large', tooLargeMessage(maxBytes));
}

/**
 * A text file as the model reads it: its name, then its text. The name's quotes and angle
 * brackets are escaped so that it cannot close the tag early.
 */
export function textFilePart(name: string, text: string): string {
  const safe = name.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<file name="${safe}">\n${text}\n</file>`;
}
