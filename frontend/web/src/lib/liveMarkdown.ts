/**
 * Shows Markdown that grows while an answer streams, with work per update that does not grow
 * with the answer:
 *
 * - complete top-level blocks (lib/blocks.ts) are rendered once and their nodes kept;
 * - only the last, unfinished block (the tail) is rendered again, through the same
 *   renderMarkdown (marked, then DOMPurify) as a finished answer;
 * - text that only appends plain words to the tail's last paragraph, list item or heading is
 *   added to that text node as text (never parsed as HTML), after a check that such text cannot
 *   change how the tail renders (see `canAppend`).
 *
 * Every element that reaches the page comes out of `render` (sanitized); HTML is parsed in an
 * inert <template>, so nothing in it loads or runs before it is inserted.
 */
import { scanBlocks } from './blocks';
import { renderMarkdown } from './markdown';

/**
 * Marks the end of the tail's text in its rendered HTML: a private-use character, taken out of
 * the text node again before the nodes reach the page.
 */
const SENTINEL = '\uE000';

/** Elements whose last text plain words may be appended to. */
const APPENDABLE = new Set(['P', 'LI', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6']);

/** ASCII characters with no Markdown meaning in the middle of a line. */
const PLAIN_ASCII = /^[A-Za-z0-9 ,.;:?'"-]$/;

function isPlainChar(c: string): boolean {
  if (c.length === 0) return false;
  const code = c.charCodeAt(0);
  if (code < 0x80) return PLAIN_ASCII.test(c);
  // Outside ASCII, Markdown gives meaning to no character; leave out other whitespace and
  // line separators (they may count as line ends or be trimmed) and the sentinel.
  return c !== SENTINEL && !/\s/.test(c);
}

/** Container markers a line may start with: list items, block quotes, an ATX heading. */
const LINE_PREFIX = /^(?: {0,3}(?:[-+*][ \t]+|\d{1,9}[.)][ \t]+|#{1,6}[ \t]+|>[ \t]?))*/;
/** Words that may become (or be) autolinks, or character references. */
const LINKISH = /:\/\/|www\.|[@&]/i;

function trailingWord(text: string): string {
  return text.slice(Math.max(text.lastIndexOf(' '), text.lastIndexOf('\n')) + 1);
}

/**
 * Whether the tail `text` ends in a position where more plain text can only extend its last
 * line's text: the last line is ordinary inline text (after any list, quote or heading markers
 * it starts with a letter or digit, and is not only digits, which may still become "1."), it
 * holds no table cell or heading closing "#", and it ends in a plain character or a space.
 */
export function canAnchor(text: string, open: boolean): boolean {
  if (open || text === '' || text.includes(SENTINEL)) return false;
  if (!isPlainChar(text.slice(-1))) return false;
  const line = text.slice(text.lastIndexOf('\n') + 1);
  if (line.includes('|') || line.includes('#', line.match(LINE_PREFIX)?.[0].length ?? 0)) {
    return false;
  }
  const body = line.slice(line.match(LINE_PREFIX)?.[0].length ?? 0);
  if (!/^[\p{L}\p{N}]/u.test(body) || /^\d{1,9}\.?$/.test(body)) return false;
  return !LINKISH.test(trailingWord(text));
}

/**
 * Whether appending `added` to an anchorable tail `text` renders as the same elements with
 * `added` at the end of the last text: it has only plain characters (no line break, nothing
 * Markdown gives meaning to) and does not make the last word an autolink or a reference.
 */
export function canAppend(text: string, added: string): boolean {
  if (added === '') return false;
  for (const c of added) if (!isPlainChar(c)) return false;
  return !LINKISH.test(trailingWord(text) + added);
}

interface Tail {
  /** The tail's Markdown as shown. */
  text: string;
  nodes: ChildNode[];
  /** Where plain text appended to the tail goes, when it can. */
  anchor: { node: Text; offset: number } | null;
}

const EMPTY_TAIL: Tail = { text: '', nodes: [], anchor: null };

export class LiveMarkdown {
  /** The Markdown of the complete blocks shown (a beginning of the text). */
  private stableText = '';
  private tail: Tail = EMPTY_TAIL;
  /** A link reference definition was seen: the text is rendered whole, not block by block. */
  private whole = false;
  private source = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly render: (markdown: string) => string = renderMarkdown,
    /** Runs on each element put in the page (lib/enhance.ts: code and math). */
    private readonly enhance: (el: Element) => void = () => undefined,
  ) {
    root.replaceChildren();
  }

  /** Shows `source`; cheapest when it extends the text shown before. */
  update(source: string): void {
    if (source === this.source) return;
    this.source = source;
    if (!source.startsWith(this.stableText)) this.reset();
    let scan = scanBlocks(source, this.stableText.length);
    if (scan.definition && !this.whole) {
      this.reset();
      this.whole = true;
    }
    if (this.whole) scan = { ...scan, ends: [] };

    let start = this.stableText.length;
    if (scan.ends.length > 0) {
      this.removeTail();
      for (const end of scan.ends) {
        this.insert(this.parse(this.render(source.slice(start, end))));
        start = end;
      }
      this.stableText = source.slice(0, start);
    }
    this.showTail(source.slice(start), scan.open);
  }

  private reset(): void {
    this.root.replaceChildren();
    this.stableText = '';
    this.tail = EMPTY_TAIL;
  }

  private removeTail(): void {
    for (const node of this.tail.nodes) node.remove();
    this.tail = EMPTY_TAIL;
  }

  private showTail(text: string, open: boolean): void {
    const tail = this.tail;
    if (text === tail.text) return;
    const anchor = tail.anchor;
    if (anchor && text.startsWith(tail.text)) {
      const added = text.slice(tail.text.length);
      if (canAppend(tail.text, added)) {
        anchor.node.insertData(anchor.offset, added);
        anchor.offset += added.length;
        tail.text = text;
        return;
      }
    }
    this.removeTail();
    if (text === '') return;
    let fragment: DocumentFragment | null = null;
    let next: Tail['anchor'] = null;
    if (canAnchor(text, open)) {
      const html = this.render(text + SENTINEL);
      const at = html.indexOf(SENTINEL);
      if (at !== -1 && html.indexOf(SENTINEL, at + 1) === -1) {
        fragment = this.parse(html);
        next = takeSentinel(fragment);
        if (!next) fragment = null;
      }
    }
    fragment ??= this.parse(this.render(text));
    const nodes = this.insert(fragment);
    this.tail = { text, nodes, anchor: next };
  }

  /** Puts rendered nodes at the end of the root, then enhances them. */
  private insert(fragment: DocumentFragment): ChildNode[] {
    const nodes = [...fragment.childNodes];
    this.root.append(fragment);
    for (const node of nodes)
      if (node.nodeType === Node.ELEMENT_NODE) this.enhance(node as Element);
    return nodes;
  }

  /** Sanitized HTML to nodes, parsed where nothing loads or runs (a template's content). */
  private parse(html: string): DocumentFragment {
    const template = this.root.ownerDocument.createElement('template');
    template.innerHTML = html;
    return template.content;
  }
}

/**
 * Finds the sentinel (once in the HTML) and takes it out of its text node; null unless that
 * node is a direct child of an element plain text may be appended to (so not in a link, code,
 * a table cell, or an attribute).
 */
function takeSentinel(fragment: DocumentFragment): Tail['anchor'] {
  const walker = fragment.ownerDocument.createTreeWalker(fragment, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
    const text = node as Text;
    const offset = text.data.indexOf(SENTINEL);
    if (offset === -1) continue;
    const parent = text.parentElement;
    if (!parent || !APPENDABLE.has(parent.tagName)) return null;
    text.deleteData(offset, 1);
    return { node: text, offset };
  }
  return null;
}
