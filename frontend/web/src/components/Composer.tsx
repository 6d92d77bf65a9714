import {
  memo,
  useLayoutEffect,
  useRef,
  type FormEvent,
  type KeyboardEvent,
  type RefObject,
} from 'react';
import { ArrowUpIcon, StopIcon } from './icons';

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
}

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
}: ComposerProps) {
  const ownRef = useRef<HTMLTextAreaElement>(null);
  const ref = inputRef ?? ownRef;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [value, ref]);

  const canSend = value.trim() !== '' && !sending;

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
      <form className="composer" onSubmit={submit}>
        <textarea
          ref={ref}
          data-testid="composer-input"
          className="composer-input"
          rows={1}
          placeholder={streaming ? 'Type the next message (sent when the answer ends)' : 'Message'}
          aria-label="Message"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
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
            aria-label={sending ? 'Sending' : 'Send'}
            aria-busy={sending}
            title="Send (Enter)"
            disabled={!canSend}
          >
            {sending ? <span className="spinner" aria-hidden="true" /> : <ArrowUpIcon />}
          </button>
        )}
      </form>
    </>
  );
});
