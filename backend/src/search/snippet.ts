import type { SnippetSegment } from './schemas.js';

/** Characters of context kept before the first match, and of the snippet in all (about). */
const BEFORE = 60;
const LENGTH = 200;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Moves an index off the second half of a surrogate pair, so no emoji is split. */
function onCodePoint(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff ? index - 1 : index;
}

/**
 * The part of `text` around the first case-insensitive occurrence of `query`, as segments
 * with every occurrence inside marked. Whitespace runs read as one space. When the query is
 * not found as such (the database's case folding differs from JavaScript's for a few
 * characters), the beginning of the text, unmarked.
 */
export function snippet(text: string, query: string): SnippetSegment[] {
  const pattern = new RegExp(escapeRegExp(query), 'giu');
  const first = pattern.exec(text);
  let start = 0;
  if (first !== null && first.index > BEFORE) {
    start = first.index - BEFORE;
    // Start at a word when one begins near.
    const space = text.indexOf(' ', start);
    if (space !== -1 && space < first.index) start = space + 1;
    start = onCodePoint(text, start);
  }
  let end = Math.max(start + LENGTH, first === null ? 0 : first.index + first[0].length);
  end = end >= text.length ? text.length : onCodePoint(text, end);
  const part = text.slice(start, end);

  const segments: SnippetSegment[] = [];
  const push = (piece: string, match: boolean) => {
    const clean = piece.replace(/\s+/g, ' ');
    if (clean !== '') segments.push({ text: clean, match });
  };
  if (start > 0) push('…', false);
  pattern.lastIndex = 0;
  let at = 0;
  for (let m = pattern.exec(part); m !== null; m = pattern.exec(part)) {
    if (m[0] === '') break;
    push(part.slice(at, m.index), false);
    push(m[0], true);
    at = m.index + m[0].length;
  }
  push(part.slice(at), false);
  if (end < text.length) push('…', false);
  return segments;
}
