import { useCallback, useEffect, useRef, useState } from 'react';
import { api, uploadAttachment } from '../api/client';
import type { Attachment, AttachmentLimits } from '../api/types';
import { errorText } from '../lib/errors';
import { fileSize } from '../lib/format';

/** A file in the message box: uploading, uploaded (sent with the next message), or refused. */
export interface DraftAttachment {
  localId: string;
  name: string;
  size: number;
  /** The browser's guess from the name: only to choose a preview, never trusted by the server. */
  looksLikeImage: boolean;
  /** A blob: URL of the local file, for an image's preview; revoked when it leaves the box. */
  preview: string | null;
  status: 'uploading' | 'ready' | 'failed';
  /** Upload progress, 0 to 1. */
  progress: number;
  error: string | null;
  /** The server's attachment, once uploaded. */
  attachment: Attachment | null;
}

/** Until the server's limits are known (and if they cannot be read). */
const FALLBACK_LIMITS: Pick<AttachmentLimits, 'maxBytes' | 'perMessage'> = {
  maxBytes: 10 * 1024 * 1024,
  perMessage: 10,
};

let counter = 0;

/** A pasted image has no useful name ("image.png" at best): one with the time is given. */
function nameOf(file: File): string {
  if (file.name && file.name !== 'image.png') return file.name;
  const type = file.type.startsWith('image/') ? file.type.slice('image/'.length) : 'png';
  const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-');
  return `pasted-${stamp}.${type === 'jpeg' ? 'jpg' : type}`;
}

/**
 * The files in each conversation's message box (by the same key as its draft): added from
 * the attach button, a paste or a drop, uploaded at once with progress, removable.
 */
export function useAttachmentDrafts() {
  const [drafts, setDrafts] = useState<Record<string, DraftAttachment[]>>({});
  const [limits, setLimits] = useState(FALLBACK_LIMITS);
  const uploads = useRef(new Map<string, AbortController>());

  useEffect(() => {
    api.attachmentLimits().then(setLimits, () => undefined);
  }, []);

  // Leaving the workspace cancels running uploads and frees the previews.
  useEffect(() => {
    const running = uploads.current;
    return () => {
      for (const controller of running.values()) controller.abort();
      running.clear();
    };
  }, []);

  const change = useCallback(
    (key: string, localId: string, fn: (d: DraftAttachment) => DraftAttachment) =>
      setDrafts((prev) => ({
        ...prev,
        [key]: (prev[key] ?? []).map((d) => (d.localId === localId ? fn(d) : d)),
      })),
    [],
  );

  const add = useCallback(
    (key: string, files: readonly File[], current: readonly DraftAttachment[]) => {
      let count = current.filter((d) => d.status !== 'failed').length;
      const added: DraftAttachment[] = [];
      for (const file of files) {
        const name = nameOf(file);
        const looksLikeImage = file.type.startsWith('image/') && file.type !== 'image/svg+xml';
        const draft: DraftAttachment = {
          localId: `attachment-${++counter}`,
          name,
          size: file.size,
          looksLikeImage,
          preview: looksLikeImage ? URL.createObjectURL(file) : null,
          status: 'uploading',
          progress: 0,
          error: null,
          attachment: null,
        };
        // Checked here first, so a file that cannot be sent is not uploaded at all.
        if (file.size > limits.maxBytes) {
          draft.status = 'failed';
          draft.error = `${name} is larger than ${fileSize(limits.maxBytes)}, the most one attachment may be.`;
        } else if (count >= limits.perMessage) {
          draft.status = 'failed';
          draft.error = `A message can carry at most ${limits.perMessage} attachments.`;
        } else {
          count += 1;
        }
        added.push(draft);
        if (draft.status === 'failed') continue;
        const controller = new AbortController();
        uploads.current.set(draft.localId, controller);
        uploadAttachment(
          file,
          name,
          (progress) => change(key, draft.localId, (d) => ({ ...d, progress })),
          controller.signal,
        )
          .then(
            (attachment) =>
              change(key, draft.localId, (d) => ({
                ...d,
                status: 'ready',
                progress: 1,
                attachment,
              })),
            (err: unknown) => {
              if (err instanceof DOMException && err.name === 'AbortError') return;
              change(key, draft.localId, (d) => ({
                ...d,
                status: 'failed',
                error: errorText(err),
              }));
            },
          )
          .finally(() => uploads.current.delete(draft.localId));
      }
      setDrafts((prev) => ({ ...prev, [key]: [...(prev[key] ?? []), ...added] }));
    },
    [change, limits],
  );

  /** Takes a file out of the box: its upload is cancelled, or its pending upload deleted. */
  const remove = useCallback((key: string, draft: DraftAttachment) => {
    uploads.current.get(draft.localId)?.abort();
    if (draft.preview) URL.revokeObjectURL(draft.preview);
    if (draft.attachment) api.deleteAttachment(draft.attachment.id).catch(() => undefined);
    setDrafts((prev) => ({
      ...prev,
      [key]: (prev[key] ?? []).filter((d) => d.localId !== draft.localId),
    }));
  }, []);

  /** The message carrying them was accepted: the box is emptied (the files now belong to it). */
  const sent = useCallback((key: string, ids: readonly string[]) => {
    setDrafts((prev) => {
      const left = (prev[key] ?? []).filter((d) => {
        const gone = d.attachment !== null && ids.includes(d.attachment.id);
        if (gone && d.preview) URL.revokeObjectURL(d.preview);
        return !gone;
      });
      return { ...prev, [key]: left };
    });
  }, []);

  /** Files of a new chat move to the conversation it became. */
  const move = useCallback((from: string, to: string) => {
    setDrafts((prev) => {
      const moving = prev[from];
      if (!moving || moving.length === 0) return prev;
      return { ...prev, [from]: [], [to]: [...(prev[to] ?? []), ...moving] };
    });
  }, []);

  return { drafts, limits, add, remove, sent, move };
}
