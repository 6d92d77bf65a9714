/**
 * A Content-Disposition header (`attachment`, or `inline` when asked) naming the file after
 * `base` (RFC 6266): `filename` keeps ASCII letters, digits, `.`, `_` and `-` only, so no quote, slash,
 * control character or header break can reach it; `filename*` (RFC 8187) carries the same name
 * with its other letters and digits, percent-encoded as UTF-8, for browsers that read it.
 */
export function attachment(
  base: string,
  extension: string,
  fallback: string,
  disposition: 'attachment' | 'inline' = 'attachment',
): string {
  const unicode = clean(base, /[^\p{L}\p{N}._ -]+/gu) || fallback;
  const ascii =
    clean(base.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''), /[^A-Za-z0-9._-]+/g) || fallback;
  const header = `${disposition}; filename="${ascii}.${extension}"`;
  return unicode === ascii
    ? header
    : `${header}; filename*=UTF-8''${encodeURIComponent(`${unicode}.${extension}`)}`;
}

/** Runs of refused characters become one `-`; no leading dots or dashes; 80 characters at most. */
function clean(name: string, refused: RegExp): string {
  const cleaned = name
    .replace(refused, '-')
    .replace(/\s+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '');
  return [...cleaned]
    .slice(0, 80)
    .join('')
    .replace(/[.-]+$/, '');
}
