import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { SearchHit } from '../api/types';
import { errorText } from '../lib/errors';
import { conversationPath } from '../lib/router';
import { Highlighted } from './Highlighted';

interface SearchPanelProps {
  query: string;
  onOpen: (hit: SearchHit) => void;
}

/** Results of a search of the user's conversations, asked 250 ms after the last keystroke. */
export function SearchPanel({ query, onOpen }: SearchPanelProps) {
  const [results, setResults] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = query.trim();

  useEffect(() => {
    if (q === '') return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api.search(q, controller.signal).then(
        (res) => {
          setResults(res.results);
          setError(null);
        },
        (err: unknown) => {
          if (!controller.signal.aborted) setError(errorText(err));
        },
      );
    }, 250);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [q]);

  return (
    <div className="search-results" data-testid="search-results" aria-live="polite">
      {error && (
        <p className="sidebar-error" role="alert">
          {error}
        </p>
      )}
      {results === null && !error && <p className="sidebar-empty">Searching…</p>}
      {results?.length === 0 && <p className="sidebar-empty">Nothing found.</p>}
      <ul>
        {results?.map((hit) => (
          <li key={`${hit.conversationId}:${hit.messageId ?? 'title'}`}>
            <a
              className="search-result"
              data-testid="search-result"
              data-conversation-id={hit.conversationId}
              data-message-id={hit.messageId ?? ''}
              href={conversationPath(hit.conversationId)}
              onClick={(e) => {
                if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                e.preventDefault();
                onOpen(hit);
              }}
            >
              <span className="search-result-title">
                {hit.conversationTitle}
                {hit.archived && <span className="badge">Archived</span>}
              </span>
              <span className="search-result-snippet">
                {hit.messageId !== null && (
                  <span className="search-result-role">
                    {hit.role === 'user' ? 'You: ' : 'AI: '}
                  </span>
                )}
                <Highlighted segments={hit.snippet} />
              </span>
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
