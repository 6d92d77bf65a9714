import { memo, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import type { SearchHit, UpdateConversationBody, User } from '../api/types';
import { groupByDate } from '../lib/dateGroups';
import { ACCOUNT_PATH, ADMIN_PATH, USAGE_PATH, type Page } from '../lib/router';
import type { ConversationList } from '../state/conversations';
import type { Folders } from '../state/folders';
import { ConversationItem } from './ConversationItem';
import { FolderNav } from './FolderNav';
import { GhostIcon, PlusIcon, SearchIcon, SignOutIcon } from './icons';
import { SearchPanel } from './SearchPanel';

interface SidebarProps {
  list: ConversationList;
  folders: Folders;
  currentId: string | null;
  user: User;
  open: boolean;
  onSelect: (id: string) => void;
  onNew: () => void;
  /** Into the temporary chat (stored nowhere), or out of it to a new saved chat. */
  onTemporary: () => void;
  /** The temporary chat is open. */
  temporary: boolean;
  onUpdate: (id: string, changes: UpdateConversationBody) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
  /** Opens the conversation of a search result, at its message. */
  onOpenHit: (hit: SearchHit) => void;
  onSignOut: () => void;
  /** Opens /account or /admin (client-side). */
  onOpenPage: (path: string) => void;
  page: Page;
}

const EMPTY_TEXT = {
  all: 'No conversations yet.',
  archived: 'No archived conversations.',
  folder: 'No conversations in this folder.',
};

export const Sidebar = memo(function Sidebar({
  list,
  folders,
  currentId,
  user,
  open,
  onSelect,
  onNew,
  onTemporary,
  temporary,
  onUpdate,
  onDelete,
  onOpenHit,
  onSignOut,
  onOpenPage,
  page,
}: SidebarProps) {
  const sentinel = useRef<HTMLDivElement>(null);
  const [query, setQuery] = useState('');
  const { hasMore, loading, loadMore } = list;
  const searching = query.trim() !== '';
  // Grouped by the day of activity as of this render: the labels move on at midnight with the next one.
  const groups = useMemo(() => groupByDate(list.items, new Date()), [list.items]);

  // Infinite scroll: load the next page when the end of the list comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasMore || loading || searching || typeof IntersectionObserver === 'undefined')
      return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasMore, loading, loadMore, searching]);

  function goTo(event: MouseEvent<HTMLAnchorElement>, path: string) {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpenPage(path);
  }

  return (
    <aside className={`sidebar${open ? ' open' : ''}`} aria-label="Conversations">
      <div className="sidebar-top">
        <button type="button" className="new-chat" data-testid="new-chat" onClick={onNew}>
          <PlusIcon />
          <span>New chat</span>
        </button>
        <button
          type="button"
          className={`new-chat temporary-chat${temporary ? ' current' : ''}`}
          data-testid="temporary-chat"
          aria-pressed={temporary}
          title="A chat that is not saved: not in your conversations, search or exports"
          onClick={onTemporary}
        >
          <GhostIcon />
          <span>Temporary chat</span>
        </button>
        <label className="search-box">
          <SearchIcon width={16} height={16} />
          <input
            type="search"
            data-testid="search-input"
            aria-label="Search conversations"
            placeholder="Search"
            maxLength={200}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => e.key === 'Escape' && setQuery('')}
          />
        </label>
      </div>
      <nav className="conversation-list">
        {searching ? (
          <SearchPanel query={query} onOpen={onOpenHit} />
        ) : (
          <>
            <FolderNav view={list.view} folders={folders} onView={list.setView} />
            {list.items.length === 0 && !list.loading && !list.error && (
              <p className="sidebar-empty">{EMPTY_TEXT[list.view.kind]}</p>
            )}
            {groups.map((group) => (
              <section
                key={group.label}
                className="date-group"
                data-testid="date-group"
                data-group={group.label}
                aria-label={group.label}
              >
                <h2 className="date-group-label">{group.label}</h2>
                <ul>
                  {group.items.map((c) => (
                    <ConversationItem
                      key={c.id}
                      conversation={c}
                      current={c.id === currentId}
                      folders={folders.items}
                      onSelect={onSelect}
                      onUpdate={onUpdate}
                      onDelete={onDelete}
                    />
                  ))}
                </ul>
              </section>
            ))}
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
          </>
        )}
      </nav>
      <a
        href={USAGE_PATH}
        className={`sidebar-link${page === 'usage' ? ' current' : ''}`}
        data-testid="usage-link"
        aria-current={page === 'usage' ? 'page' : undefined}
        onClick={(e) => goTo(e, USAGE_PATH)}
      >
        Usage
      </a>
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
