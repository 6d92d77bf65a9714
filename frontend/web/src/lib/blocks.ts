/**
 * Where streamed Markdown can be cut into top-level blocks that are complete: text appended
 * later can no longer change how they render, so each is rendered once while the answer streams
 * and only the last, unfinished block is rendered again as text arrives.
 *
 * A block ends at a blank line that is followed by a line starting at column 0 that cannot
 * continue it: not indented (a list item's continuation or indented code), not a list item (a
 * blank line between items keeps one, loose, list), and not inside a fenced code block or an
 * HTML block that runs across blank lines (`<pre>`, `<!--` …). This is conservative: a missed
 * end only means a block is rendered again; an end found where Markdown has none would show the
 * answer split wrongly until it finishes (a finished answer is always rendered whole).
 *
 * Link reference definitions (`[x]: https://…`) are the one construct that reaches across
 * blocks; the scan reports them so the caller renders the whole text instead.
 */

export interface BlockScan {
  /** Offsets in the text, ascending and after `from`, where a complete block ends and the next begins. */
  ends: number[];
  /** A line after `from` may be a link reference definition: blocks cannot be rendered apart. */
  definition: boolean;
  /** The text ends inside a fenced code block (or an HTML block spanning blank lines). */
  open: boolean;
}

/** An opening code fence: ``` or ~~~ (any indentation: fences may sit in list items). */
const FENCE = /^[ \t]*(`{3,}|~{3,})(.*)$/;
/** A list item's marker: the line continues a list rather than starting a block. */
const LIST_MARKER = /^(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)/;
/** The start of a line still being written that may yet become a list marker ("1", "12"). */
const LIST_MARKER_PREFIX = /^\d{1,9}$/;
/** A possible link reference definition, also inside list items and block quotes. */
const DEFINITION = /^[ \t>*+\-.)\d]*\[(?:[^\]\\]|\\.)+\]:/;
/** HTML blocks that blank lines do not end (CommonMark types 1 to 5), with their end marker. */
const HTML_BLOCKS: ReadonlyArray<readonly [RegExp, RegExp]> = [
  [/^ {0,3}<(?:script|pre|style|textarea)(?:[\s>]|$)/i, /<\/(?:script|pre|style|textarea)>/i],
  [/^ {0,3}<!--/, /-->/],
  [/^ {0,3}<\?/, /\?>/],
  [/^ {0,3}<!\[CDATA\[/, /\]\]>/],
  [/^ {0,3}<![A-Za-z]/, />/],
];
const BLANK = /^[ \t]*$/;

/**
 * Scans `source` from `from` (0, or an offset this function returned: a block's start) for the
 * ends of complete blocks. The last line may be unfinished (no newline yet); it can start a new
 * block once its first characters tell.
 */
export function scanBlocks(source: string, from = 0): BlockScan {
  const ends: number[] = [];
  let definition = false;
  let fence: { char: string; length: number } | null = null;
  let html: RegExp | null = null;
  let afterBlank = false;
  let pos = from;
  while (pos < source.length) {
    const newline = source.indexOf('\n', pos);
    const complete = newline !== -1;
    let line = source.slice(pos, complete ? newline : source.length);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const start = pos;
    pos = complete ? newline + 1 : source.length;

    if (fence) {
      const close = FENCE.exec(line);
      if (
        close &&
        complete &&
        close[1]?.[0] === fence.char &&
        (close[1]?.length ?? 0) >= fence.length &&
        BLANK.test(close[2] ?? '')
      ) {
        fence = null;
      }
      continue;
    }
    if (html) {
      if (html.test(line)) html = null;
      continue;
    }
    if (BLANK.test(line)) {
      afterBlank = true;
      continue;
    }
    if (afterBlank && start > from && startsBlock(line, complete)) ends.push(start);
    afterBlank = false;

    const open = FENCE.exec(line);
    const marker = open?.[1];
    // A backtick fence's info string has no backticks (else the line is inline code).
    if (marker && !(marker[0] === '`' && open[2]?.includes('`'))) {
      fence = { char: marker[0] ?? '`', length: marker.length };
      continue;
    }
    for (const [begin, end] of HTML_BLOCKS) {
      if (begin.test(line)) {
        if (!end.test(line.replace(begin, ''))) html = end;
        break;
      }
    }
    if (DEFINITION.test(line)) definition = true;
  }
  return { ends, definition, open: fence !== null || html !== null };
}

/** After a blank line: does this line begin a new top-level block (rather than continue one)? */
function startsBlock(line: string, complete: boolean): boolean {
  const first = line.charCodeAt(0);
  if (first === 32 || first === 9) return false; // indented: a continuation, or indented code
  if (LIST_MARKER.test(line)) return false;
  return complete || !LIST_MARKER_PREFIX.test(line);
}

/** The text cut into its complete blocks and the unfinished rest (`blocks.join('') + tail` is the text). */
export function splitBlocks(source: string): { blocks: string[]; tail: string } {
  const { ends } = scanBlocks(source);
  const blocks: string[] = [];
  let start = 0;
  for (const end of ends) {
    blocks.push(source.slice(start, end));
    start = end;
  }
  return { blocks, tail: source.slice(start) };
}
