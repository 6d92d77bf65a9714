import { useRef, useState } from 'react';
import { downloadExport, exportPaths, importFile } from '../api/transfer';
import type { ImportResult } from '../api/types';
import { errorText } from '../lib/errors';
import { conversationPath, navigate } from '../lib/router';

const FORMAT_NAMES: Record<ImportResult['format'], string> = {
  'ai-workspace': 'this app’s archive',
  chatgpt: 'a ChatGPT export',
  'open-webui': 'an Open WebUI export',
};

/** Shown at most, of the conversations an import made; the sidebar lists them all. */
const LISTED = 10;

export function megabytes(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${Math.ceil(bytes / 1024)} KB`
    : `${(bytes / 1048576).toFixed(1)} MB`;
}

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** Your data: export every conversation as one archive, import an archive or another app's export. */
export function DataTransferCard({ onImported }: { onImported: () => void }) {
  return (
    <section className="card" aria-labelledby="data-heading">
      <h2 id="data-heading">Export and import</h2>
      <ExportEverything />
      <ImportFile onImported={onImported} />
    </section>
  );
}

function ExportEverything() {
  const [progress, setProgress] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run() {
    setError(null);
    setDone(null);
    setProgress('Preparing…');
    try {
      const file = await downloadExport(exportPaths.everything, 'ai-workspace-export.json', (b) =>
        setProgress(`Downloading… ${megabytes(b)}`),
      );
      setDone(`Saved ${file.name} (${megabytes(file.bytes)}).`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setProgress(null);
    }
  }

  return (
    <div className="stack wide">
      <p className="page-lead">
        Every conversation, with every branch, model and answer figure, as one JSON file. Import it
        here or on another server.
      </p>
      <div className="transfer-row">
        <button
          type="button"
          className="button"
          disabled={progress !== null}
          data-testid="export-everything"
          onClick={() => void run()}
        >
          Export everything
        </button>
        {progress && (
          <span className="muted" role="status" data-testid="export-progress">
            {progress}
          </span>
        )}
      </div>
      {done && (
        <p className="form-ok" role="status" data-testid="export-done">
          {done}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function ImportFile({ onImported }: { onImported: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run() {
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress('Uploading… 0 %');
    try {
      const imported = await importFile(file, (sent, total) =>
        setProgress(
          sent < total
            ? `Uploading… ${Math.floor((sent / total) * 100)} %`
            : 'Importing conversations…',
        ),
      );
      setResult(imported);
      setFile(null);
      if (input.current) input.current.value = '';
      onImported();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setProgress(null);
    }
  }

  return (
    <div className="stack wide">
      <p className="page-lead">
        Import this app’s archive, a ChatGPT data export (<code>conversations.json</code>) or an
        Open WebUI chat export. Conversations are added with their branches; nothing is replaced.
      </p>
      <div className="transfer-row">
        <input
          ref={input}
          type="file"
          accept=".json,application/json"
          aria-label="Export file to import"
          data-testid="import-file"
          disabled={progress !== null}
          onChange={(e) => {
            setFile(e.target.files?.[0] ?? null);
            setResult(null);
            setError(null);
          }}
        />
        <button
          type="button"
          className="button primary"
          disabled={!file || progress !== null}
          data-testid="import-start"
          onClick={() => void run()}
        >
          Import
        </button>
      </div>
      {file && !progress && (
        <span className="muted small">
          {file.name}, {megabytes(file.size)}
        </span>
      )}
      {progress && (
        <span className="muted" role="status" data-testid="import-progress">
          {progress}
        </span>
      )}
      {error && (
        <p className="form-error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      {result && <ImportSummary result={result} />}
    </div>
  );
}

function ImportSummary({ result }: { result: ImportResult }) {
  const skipped = result.skipped.map((s) => `${s.count.toLocaleString('en')} × ${s.what}`);
  return (
    <div className="form-ok" role="status" data-testid="import-summary">
      <p>
        Imported {plural(result.importedConversations, 'conversation')} and{' '}
        {plural(result.importedMessages, 'message')} from {FORMAT_NAMES[result.format]}.
      </p>
      {skipped.length > 0 && <p data-testid="import-skipped">Left out: {skipped.join(', ')}.</p>}
      {result.conversations.length > 0 && (
        <ul className="import-list">
          {result.conversations.slice(0, LISTED).map((c) => (
            <li key={c.id}>
              <a
                href={conversationPath(c.id)}
                data-testid="imported-conversation"
                onClick={(e) => {
                  e.preventDefault();
                  navigate(conversationPath(c.id));
                }}
              >
                {c.title}
              </a>{' '}
              <span className="muted">({plural(c.messages, 'message')})</span>
            </li>
          ))}
          {result.conversations.length > LISTED && (
            <li className="muted">
              and {plural(result.conversations.length - LISTED, 'more')} in the sidebar
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
