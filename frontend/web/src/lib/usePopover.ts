import { useRef, useState } from 'react';
import { errorText } from './errors';
import { useDismiss } from './useDismiss';

/**
 * The state of a popover of the top bar (prompt, routing, presets): open or not, dismissed by a
 * press outside or Escape (useDismiss), its form reset each time it opens, and `run` for its
 * actions: busy while one runs, the API's error shown in the popover when it fails.
 */
export function usePopover(resetForm: () => void) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  useDismiss(open, setOpen, rootRef, openerRef);

  function toggle() {
    if (!open) {
      resetForm();
      setError(null);
    }
    setOpen(!open);
  }

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return {
    open,
    close: () => setOpen(false),
    toggle,
    busy,
    error,
    setError,
    run,
    rootRef,
    openerRef,
  };
}
