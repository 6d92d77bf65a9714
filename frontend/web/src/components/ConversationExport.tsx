import { memo, useState } from 'react';
import { downloadExport, exportPaths } from '../api/transfer';
import { errorText } from '../lib/errors';

/** The conversation's export buttons in the top bar: Markdown to read, JSON to import again. */
export const ConversationExport = memo(function ConversationExport({
  conversationId,
}: {
  conversationId: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(format: 'markdown' | 'json') {
    setBusy(true);
    setError(null);
    try {
      await downloadExport(
        exportPaths.conversation(conversationId, format),
        format === 'markdown' ? 'conversation.md' : 'conversation.json',
      );
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="export-buttons" role="group" aria-label="Export this conversation">
      <span className="muted small">Export</span>
      <button
        type="button"
        className="button small"
        disabled={busy}
        title="Download this conversation, every branch, as Markdown"
        data-testid="export-markdown"
        onClick={() => void run('markdown')}
      >
        Markdown
      </button>
      <button
        type="button"
        className="button small"
        disabled={busy}
        title="Download this conversation, every branch, as JSON (importable)"
        data-testid="export-json"
        onClick={() => void run('json')}
      >
        JSON
      </button>
      {error && (
        <span className="form-error small" role="alert">
          {error}
        </span>
      )}
    </div>
  );
});
