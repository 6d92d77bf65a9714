import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client';
import type { Conversation, ConversationPage } from '../api/types';
import { errorText } from '../lib/errors';

export interface ConversationList {
  items: Conversation[];
  hasMore: boolean;
  loading: boolean;
  error: string | null;
  loadMore: () => void;
  /** Adds or updates a conversation and moves it by its activity time. */
  upsert: (conversation: Conversation) => void;
  remove: (id: string) => void;
  /** Reads the list again from its first page (after an import added many at once). */
  reload: () => void;
}

function byActivity(a: Conversation, b: Conversation): number {
  return Date.parse(b.updatedAt) - Date.parse(a.updatedAt);
}

/** The sidebar's conversations, newest activity first, paged by the backend's cursor. */
export function useConversationList(pageSize = 30): ConversationList {
  const [items, setItems] = useState<Conversation[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef(true);

  const applyPage = useCallback((page: ConversationPage) => {
    setItems((prev) => {
      const known = new Set(prev.map((c) => c.id));
      return [...prev, ...page.conversations.filter((c) => !known.has(c.id))];
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

  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    inFlight.current = true;
    api.listConversations(null, pageSize).then(
      (page) => {
        if (!live) return;
        // A reload starts over: the first page replaces what was listed.
        if (generation > 0) setItems([]);
        applyPage(page);
        finish();
      },
      (err: unknown) => {
        if (live) finish(err);
      },
    );
    return () => {
      live = false;
    };
  }, [applyPage, finish, pageSize, generation]);

  const reload = useCallback(() => {
    setLoading(true);
    setGeneration((g) => g + 1);
  }, []);

  const loadMore = useCallback(() => {
    if (!hasMore || inFlight.current) return;
    inFlight.current = true;
    setLoading(true);
    api.listConversations(cursor, pageSize).then(
      (page) => {
        applyPage(page);
        finish();
      },
      (err: unknown) => finish(err),
    );
  }, [applyPage, cursor, finish, hasMore, pageSize]);

  const upsert = useCallback((conversation: Conversation) => {
    setItems((prev) => {
      const rest = prev.filter((c) => c.id !== conversation.id);
      return [...rest, conversation].sort(byActivity);
    });
  }, []);

  const remove = useCallback((id: string) => {
    setItems((prev) => prev.filter((c) => c.id !== id));
  }, []);

  return useMemo(
    () => ({ items, hasMore, loading, error, loadMore, upsert, remove, reload }),
    [items, hasMore, loading, error, loadMore, upsert, remove, reload],
  );
}
