import { useRef, useState } from 'react';
import { errorText } from './errors';
import { useDismiss } from './useDismiss';

/**
 * The state of a settings popover of the top bar (prompt, routing): open or not, dismissed by a
 * press outside or Escape (useDismiss), the form reset from the saved value each time it opens,
 * and a save that closes it on success or shows the API's error in the form.
 */
export function usePopoverForm(resetForm: () => void) {
  const [open, setOpen] = useState(false);
  const [saving, setSaving] = useState(false);
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

  async function save(work: () => Promise<void>) {
    setSaving(true);
    setError(null);
    try {
      await work();
      setOpen(false);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setSaving(false);
    }
  }

  return {
    open,
    close: () => setOpen(false),
    toggle,
    saving,
    error,
    setError,
    save,
    rootRef,
    openerRef,
  };
}
