/**
 * Model output -> safe HTML.
 *
 * 1. Markdown is converted with marked. Raw HTML in the source is NOT passed through: it is
 *    escaped and shown as text. Images become plain links (nothing is fetched automatically).
 * 2. The resulting HTML is then sanitized with DOMPurify (after conversion, so nothing marked
 *    emits can slip through): a small allow-list of tags and attributes, no <img>, no event
 *    handlers, no style, and only http(s)/mailto/relative URLs. Every link opens in a new tab
 *    with rel="noopener noreferrer".
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
      const title = token.title ? ` title="${escapeHtml(token.title)}"` : '';
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

/** http(s) and mailto, or no scheme at all (relative / #fragment). Drops javascript:, data:, … */
const ALLOWED_URI = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

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
