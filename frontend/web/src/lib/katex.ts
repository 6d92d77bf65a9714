/**
 * Typesets TeX with KaTeX: a chunk of its own, loaded the first time an answer holds math
 * (lib/enhance.ts). The input is model output, so KaTeX runs with:
 * - `trust: false`: \href, \url, \includegraphics, \htmlClass, \htmlId, \htmlStyle and
 *   \htmlData are not honoured (shown as unsupported commands);
 * - `maxExpand`: macro expansion stops (an error) after this many expansions, so a
 *   self-doubling \def cannot hang the tab;
 * - `maxSize`: no rule, space or box larger than this many em (a huge \rule cannot cover the page);
 * - `output: 'mathml'`: MathML only, which Chromium, Firefox and Safari lay out natively: no
 *   inline style and no KaTeX stylesheet or fonts needed (the page's CSP has no
 *   'unsafe-inline' for styles).
 * Its output is sanitized again (sanitizeMathMl) before it reaches the page.
 */
import katex from 'katex';
import { sanitizeMathMl } from './markdown';

export const KATEX_OPTIONS = {
  output: 'mathml',
  trust: false,
  maxExpand: 500,
  maxSize: 10,
  throwOnError: true,
  strict: 'ignore',
} as const;

/** Sanitized MathML for `tex`, or null when KaTeX cannot typeset it (it is then shown as text). */
export function typeset(tex: string, display: boolean): string | null {
  try {
    // A fresh macro table each time: \gdef in one formula cannot change another.
    const html = katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display, macros: {} });
    return sanitizeMathMl(html);
  } catch {
    return null;
  }
}
