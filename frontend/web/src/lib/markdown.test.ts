import { describe, expect, it } from 'vitest';
import { renderMarkdown, sanitizeHtml } from './markdown';

function dom(html: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div;
}

const EVENT_ATTR = /\son[a-z]+\s*=/i;

/** Attributes that could run code or load something, anywhere in the tree. */
function riskyAttributes(el: HTMLElement): string[] {
  const found: string[] = [];
  for (const node of el.querySelectorAll('*')) {
    for (const attr of node.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'src' || name === 'srcset') {
        found.push(`${node.tagName}[${name}]`);
      }
      if (['href', 'action', 'formaction', 'xlink:href'].includes(name)) {
        if (!/^(https?:\/\/|mailto:)/i.test(attr.value))
          found.push(`${node.tagName}[${name}=${attr.value}]`);
      }
    }
  }
  return found;
}

describe('renderMarkdown', () => {
  it('renders ordinary Markdown', () => {
    const el = dom(
      renderMarkdown(
        '# Title\n\nSome **bold** and `code`.\n\n```ts\nconst x = 1 < 2;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done',
      ),
    );
    expect(el.querySelector('h1')?.textContent).toBe('Title');
    expect(el.querySelector('strong')?.textContent).toBe('bold');
    expect(el.querySelector('pre code')?.textContent).toBe('const x = 1 < 2;\n');
    expect(el.querySelector('pre code')?.className).toBe('language-ts');
    expect(el.querySelectorAll('td')).toHaveLength(2);
    const box = el.querySelector('input');
    expect(box?.getAttribute('type')).toBe('checkbox');
    expect(box?.hasAttribute('disabled')).toBe(true);
  });

  it('never lets HTML or script in model output through', () => {
    const inputs = [
      '<script>alert(1)</script>',
      'Hi <img src=x onerror=alert(1)> there',
      '<div onclick="alert(1)">click</div>',
      '<a href="javascript:alert(1)">x</a>',
      '<iframe src="https://evil.test"></iframe>',
      '<svg onload=alert(1)><script>alert(1)</script></svg>',
      '<style>body{display:none}</style>',
      '<details open ontoggle=alert(1)>',
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x]( javascript:alert(1))',
      '[x](&#106;avascript:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[x](vbscript:msgbox(1))',
      '<javascript:alert(1)>',
      '`<script>` and ```\n<script>alert(1)</script>\n```',
    ];
    for (const input of inputs) {
      const html = renderMarkdown(input);
      const el = dom(html);
      expect(el.querySelector('script, iframe, svg, style, img, object, embed'), input).toBeNull();
      expect(riskyAttributes(el), `${input} -> ${html}`).toEqual([]);
    }
  });

  it('shows raw HTML as text instead of rendering it', () => {
    const el = dom(renderMarkdown('Press <kbd>Ctrl</kbd> and <b onclick="x()">go</b>'));
    expect(el.querySelector('kbd, b')).toBeNull();
    expect(el.textContent).toContain('<kbd>Ctrl</kbd>');
  });

  it('shows HTML after an inline <pre>, <script>, <style> or <textarea> as text too', () => {
    for (const tag of ['pre', 'script', 'style', 'textarea']) {
      const source = `Hi <${tag}> then <b onclick="x()">bold</b> <!-- open comment\n\n# Heading`;
      const el = dom(renderMarkdown(source));
      expect(el.querySelector('b'), source).toBeNull();
      expect(el.textContent, source).toContain('<b onclick="x()">bold</b> <!-- open comment');
      expect(el.querySelector('h1')?.textContent, source).toBe('Heading');
    }
  });

  it('does not create <img> elements: images become links', () => {
    const html = renderMarkdown(
      '![a cat](https://example.test/cat.png "Cat") and ![](https://x.test/y.png)',
    );
    const el = dom(html);
    expect(el.querySelector('img')).toBeNull();
    const links = el.querySelectorAll('a');
    expect(links).toHaveLength(2);
    expect(links[0]?.getAttribute('href')).toBe('https://example.test/cat.png');
    expect(links[0]?.textContent).toBe('a cat');
    expect(links[1]?.textContent).toBe('https://x.test/y.png');
  });

  it('drops data: image links too', () => {
    const el = dom(renderMarkdown('![pixel](data:image/png;base64,iVBORw0KGgo=)'));
    expect(el.querySelector('img')).toBeNull();
    expect(el.querySelector('a')?.hasAttribute('href')).toBe(false);
  });

  it('opens links in a new tab without an opener or referrer', () => {
    const el = dom(renderMarkdown('See [docs](https://example.test/docs) or <https://a.test>.'));
    const links = [...el.querySelectorAll('a')];
    expect(links).toHaveLength(2);
    for (const a of links) {
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    }
  });
});

