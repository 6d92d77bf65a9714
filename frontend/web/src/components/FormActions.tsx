/**
 * The end of a settings form: its error (if any), then Cancel and the submit button, which
 * reads "Saving…" and is disabled while the save runs.
 */
export function FormActions({
  error,
  errorTestId,
  saving,
  saveLabel = 'Save',
  saveTestId,
  onCancel,
}: {
  error: string | null;
  errorTestId: string;
  saving: boolean;
  saveLabel?: string;
  saveTestId: string;
  onCancel: () => void;
}) {
  return (
    <>
      {error && (
        <p className="form-error" role="alert" data-testid={errorTestId}>
          {error}
        </p>
      )}
      <div className="settings-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button primary" data-testid={saveTestId} disabled={saving}>
          {saving ? 'Saving…' : saveLabel}
        </button>
      </div>
    </>
  );
}
