import {
  memo,
  useLayoutEffect,
  useRef,
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import { fileSize } from '../lib/format';
import type { DraftAttachment } from '../state/attachments';
import { ArrowUpIcon, CloseIcon, ColumnsIcon, FileIcon, PaperclipIcon, StopIcon } from './icons';

interface ComposerProps {
  value: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
  onStop: () => void;
  /** An answer is streaming in this conversation: show Stop instead of Send. */
  streaming: boolean;
  stopping: boolean;
  /** A message is being sent (not yet accepted). */
  sending: boolean;
  /** A message typed while the answer streams, sent when it ends. */
  queued: string | null;
  onEditQueued: () => void;
  onCancelQueued: () => void;
  inputRef?: RefObject<HTMLTextAreaElement | null>;
  /** Files in the box: sent with the message by id once uploaded. */
  attachments?: readonly DraftAttachment[];
  /** Files chosen with the attach button or pasted. */
  onAttach?: (files: File[]) => void;
  onRemoveAttachment?: (attachment: DraftAttachment) => void;
  /** Why the files cannot be sent as they are (e.g. the model takes no images); blocks sending. */
  attachmentWarning?: string | null;
  /** Compare mode is on: the question goes to several models at once. */
  comparing?: boolean;
  onToggleCompare?: () => void;
  /** Why the question cannot be sent now (e.g. the comparison's models are not picked yet). */
  blocked?: string | null;
}

/** What the file picker offers (the server decides from the bytes; this only filters the list). */
const ACCEPT =
  'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/*,.md,.markdown,.csv,.tsv,.json,.jsonl,.yaml,.yml,.toml,.xml,.html,.css,.js,.mjs,.ts,.tsx,.jsx,.py,.rb,.go,.rs,.java,.kt,.c,.h,.cpp,.hpp,.cs,.php,.sh,.sql,.log,.tex,.ini,.cfg,.conf,.txt';

const NO_ATTACHMENTS: readonly DraftAttachment[] = [];

const MAX_HEIGHT = 240;

/** On touch screens, focusing on load would pop the keyboard over the conversation. */
const focusOnLoad =
  typeof window !== 'undefined' &&
  typeof window.matchMedia === 'function' &&
  !window.matchMedia('(pointer: coarse)').matches;

/**
 * The message box: Enter sends, Shift+Enter adds a new line. While an answer streams, Enter
 * queues the message instead: it is shown above the box (to edit or cancel) and sent when the
 * answer ends.
 */
export const Composer = memo(function Composer({
  value,
  onChange,
  onSubmit,
  onStop,
  streaming,
  stopping,
  sending,
  queued,
  onEditQueued,
  onCancelQueued,
  inputRef,
  attachments = NO_ATTACHMENTS,
  onAttach,
  onRemoveAttachment,
  attachmentWarning = null,
  comparing = false,
  onToggleCompare,
  blocked = null,
}: ComposerProps) {
  const ownRef = useRef<HTMLTextAreaElement>(null);
  const ref = inputRef ?? ownRef;
  const fileInput = useRef<HTMLInputElement>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [value, ref]);

  const uploading = attachments.some((a) => a.status === 'uploading');
  const ready = attachments.some((a) => a.status === 'ready');
  const canSend =
    (value.trim() !== '' || ready) &&
    !sending &&
    !uploading &&
    attachmentWarning === null &&
    blocked === null;

  /** A pasted image (a screenshot) or file is attached; pasted text goes in as text. */
  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0 || !onAttach) return;
    event.preventDefault();
    onAttach(files);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    if (canSend) onSubmit();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (canSend) onSubmit();
  }

  return (
    <>
      {queued !== null && (
        <div className="queued" data-testid="queued-message" role="status">
          <div className="queued-main">
            <span className="queued-label">Queued: sent when the answer ends</span>
            <span className="queued-text" data-testid="queued-text">
              {queued}
            </span>
          </div>
          <button
            type="button"
            className="button small"
            data-testid="queued-edit"
            onClick={onEditQueued}
          >
            Edit
          </button>
          <button
            type="button"
            className="button small ghost"
            data-testid="queued-cancel"
            onClick={onCancelQueued}
          >
            Cancel
          </button>
        </div>
      )}
      {attachments.length > 0 && (
        <ul className="attachment-tray" data-testid="attachment-tray" aria-label="Attached files">
          {attachments.map((a) => (
            <li
              key={a.localId}
              className={`attachment-chip ${a.status}`}
              data-testid="attachment-chip"
              data-status={a.status}
            >
              {a.preview ? (
                <img className="attachment-preview" src={a.preview} alt="" />
              ) : (
                <FileIcon className="attachment-icon" />
              )}
              <span className="attachment-text">
                <span className="attachment-name" title={a.name}>
                  {a.name}
                </span>
                <span className="attachment-size">
                  {a.status === 'uploading'
                    ? `Uploading… ${Math.round(a.progress * 100)} %`
                    : fileSize(a.size)}
                </span>
                {a.status === 'uploading' && (
                  <progress
                    className="attachment-progress"
                    value={a.progress}
                    max={1}
                    aria-label={`Uploading ${a.name}`}
                  />
                )}
                {a.error && (
                  <span className="attachment-error" role="alert" data-testid="attachment-error">
                    {a.error}
                  </span>
                )}
              </span>
              <button
                type="button"
                className="icon-button attachment-remove"
                aria-label={`Remove ${a.name}`}
                title="Remove"
                onClick={() => onRemoveAttachment?.(a)}
              >
                <CloseIcon width={14} height={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {attachmentWarning && (
        <p className="attachment-warning" role="alert" data-testid="attachment-warning">
          {attachmentWarning}
        </p>
      )}
      <form className={comparing ? 'composer comparing' : 'composer'} onSubmit={submit}>
        {onAttach && (
          <>
            <button
              type="button"
              className="composer-button attach"
              data-testid="attach-button"
              aria-label="Attach files"
              title="Attach images, PDFs or text files (or paste, or drop them here)"
              onClick={() => fileInput.current?.click()}
            >
              <PaperclipIcon />
            </button>
            <input
              ref={fileInput}
              type="file"
              multiple
              hidden
              accept={ACCEPT}
              data-testid="attach-input"
              onChange={(e) => {
                const files = Array.from(e.target.files ?? []);
                // Cleared, so that choosing the same file again is a change too.
                e.target.value = '';
                if (files.length > 0) onAttach(files);
              }}
            />
          </>
        )}
        {onToggleCompare && (
          <button
            type="button"
            className={`composer-tool${comparing ? ' on' : ''}`}
            data-testid="compare-toggle"
            aria-pressed={comparing}
            aria-label="Compare models"
            title="Compare: send the question to 2 to 4 models at once"
            onClick={onToggleCompare}
          >
            <ColumnsIcon width={18} height={18} />
          </button>
        )}
        <textarea
          ref={ref}
          data-testid="composer-input"
          className="composer-input"
          rows={1}
          placeholder={
            streaming
              ? comparing
                ? 'The answers are being written'
                : 'Type the next message (sent when the answer ends)'
              : comparing
                ? 'Ask all the models at once'
                : 'Message'
          }
          aria-label="Message"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          autoFocus={focusOnLoad}
        />
        {streaming ? (
          <button
            type="button"
            className="composer-button stop"
            data-testid="stop-button"
            aria-label="Stop the answer"
            title="Stop"
            disabled={stopping}
            onClick={onStop}
          >
            <StopIcon />
          </button>
        ) : (
          <button
            type="submit"
            className="composer-button"
            data-testid="send-button"
            aria-label={sending ? 'Sending' : comparing ? 'Send to every model' : 'Send'}
            aria-busy={sending}
            title={blocked ?? 'Send (Enter)'}
            disabled={!canSend}
          >
            {sending ? <span className="spinner" aria-hidden="true" /> : <ArrowUpIcon />}
          </button>
        )}
      </form>
    </>
  );
});
