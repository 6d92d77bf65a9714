import { memo, useLayoutEffect, useRef, type FormEvent, type KeyboardEvent } from 'react';
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
}

const MAX_HEIGHT = 240;

/** On touch screens, focusing on load would pop the keyboard over the conversation. */
const focusOnLoad =
  typeof window !== 'undefined' &&
  typeof window.matchMedia === 'function' &&
  !window.matchMedia('(pointer: coarse)').matches;

/** The message box: Enter sends, Shift+Enter adds a new line. */
export const Composer = memo(function Composer({
  value,
  onChange,
  onSubmit,
  onStop,
  streaming,
  stopping,
  sending,
}: ComposerProps) {
  const ref = useRef<HTMLTextAreaElement>(null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [value]);

  const canSend = value.trim() !== '' && !streaming && !sending;

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
    <form className="composer" onSubmit={submit}>
      <textarea
        ref={ref}
        data-testid="composer-input"
        className="composer-input"
        rows={1}
        placeholder="Message"
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
          aria-label="Send"
          title="Send (Enter)"
          disabled={!canSend}
        >
          <ArrowUpIcon />
        </button>
      )}
    </form>
  );
});
