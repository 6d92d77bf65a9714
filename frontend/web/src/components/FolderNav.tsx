import { useState, type FormEvent } from 'react';
import type { Folder } from '../api/types';
import { errorText } from '../lib/errors';
import type { Folders } from '../state/folders';
import type { ListView } from '../state/conversations';

interface FolderNavProps {
  view: ListView;
  folders: Folders;
  onView: (view: ListView) => void;
}

/** The list's views: all chats, the archived ones, and each folder (created, renamed, deleted here). */
export function FolderNav({ view, folders, onView }: FolderNavProps) {
  /** The folder being renamed, or 'new' while one is created. */
  const [editing, setEditing] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      setEditing(null);
      setConfirming(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = name.trim();
    if (value === '') return;
    if (editing === 'new') {
      void run(async () => {
        const folder = await folders.create(value);
        onView({ kind: 'folder', folderId: folder.id });
      });
    } else if (editing !== null) {
      const id = editing;
      void run(() => folders.rename(id, value));
    }
  }

  function remove(folder: Folder) {
    void run(async () => {
      await folders.remove(folder.id);
      if (view.kind === 'folder' && view.folderId === folder.id) onView({ kind: 'all' });
    });
  }

  const form = (
    <form className="rename-form" onSubmit={submit}>
      <input
        data-testid="folder-name-input"
        aria-label="Folder name"
        placeholder="Folder name"
        value={name}
        maxLength={100}
        autoFocus
        disabled={busy}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
      />
      <button type="submit" className="button small" data-testid="folder-save" disabled={busy}>
        Save
      </button>
    </form>
  );

  return (
    <div className="folder-nav">
      <div className="view-tabs" role="tablist" aria-label="Which conversations">
        <button
          type="button"
          role="tab"
          data-testid="view-all"
          aria-selected={view.kind === 'all'}
          onClick={() => onView({ kind: 'all' })}
        >
          Chats
        </button>
        <button
          type="button"
          role="tab"
          data-testid="view-archived"
          aria-selected={view.kind === 'archived'}
          onClick={() => onView({ kind: 'archived' })}
        >
          Archived
        </button>
      </div>
      <div className="folders-head">
        <span>Folders</span>
        <button
          type="button"
          className="button small ghost"
          data-testid="new-folder"
          onClick={() => {
            setName('');
            setEditing('new');
          }}
        >
          New folder
        </button>
      </div>
      {editing === 'new' && form}
      <ul className="folder-list">
        {folders.items.map((f) => {
          const current = view.kind === 'folder' && view.folderId === f.id;
          return (
            <li
              key={f.id}
              className={`folder-item${current ? ' current' : ''}`}
              data-testid="folder-item"
              data-folder-id={f.id}
            >
              {editing === f.id ? (
                form
              ) : confirming === f.id ? (
                <div className="confirm-delete">
                  <span>Delete “{f.name}”? Its chats stay.</span>
                  <button
                    type="button"
                    className="button danger small"
                    data-testid="confirm-delete-folder"
                    disabled={busy}
                    onClick={() => remove(f)}
                  >
                    Delete
                  </button>
                  <button
                    type="button"
                    className="button small"
                    onClick={() => setConfirming(null)}
                  >
                    Cancel
                  </button>
                </div>
              ) : (
                <>
                  <button
                    type="button"
                    className="folder-link"
                    data-testid="open-folder"
                    aria-pressed={current}
                    onClick={() => onView({ kind: 'folder', folderId: f.id })}
                  >
                    {f.name}
                  </button>
                  {current && (
                    <>
                      <button
                        type="button"
                        className="button small ghost"
                        data-testid="rename-folder"
                        onClick={() => {
                          setName(f.name);
                          setEditing(f.id);
                        }}
                      >
                        Rename
                      </button>
                      <button
                        type="button"
                        className="button small ghost"
                        data-testid="delete-folder"
                        onClick={() => setConfirming(f.id)}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </>
              )}
            </li>
          );
        })}
      </ul>
      {(error ?? folders.error) && (
        <p className="sidebar-error" role="alert">
          {error ?? folders.error}
        </p>
      )}
    </div>
  );
}
