/**
 * What rendered, sanitized Markdown (lib/markdown.ts) gets once it is in the page:
 * - each code block a copy button in its head (reserved by the renderer, so nothing moves);
 * - code with a known language highlighted (lib/highlight.ts, loaded on first need);
 * - math (`.math-inline`, `.math-display`) typeset by KaTeX into MathML (lib/katex.ts, loaded
 *   on first need).
 *
 * Both libraries are lazy chunks: the first time they are needed, the elements wait as they are
 * (plain code, TeX source) and are enhanced when the chunk arrives, if still in the page. After
 * that, enhancing is synchronous: done before the browser paints, so a streamed answer does not
 * flicker. Each element is enhanced once (a WeakSet remembers it).
 */
import type * as HighlightModule from './highlight';
import type * as KatexModule from './katex';

type Highlighter = typeof HighlightModule;
type Typesetter = typeof KatexModule;

interface Lazy<T> {
  module: T | null;
  loading: boolean;
  load: () => Promise<T>;
}

const highlighter: Lazy<Highlighter> = {
  module: null,
  loading: false,
  load: () => import('./highlight'),
};
const typesetter: Lazy<Typesetter> = {
  module: null,
  loading: false,
  load: () => import('./katex'),
};

/** Elements that wait for a chunk; enhanced again when it has loaded. */
const waiting = new Set<Element>();
const done = new WeakSet<Element>();

const CODE = '.code-block';
const MATH = '.math-inline, .math-display';

function within(root: Element, selector: string): Element[] {
  const found = Array.from(root.querySelectorAll(selector));
  if (root.matches(selector)) found.unshift(root);
  return found;
}

function request<T>(lazy: Lazy<T>, root: Element): void {
  waiting.add(root);
  start(lazy);
}

function start<T>(lazy: Lazy<T>): void {
  if (lazy.loading || lazy.module) return;
  lazy.loading = true;
  lazy.load().then(
    (module) => {
      lazy.module = module;
      const roots = Array.from(waiting);
      waiting.clear();
      for (const el of roots) if (el.isConnected) enhance(el);
    },
    () => {
      // Offline or a failed deploy: the code stays plain and the math shows its TeX source.
      lazy.loading = false;
    },
  );
}

/** Enhances the code blocks and math in `root` (and `root` itself) not enhanced yet. */
export function enhance(root: Element): void {
  for (const block of within(root, CODE)) enhanceCode(block, root);
  for (const math of within(root, MATH)) enhanceMath(math, root);
}

function enhanceCode(block: Element, root: Element): void {
  if (done.has(block)) return;
  const head = block.querySelector(':scope > .code-head');
  const code = block.querySelector(':scope > pre > code');
  if (!code) return;
  if (head && !head.querySelector('.code-copy')) head.append(copyButton(code));
  const language = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className)?.[1];
  if (!language) {
    done.add(block);
    return;
  }
  const module = highlighter.module;
  if (!module) {
    request(highlighter, root);
    return;
  }
  const html = module.highlight(code.textContent, language.toLowerCase());
  if (html !== null) code.innerHTML = html;
  done.add(block);
}

function enhanceMath(el: Element, root: Element): void {
  if (done.has(el)) return;
  const module = typesetter.module;
  if (!module) {
    request(typesetter, root);
    return;
  }
  const tex = el.textContent;
  const html = module.typeset(tex, el.classList.contains('math-display'));
  if (html === null) {
    el.classList.add('math-error');
    el.setAttribute('title', 'This formula could not be typeset.');
  } else {
    el.innerHTML = html;
  }
  done.add(el);
}

const COPIED_MS = 1500;

function copyButton(code: Element): HTMLButtonElement {
  const button = code.ownerDocument.createElement('button');
  button.type = 'button';
  button.className = 'code-copy';
  button.textContent = 'Copy';
  button.setAttribute('aria-label', 'Copy code');
  button.addEventListener('click', () => {
    const text = code.textContent;
    navigator.clipboard.writeText(text).then(
      () => flash(button, 'Copied'),
      () => flash(button, 'Copy failed'),
    );
  });
  return button;
}

function flash(button: HTMLButtonElement, label: string): void {
  button.textContent = label;
  setTimeout(() => {
    button.textContent = 'Copy';
  }, COPIED_MS);
}

/** Starts loading both chunks, so that the first answer with code or math needs no wait. */
export function preloadEnhancers(): void {
  start(highlighter);
  start(typesetter);
}
