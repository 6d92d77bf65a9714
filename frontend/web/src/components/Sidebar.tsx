import { memo, useEffect, useRef, useState, type MouseEvent } from 'react';
import { errorText } from '../lib/errors';
import type { User } from '../api/types';
import { ACCOUNT_PATH, ADMIN_PATH, conversationPath } from '../lib/router';
import type { ConversationList } from '../state/conversations';
import { PlusIcon, SignOutIcon, TrashIcon } from './icons';

interface SidebarProps {
  list: ConversationList;
  currentId: string | null;
  user: User;
  open: boolean;
  onSelect: (id: string) => void;
  onNew: () => void;
  onDelete: (id: string) => Promise<void>;
  onSignOut: () => void;
  /** Opens /account or /admin (client-side). */
  onOpenPage: (path: string) => void;
  page: 'chat' | 'account' | 'admin';
}

export const Sidebar = memo(function Sidebar({
  list,
  currentId,
  user,
  open,
  onSelect,
  onNew,
  onDelete,
  onSignOut,
  onOpenPage,
  page,
}: SidebarProps) {
  const sentinel = useRef<HTMLDivElement>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const { hasMore, loading, loadMore } = list;

  // Infinite scroll: load the next page when the end of the list comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasMore || loading || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasMore, loading, loadMore]);

  function goTo(event: MouseEvent<HTMLAnchorElement>, path: string) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpenPage(path);
  }

  function select(event: MouseEvent<HTMLAnchorElement>, id: string) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onSelect(id);
  }

  async function remove(id: string) {
    setDeleting(id);
    setDeleteError(null);
    try {
      await onDelete(id);
    } catch (err) {
      setDeleteError(errorText(err));
    } finally {
      setDeleting(null);
      setConfirming(null);
    }
  }

  return (
    <aside className={`sidebar${open ? ' open' : ''}`} aria-label="Conversations">
      <div className="sidebar-top">
        <button type="button" className="new-chat" data-testid="new-chat" onClick={onNew}>
          <PlusIcon />
          <span>New chat</span>
        </button>
      </div>
      <nav className="conversation-list">
        {list.items.length === 0 && !list.loading && !list.error && (
          <p className="sidebar-empty">No conversations yet.</p>
        )}
        <ul>
          {list.items.map((c) => (
            <li
              key={c.id}
              className={`conversation-item${c.id === currentId ? ' current' : ''}`}
              data-testid="conversation-item"
              data-conversation-id={c.id}
            >
              {confirming === c.id ? (
                <div className="confirm-delete">
                  <span>Delete this chat?</span>
                  <button
                    type="button"
                    className="button danger small"
                    data-testid="confirm-delete"
                    disabled={deleting === c.id}
                    onClick={() => void remove(c.id)}
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
                  <a
                    href={conversationPath(c.id)}
                    className="conversation-link"
                    aria-current={c.id === currentId ? 'page' : undefined}
                    onClick={(e) => select(e, c.id)}
                  >
                    {c.title.trim() === '' ? 'New chat' : c.title}
                  </a>
                  <button
                    type="button"
                    className="icon-button delete"
                    data-testid="delete-conversation"
                    aria-label={`Delete “${c.title}”`}
                    title="Delete"
                    onClick={() => setConfirming(c.id)}
                  >
                    <TrashIcon width={16} height={16} />
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
        {deleteError && (
          <p className="sidebar-error" role="alert">
            {deleteError}
          </p>
        )}
        {list.error && (
          <p className="sidebar-error" role="alert">
            {list.error}
          </p>
        )}
        {list.hasMore && (
          <div ref={sentinel} className="load-more">
            <button
              type="button"
              className="button small ghost"
              data-testid="load-more"
              disabled={list.loading}
              onClick={list.loadMore}
            >
              {list.loading ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </nav>
      {user.role === 'admin' && (
        <a
          href={ADMIN_PATH}
          className={`sidebar-link${page === 'admin' ? ' current' : ''}`}
          data-testid="admin-link"
          aria-current={page === 'admin' ? 'page' : undefined}
          onClick={(e) => goTo(e, ADMIN_PATH)}
        >
          Administration
        </a>
      )}
      <div className="sidebar-bottom">
        <a
          href={ACCOUNT_PATH}
          className={`user-name${page === 'account' ? ' current' : ''}`}
          title={`${user.username}: account and sessions`}
          data-testid="account-link"
          aria-current={page === 'account' ? 'page' : undefined}
          onClick={(e) => goTo(e, ACCOUNT_PATH)}
        >
          <span className="avatar" aria-hidden="true">
            {user.username.slice(0, 1).toUpperCase()}
          </span>
          {user.username}
        </a>
        <button
          type="button"
          className="icon-button"
          data-testid="sign-out"
          aria-label="Sign out"
          title="Sign out"
          onClick={onSignOut}
        >
          <SignOutIcon />
        </button>
      </div>
    </aside>
  );
});