describe('sanitizeHtml', () => {
  it('strips scripts, handlers, styles and dangerous URLs from HTML', () => {
    const html = sanitizeHtml(
      '<p style="color:red" onmouseover="x()">hi<script>alert(1)</script></p>' +
        '<a href="javascript:alert(1)" onclick="x()">a</a>' +
        '<a href="data:text/html,<script>alert(1)</script>">b</a>' +
        '<a href="https://ok.test" target="_self">c</a>' +
        '<img src="https://track.test/p.gif"><form action="/x"><input type="text"></form>',
    );
    const el = dom(html);
    expect(el.querySelector('script, img, form')).toBeNull();
    expect(el.querySelector('input[type="text"]')).toBeNull();
    expect(EVENT_ATTR.test(html)).toBe(false);
    expect(riskyAttributes(el)).toEqual([]);
    expect(html).not.toContain('style=');
    const [a, b, c] = [...el.querySelectorAll('a')];
    expect(a?.hasAttribute('href')).toBe(false);
    expect(b?.hasAttribute('href')).toBe(false);
    expect(c?.getAttribute('href')).toBe('https://ok.test');
    expect(c?.getAttribute('target')).toBe('_blank');
    expect(c?.getAttribute('rel')).toBe('noopener noreferrer');
  });
});

describe('links and images in model output', () => {
  const hrefs = (source: string) =>
    [...dom(renderMarkdown(source)).querySelectorAll('a')].map((a) => a.getAttribute('href'));

  it('keeps absolute http(s) and mailto links only', () => {
    expect(
      hrefs('[a](https://a.test/x) [b](http://b.test) [c](mailto:c@d.test) <https://e.test>'),
    ).toEqual(['https://a.test/x', 'http://b.test', 'mailto:c@d.test', 'https://e.test']);
    const dropped = [
      '[x](vbscript:msgbox(1))',
      '[x](file:///etc/passwd)',
      '[x](blob:https://a.test/uuid)',
      '[x](ftp://a.test/)',
      '[x](/api/auth/logout)',
      '[x](//evil.test/path)',
      '[x](#top)',
      '[x](java\tscript:alert(1))',
      '[x](&#x6A;avascript&colon;alert(1))',
      '[x](data:text/html,<script>alert(1)</script>)',
      '[x][ref]\n\n[ref]: javascript:alert(1)',
      '![x][img]\n\n[img]: data:image/svg+xml,<svg onload=alert(1)>',
    ];
    for (const source of dropped) {
      expect(
        hrefs(source).filter((href) => href !== null),
        source,
      ).toEqual([]);
    }
  });

  it('shows an image as a link to its URL, never an <img>, whatever its form', () => {
    const el = dom(
      renderMarkdown(
        '![alt](https://evil.test/a.png?q=secret)\n\n![ref][r]\n\n[r]: https://evil.test/b.png "T"',
      ),
    );
    expect(el.querySelector('img, picture, source, video, audio')).toBeNull();
    const links = [...el.querySelectorAll('a')];
    expect(
      links.map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('title')]),
    ).toEqual([
      ['alt', 'https://evil.test/a.png?q=secret', 'https://evil.test/a.png?q=secret'],
      ['ref', 'https://evil.test/b.png', 'T'],
    ]);
  });

  it('keeps a link title as text, never as markup', () => {
    const el = dom(renderMarkdown('[x](https://a.test "a\\" onmouseover=\\"alert(1)")'));
    const a = el.querySelector('a');
    expect(a?.getAttributeNames().sort()).toEqual(['href', 'rel', 'target', 'title']);
  });

  it('marks LaTeX as inert text for the typesetter (lib/enhance.ts), never a link', () => {
    const source =
      '$\\href{javascript:alert(1)}{x}$ and $$\\url{javascript:alert(2)}$$ and \\(\\htmlData{x=1}{y}\\)';
    const el = dom(renderMarkdown(source));
    expect(el.querySelectorAll('a')).toHaveLength(0);
    expect(el.textContent).toContain('\\href{javascript:alert(1)}{x}');
    expect(el.querySelectorAll('.math-inline, .math-display')).toHaveLength(3);
    expect(riskyAttributes(el)).toEqual([]);
  });
});
