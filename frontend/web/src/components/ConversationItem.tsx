import { memo, useState, type FormEvent, type MouseEvent } from 'react';
import type { Conversation, Folder, UpdateConversationBody } from '../api/types';
import { errorText } from '../lib/errors';
import { conversationPath } from '../lib/router';
import { MoreIcon } from './icons';

interface ConversationItemProps {
  conversation: Conversation;
  current: boolean;
  folders: Folder[];
  onSelect: (id: string) => void;
  onUpdate: (id: string, changes: UpdateConversationBody) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
}

type Mode = 'idle' | 'menu' | 'rename' | 'confirm-delete';

/** One conversation of the sidebar: its link, and a menu to rename, pin, archive, file or delete it. */
export const ConversationItem = memo(function ConversationItem({
  conversation: c,
  current,
  folders,
  onSelect,
  onUpdate,
  onDelete,
}: ConversationItemProps) {
  const [mode, setMode] = useState<Mode>('idle');
  const [name, setName] = useState(c.title);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function select(event: MouseEvent<HTMLAnchorElement>) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onSelect(c.id);
  }

  async function run(work: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      setMode('idle');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  function rename(event: FormEvent) {
    event.preventDefault();
    const title = name.trim();
    if (title === '' || title === c.title) {
      setMode('idle');
      return;
    }
    void run(() => onUpdate(c.id, { title }));
  }

  const title = c.title.trim() === '' ? 'New chat' : c.title;

  return (
    <li
      className={`conversation-item${current ? ' current' : ''}${mode === 'menu' ? ' menu-open' : ''}`}
      data-testid="conversation-item"
      data-conversation-id={c.id}
      data-pinned={c.pinned}
    >
      {mode === 'rename' ? (
        <form className="rename-form" onSubmit={rename}>
          <input
            data-testid="rename-input"
            aria-label="New title"
            value={name}
            maxLength={200}
            autoFocus
            disabled={busy}
            onChange={(e) => setName(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setMode('idle')}
          />
          <button type="submit" className="button small" data-testid="rename-save" disabled={busy}>
            Save
          </button>
        </form>
      ) : mode === 'confirm-delete' ? (
        <div className="confirm-delete">
          <span>Delete this chat?</span>
          <button
            type="button"
            className="button danger small"
            data-testid="confirm-delete"
            disabled={busy}
            onClick={() => void run(() => onDelete(c.id))}
          >
            Delete
          </button>
          <button type="button" className="button small" onClick={() => setMode('idle')}>
            Cancel
          </button>
        </div>
      ) : (
        <>
          <a
            href={conversationPath(c.id)}
            className="conversation-link"
            aria-current={current ? 'page' : undefined}
            title={title}
            onClick={select}
          >
            {title}
          </a>
          <button
            type="button"
            className="icon-button more"
            data-testid="conversation-menu"
            aria-label={`Actions for “${title}”`}
            aria-expanded={mode === 'menu'}
            title="More"
            onClick={() => setMode(mode === 'menu' ? 'idle' : 'menu')}
          >
            <MoreIcon width={16} height={16} />
          </button>
        </>
      )}
      {mode === 'menu' && (
        <div className="item-menu" role="menu" aria-label={`Actions for “${title}”`}>
          <button
            type="button"
            role="menuitem"
            data-testid="rename-conversation"
            onClick={() => {
              setName(c.title);
              setMode('rename');
            }}
          >
            Rename
          </button>
          <button
            type="button"
            role="menuitem"
            data-testid="pin-conversation"
            disabled={busy}
            onClick={() => void run(() => onUpdate(c.id, { pinned: !c.pinned }))}
          >
            {c.pinned ? 'Unpin' : 'Pin'}
          </button>
          <button
            type="button"
            role="menuitem"
            data-testid="archive-conversation"
            disabled={busy}
            onClick={() => void run(() => onUpdate(c.id, { archived: !c.archived }))}
          >
            {c.archived ? 'Unarchive' : 'Archive'}
          </button>
          <label className="menu-select">
            <span>Folder</span>
            <select
              data-testid="move-conversation"
              value={c.folderId ?? ''}
              disabled={busy}
              onChange={(e) =>
                void run(() =>
                  onUpdate(c.id, { folderId: e.target.value === '' ? null : e.target.value }),
                )
              }
            >
              <option value="">No folder</option>
              {folders.map((f) => (
                <option key={f.id} value={f.id}>
                  {f.name}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            role="menuitem"
            className="danger"
            data-testid="delete-conversation"
            onClick={() => setMode('confirm-delete')}
          >
            Delete
          </button>
        </div>
      )}
      {error && (
        <p className="sidebar-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
});
