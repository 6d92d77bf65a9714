import type { SnippetSegment } from '../api/types';

/** A search snippet: plain text, each match in a <mark>. Built as elements, never as HTML. */
export function Highlighted({ segments }: { segments: SnippetSegment[] }) {
  return (
    <>
      {segments.map((s, i) =>
        s.match ? (
          <mark key={i} data-testid="search-match">
            {s.text}
          </mark>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </>
  );
}
