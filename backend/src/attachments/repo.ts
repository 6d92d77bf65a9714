import type { Queryable } from '../db/connection.js';
import { keyedRows, valuesList } from '../db/values.js';
import type { AttachmentKind } from './sniff.js';

/** An attachment as the API and the chat see it (no owner, no hash). */
export interface AttachmentMeta {
  id: string;
  name: string;
  mediaType: string;
  kind: AttachmentKind;
  size: number;
  createdAt: string;
}

export interface AttachmentRow {
  id: string;
  user_id: string;
  conversation_id: string | null;
  message_id: string | null;
  position: number | null;
  name: string;
  media_type: string;
  kind: AttachmentKind;
  size_bytes: number;
  sha256: string;
  created_at: string;
}

export interface NewAttachment extends AttachmentMeta {
  userId: string;
  sha256: string;
}

const columns =
  'id, user_id, conversation_id, message_id, position, name, media_type, kind, size_bytes, sha256, created_at';

export function toMeta(row: AttachmentRow): AttachmentMeta {
  return {
    id: row.id,
    name: row.name,
    mediaType: row.media_type,
    kind: row.kind,
    size: row.size_bytes,
    createdAt: row.created_at,
  };
}

/** Attachment metadata grouped by message id. */
export function byMessage(rows: readonly AttachmentRow[]): Map<string, AttachmentMeta[]> {
  const out = new Map<string, AttachmentMeta[]>();
  for (const row of rows) {
    if (row.message_id === null) continue;
    const list = out.get(row.message_id);
    if (list) list.push(toMeta(row));
    else out.set(row.message_id, [toMeta(row)]);
  }
  return out;
}

