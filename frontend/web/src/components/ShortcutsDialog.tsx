import { useEffect, useRef } from 'react';
import { modName, SHORTCUTS } from '../lib/shortcuts';

/** The keyboard shortcuts, in a small modal dialog (Mod+/). Escape or a click outside closes it. */
export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const mod = modName();

  useEffect(() => {
    const previous = document.activeElement;
    closeRef.current?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        onClose();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => {
      window.removeEventListener('keydown', onKey, true);
      if (previous instanceof HTMLElement) previous.focus();
    };
  }, [onClose]);

  return (
    <div className="dialog-scrim" onClick={onClose}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shortcuts-title"
        data-testid="shortcuts-dialog"
        onClick={(e) => e.stopPropagation()}
      >
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <dl className="shortcut-list">
          <dt>
            <kbd>Enter</kbd>
          </dt>
          <dd>Send (queue it while an answer is written)</dd>
          <dt>
            <kbd>Shift+Enter</kbd>
          </dt>
          <dd>New line</dd>
          {SHORTCUTS.map((s) => (
            <ShortcutRow key={s.action} keys={s.keys.replaceAll('Mod', mod)} label={s.label} />
          ))}
        </dl>
        <button
          type="button"
          className="button small"
          ref={closeRef}
          data-testid="shortcuts-close"
          onClick={onClose}
        >
          Close
        </button>
      </div>
    </div>
  );
}

function ShortcutRow({ keys, label }: { keys: string; label: string }) {
  return (
    <>
      <dt>
        {keys.split(' or ').map((k, i) => (
          <span key={k}>
            {i > 0 && ' or '}
            <kbd>{k}</kbd>
          </span>
        ))}
      </dt>
      <dd>{label}</dd>
    </>
  );
}
