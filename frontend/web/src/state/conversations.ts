import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Conversation, ConversationPage } from '../api/types';
import { errorText } from '../lib/errors';

/** Which conversations the sidebar lists: the main list, the archived ones, or one folder's. */
export type ListView =
  { kind: 'all' } | { kind: 'archived' } | { kind: 'folder'; folderId: string };

export const ALL: ListView = { kind: 'all' };

export interface ConversationList {
  view: ListView;
  setView: (view: ListView) => void;
  items: Conversation[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
  /** Adds or updates a conversation, in its place (pinned first, then by activity time); drops it when it left the view. */
  upsert: (conversation: Conversation) => void;
  remove: (id: string) => void;
  /** Reads the list again from its first page (after an import added many at once). */
  reload: () => void;
}

/** The backend's order: pinned first, then newest activity, then id. */
export function listOrder(a: Conversation, b: Conversation): number {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
  const byTime = Date.parse(b.updatedAt) - Date.parse(a.updatedAt);
  if (byTime !== 0) return byTime;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Whether a conversation belongs in the view. */
export function inView(view: ListView, c: Conversation): boolean {
  if (view.kind === 'archived') return c.archived;
  if (c.archived) return false;
  return view.kind === 'all' || c.folderId === view.folderId;
}

function query(view: ListView): { archived?: boolean; folderId?: string } {
  if (view.kind === 'archived') return { archived: true };
  if (view.kind === 'folder') return { folderId: view.folderId };
  return {};
}

/** The sidebar's conversations in one view, paged by the backend's keyset cursor. */
export function useConversationList(pageSize = 30): ConversationList {
  const [view, setViewState] = useState<ListView>(ALL);
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  /** Bumped by `reload`: the first page is read again. */
  const [reloads, setReloads] = useState(0);
  const inFlight = useRef(true);
  /** Bumped on each view change: a page of the previous view is dropped. */
  const generation = useRef(0);
  const viewRef = useRef(view);

  const applyPage = useCallback((page: ConversationPage) => {
    setItems((prev) => {
      // What was upserted before the page came (the open conversation, read at the same
      // time) takes its place in the list's order.
      const known = new Set(prev.map((c) => c.id));
      return [...prev, ...page.conversations.filter((c) => !known.has(c.id))].sort(listOrder);
    });
    setCursor(page.nextCursor);
    setHasMore(page.nextCursor !== null);
    setError(null);
  }, []);

  const finish = useCallback((err?: unknown) => {
    if (err !== undefined) setError(errorText(err));
    inFlight.current = false;
    setLoading(false);
  }, []);

  useEffect(() => {
    let live = true;
    inFlight.current = true;
    const mine = generation.current;
    api.listConversations(null, pageSize, query(view)).then(
      (page) => {
        if (!live || mine !== generation.current) return;
        applyPage(page);
        finish();
      },
      (err: unknown) => {
        if (live && mine === generation.current) finish(err);
      },
    );
    return () => {
      live = false;
    };
  }, [applyPage, finish, pageSize, view, reloads]);

  /** Drops what is listed; the effect above reads the first page again. */
  const startOver = useCallback(() => {
    generation.current += 1;
    setItems([]);
    setCursor(null);
    setHasMore(true);
    setLoading(true);
    setError(null);
  }, []);

  const setView = useCallback(
    (next: ListView) => {
      const current = viewRef.current;
      if (JSON.stringify(current) === JSON.stringify(next)) return;
      viewRef.current = next;
      startOver();
      setViewState(next);
    },
    [startOver],
  );

  const reload = useCallback(() => {
    startOver();
    setReloads((n) => n + 1);
  }, [startOver]);

  const loadMore = useCallback(() => {
    if (!hasMore || inFlight.current) return;
    inFlight.current = true;
    setLoading(true);
    const mine = generation.current;
    api.listConversations(cursor, pageSize, query(viewRef.current)).then(
      (page) => {
        if (mine !== generation.current) return;
        applyPage(page);
        finish();
      },
      (err: unknown) => {
        if (mine === generation.current) finish(err);
      },
    );
  }, [applyPage, cursor, finish, hasMore, pageSize]);

  const hasMoreRef = useRef(hasMore);
  useEffect(() => {
    hasMoreRef.current = hasMore;
  }, [hasMore]);

  const upsert = useCallback((conversation: Conversation) => {
    setItems((prev) => {
      const rest = prev.filter((c) => c.id !== conversation.id);
      if (!inView(viewRef.current, conversation)) return rest.length === prev.length ? prev : rest;
      // Past the loaded pages it belongs to a later page: not shown until that page comes.
      const last = rest.at(-1);
      const unloaded =
        hasMoreRef.current && last !== undefined && listOrder(conversation, last) > 0;
      if (unloaded && rest.length === prev.length) return prev;
      return unloaded ? rest : [...rest, conversation].sort(listOrder);
    });
  }, []);

  const remove = useCallback((id: string) => {
    setItems((prev) => prev.filter((c) => c.id !== id));
  }, []);

  return useMemo(
    () => ({ view, setView, items, hasMore, loading, error, loadMore, upsert, remove, reload }),
    [view, setView, items, hasMore, loading, error, loadMore, upsert, remove, reload],
  );
}