/** In the order the send named them (then oldest first, then by id). */
function attachedOrder(a: AttachmentRow, b: AttachmentRow): number {
  const [pa, pb] = [a.position ?? 0, b.position ?? 0];
  if (pa !== pb) return pa - pb;
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Lookups by id or conversation check the owner in code (DuckDB uses an index for a lone
 * equality filter only: see conversations/repo.ts `find`).
 */
export function createAttachmentsRepo(db: Queryable) {
  return {
    async insert(a: NewAttachment): Promise<void> {
      await db.run(
        `INSERT INTO attachments (id, user_id, conversation_id, message_id, position, name,
                                  media_type, kind, size_bytes, sha256, created_at)
         VALUES ($1, $2, NULL, NULL, NULL, $3, $4, $5, $6, $7, CAST($8 AS TIMESTAMPTZ))`,
        [a.id, a.userId, a.name, a.mediaType, a.kind, a.size, a.sha256, a.createdAt],
      );
    },

    async find(userId: string, id: string): Promise<AttachmentRow | undefined> {
      const row = await db.one<AttachmentRow>(`SELECT ${columns} FROM attachments WHERE id = $1`, [
        id,
      ]);
      return row?.user_id === userId ? row : undefined;
    },

    /** The user's uploads not yet sent with a message. */
    async pendingCount(userId: string): Promise<number> {
      const row = await db.one<{ n: number }>(
        'SELECT COUNT(*) AS n FROM attachments WHERE user_id = $1 AND message_id IS NULL',
        [userId],
      );
      return row?.n ?? 0;
    },

    /** Every attachment of the conversation's messages, in the order they were attached. */
    async ofConversation(userId: string, conversationId: string): Promise<AttachmentRow[]> {
      const rows = await db.all<AttachmentRow>(
        `SELECT ${columns} FROM attachments WHERE conversation_id = $1`,
        [conversationId],
      );
      return rows.filter((row) => row.user_id === userId).sort(attachedOrder);
    },

    /**
     * Sends's writes (chat/repo.ts insertTurns, in the turn's transaction): pending uploads
     * join their message, and copies of earlier attachments are inserted for it. By id alone:
     * the chat service owner-checked every id.
     */
    async attach(
      items: ReadonlyArray<{
        conversationId: string;
        messageId: string;
        claims: ReadonlyArray<{ id: string; position: number }>;
        copies: ReadonlyArray<{
          id: string;
          sourceId: string;
          position: number;
          createdAt: string;
        }>;
      }>,
    ): Promise<void> {
      const claims = items.flatMap((i) =>
        i.claims.map((c) => [c.id, i.conversationId, i.messageId, c.position] as const),
      );
      if (claims.length > 0) {
        const rows = keyedRows(['TEXT', 'TEXT', 'TEXT', 'INTEGER'], claims);
        await db.run(
          `UPDATE attachments
           SET conversation_id = ${rows.value(1, 'id')}, message_id = ${rows.value(2, 'id')},
               position = ${rows.value(3, 'id')}
           WHERE id IN (${rows.keys})`,
          rows.params,
        );
      }
      const copies = items.flatMap((i) =>
        i.copies.map(
          (c) =>
            [c.id, c.sourceId, i.conversationId, i.messageId, c.position, c.createdAt] as const,
        ),
      );
      if (copies.length > 0) {
        const rows = valuesList(['TEXT', 'TEXT', 'TEXT', 'TEXT', 'INTEGER', 'TIMESTAMPTZ'], copies);
        await db.run(
          `INSERT INTO attachments (id, user_id, conversation_id, message_id, position, name,
                                    media_type, kind, size_bytes, sha256, created_at)
           SELECT v.id, a.user_id, v.conversation_id, v.message_id, v.position, a.name,
                  a.media_type, a.kind, a.size_bytes, a.sha256, v.created_at
           FROM (VALUES ${rows.sql})
             AS v(id, source_id, conversation_id, message_id, position, created_at)
           JOIN attachments a ON a.id = v.source_id`,
          rows.params,
        );
      }
    },

    /** Deletes a pending upload of the user; false when there is none such. */
    async deletePending(userId: string, id: string): Promise<boolean> {
      const rows = await db.all<{ id: string }>(
        `DELETE FROM attachments WHERE id = $1 AND user_id = $2 AND message_id IS NULL RETURNING id`,
        [id, userId],
      );
      return rows.length > 0;
    },

    /** Deletes the attachments of a conversation (being deleted); returns their ids. */
    async deleteOfConversation(userId: string, conversationId: string): Promise<string[]> {
      const rows = await db.all<{ id: string }>(
        'DELETE FROM attachments WHERE conversation_id = $1 AND user_id = $2 RETURNING id',
        [conversationId, userId],
      );
      return rows.map((r) => r.id);
    },

    /** Deletes the attachments of some messages (being deleted); returns their ids. */
    async deleteOfMessages(userId: string, messageIds: readonly string[]): Promise<string[]> {
      if (messageIds.length === 0) return [];
      const ids = valuesList(
        ['TEXT'],
        messageIds.map((id) => [id]),
        2,
      );
      const rows = await db.all<{ id: string }>(
        `DELETE FROM attachments WHERE user_id = $1
           AND message_id IN (SELECT id FROM (VALUES ${ids.sql}) AS v(id))
         RETURNING id`,
        [userId, ...ids.params],
      );
      return rows.map((r) => r.id);
    },

    /** Every attachment's owner and id: what the sweep at start keeps on disk. */
    async allIds(): Promise<Array<{ id: string; user_id: string }>> {
      return db.all('SELECT id, user_id FROM attachments');
    },

    /**
     * Rows nothing will ever read: uploads never sent within `before`, and attachments whose
     * conversation is gone (a send that committed after its conversation was deleted).
     */
    async deleteAbandoned(before: string): Promise<Array<{ id: string; user_id: string }>> {
      return db.all(
        `DELETE FROM attachments
         WHERE (message_id IS NULL AND created_at < CAST($1 AS TIMESTAMPTZ))
            OR (conversation_id IS NOT NULL
                AND conversation_id NOT IN (SELECT id FROM conversations))
         RETURNING id, user_id`,
        [before],
      );
    },
  };
}

export type AttachmentsRepo = ReturnType<typeof createAttachmentsRepo>;
