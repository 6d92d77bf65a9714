/**
 * LaTeX delimiters in Markdown, as a marked extension: `$…$` and `\(…\)` inline, `$$…$$` and
 * `\[…\]` displayed (on lines of their own, or inside a paragraph).
 *
 * They only mark the TeX source: it is written out escaped, as the text of
 * `<span class="math-inline">` / `<span|div class="math-display">`, and goes through the
 * sanitizer with the rest of the answer. lib/enhance.ts later typesets those elements with
 * KaTeX (a lazily loaded chunk) into MathML, sanitized again on its own.
 *
 * A single `$` follows Pandoc's rule so prices stay prices: the opening `$` is followed by a
 * non-space, the closing `$` preceded by a non-space and not followed by a digit ("$5 and $10"
 * is text).
 */
import type { MarkedExtension, Tokens } from 'marked';

/** Longest TeX source typeset; longer ones stay text. */
export const MAX_TEX_LENGTH = 4000;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

interface MathToken extends Tokens.Generic {
  type: 'mathBlock' | 'mathInline';
  raw: string;
  tex: string;
  display: boolean;
}

const BLOCK_DOLLARS = /^ {0,3}\$\$(?!\$)([\s\S]+?)\$\$[ \t]*(?:\n|$)/;
const BLOCK_BRACKETS = /^ {0,3}\\\[([\s\S]+?)\\\][ \t]*(?:\n|$)/;
const INLINE_DISPLAY_DOLLARS = /^\$\$(?!\$)([\s\S]+?)\$\$/;
const INLINE_BRACKETS = /^\\\[([\s\S]+?)\\\]/;
const INLINE_PARENS = /^\\\(([\s\S]+?)\\\)/;
/** `$x$`: no space just inside either dollar, no digit right after the closing one. */
const INLINE_DOLLAR = /^\$(?![\s$])((?:\\.|[^\\$\n])*?(?:\\[^\s]|[^\\\s$]))\$(?!\d)/;

function usable(tex: string): boolean {
  return tex.trim() !== '' && tex.length <= MAX_TEX_LENGTH;
}

function token(type: MathToken['type'], raw: string, tex: string, display: boolean): MathToken {
  return { type, raw, tex, display };
}

export const mathExtension: MarkedExtension = {
  extensions: [
    {
      name: 'mathBlock',
      level: 'block',
      // marked asks from the second character of a paragraph on: a display block can only
      // start a later line.
      start(src: string) {
        const match = /\n {0,3}(?:\$\$|\\\[)/.exec(src);
        return match ? match.index + 1 : undefined;
      },
      tokenizer(src: string): MathToken | undefined {
        const match = BLOCK_DOLLARS.exec(src) ?? BLOCK_BRACKETS.exec(src);
        const tex = match?.[1];
        if (!match || tex === undefined || !usable(tex)) return undefined;
        return token('mathBlock', match[0], tex.trim(), true);
      },
      renderer(t: Tokens.Generic): string {
        return `<div class="math-display">${escapeHtml((t as MathToken).tex)}</div>\n`;
      },
    },
    {
      name: 'mathInline',
      level: 'inline',
      start(src: string) {
        const match = /\$|\\[([]/.exec(src);
        return match?.index;
      },
      tokenizer(src: string): MathToken | undefined {
        let match = INLINE_DISPLAY_DOLLARS.exec(src) ?? INLINE_BRACKETS.exec(src);
        let display = true;
        if (!match) {
          match = INLINE_PARENS.exec(src) ?? INLINE_DOLLAR.exec(src);
          display = false;
        }
        const tex = match?.[1];
        if (!match || tex === undefined || !usable(tex)) return undefined;
        return token('mathInline', match[0], tex.trim(), display);
      },
      renderer(t: Tokens.Generic): string {
        const math = t as MathToken;
        const kind = math.display ? 'math-display' : 'math-inline';
        return `<span class="${kind}">${escapeHtml(math.tex)}</span>`;
      },
    },
  ],
};
