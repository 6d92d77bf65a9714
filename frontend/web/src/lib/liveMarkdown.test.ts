import { describe, expect, it, vi } from 'vitest';
import { LiveMarkdown, canAnchor, canAppend } from './liveMarkdown';
import { renderMarkdown } from './markdown';

/** Spaces before a line end or a tag, and white space between tags, are never visible. */
function normalize(html: string): string {
  return html.replace(/ +(?=<|\n|$)/g, '').replace(/>\s+</g, '><');
}

function streamed(root: HTMLElement, view: LiveMarkdown, pieces: string[]) {
  let text = '';
  for (const piece of pieces) {
    text += piece;
    view.update(text);
    expect(normalize(root.innerHTML), JSON.stringify(text)).toBe(normalize(renderMarkdown(text)));
  }
  return text;
}

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function chunks(text: string, next: () => number, max: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length;) {
    const n = 1 + Math.floor(next() * max);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const DOCUMENTS = [
  'Plain words streaming in, one after another, with commas, full stops. And more sentences? Yes; quite a few of them - with "quotes" and apostrophes\' too.',
  '# A title\n\nA paragraph with *emphasis*, **strong**, `code`, ~~struck~~ and _under_scores_ and snake_case_words.\n\n## Second heading ##\n\nText after it.',
  'Steps:\n\n1. First item\n2. Second item\n3. Third\n\n- nested\n  - deeper item\n    with a lazy line\n\n- loose item\n\n- another loose item\n\n  its second paragraph\n\nAfter the list.',
  'Code follows:\n\n```python\ndef f(x):\n\n    return x * 2\n\n\nprint(f(2))\n```\n\n~~~\ntilde\n\nfence\n~~~\n\n    indented code\n\n    more indented\n\nDone.',
  'Unterminated fence:\n\n```js\nconst a = 1;\n\nconst b = 2;\n\n// still in the fence',
  '> A quote\n> on two lines\n\n> Another quote\n\n>\n> - list in quote\n> - item\n\nText.',
  '| Column | Other |\n|--------|-------|\n| a | b |\n| c | d |\n\nAfter the table.',
  'Links: [example](https://example.test/path?q=1), <https://auto.test>, https://bare.test/x and www.example.com, mail me@example.test. An &amp; entity, &copy; and & alone.',
  'Setext heading\n==============\n\nAnother\n-------\n\n***\n\n* * *\n\n- - -\n\nText with trailing spaces  \nhard break, and a backslash\\\nbreak.',
  '- [ ] task\n- [x] done\n\n1) paren list\n2) second\n\n10. ten\n11. eleven\n\nEnd 1990. Not a list.',
  '<!-- a comment\n\nspanning blank lines -->\n\n<pre>\n\npre text\n\n</pre>\n\n<div class="x">\n\nhtml block\n\n</div>\n\nafter',
  'Malicious: <img src=x onerror=alert(1)> and <script>alert(1)</script> and [x](javascript:alert(1)) and <svg onload=alert(1)>\n\n<iframe src="https://evil.test"></iframe>\n\n![img](https://track.test/p.png)',
  'A reference [link][ref] and [another].\n\nMore text.\n\n[ref]: https://example.test/ref\n[another]: https://example.test/another "Title"\n\nAfter the definitions.',
  'Numbers at line starts:\n\n2024 was a year.\n\n12) and 13. and 1234567890. too\n\n# 1\n\n#hashtag and C# here.',
  'Mixed *emph\n\ncut by a blank* line, `code\n\nspan` too, and [a link\n\nsplit](x).',
  'Unicode: naïve café — “quotes” … 日本語のテキスト 😀 emoji and Ünïcödé.\n\nZero\u00a0width\u2003spaces and a line\u2028separator.',
  'Tabs:\n\n\tindented with a tab\n\n-\ttab list\n\nend',
  'Trailing # heading #\n# Heading with #hash inside\n\n### \n\n#\n\nempty headings above',
];

describe('LiveMarkdown', () => {
  // Each compares hundreds of renders: slow on a busy machine.
  it(
    'shows what renderMarkdown shows for every prefix, token by token',
    { timeout: 60_000 },
    () => {
      for (const doc of DOCUMENTS) {
        const root = document.createElement('div');
        streamed(root, new LiveMarkdown(root), doc.split(/(?<=[ \n])/));
      }
    },
  );

  it(
    'shows what renderMarkdown shows for every prefix, in random pieces',
    { timeout: 60_000 },
    () => {
      const next = random(42);
      for (const doc of DOCUMENTS) {
        for (const max of [2, 9]) {
          const root = document.createElement('div');
          streamed(root, new LiveMarkdown(root), chunks(doc, next, max));
        }
      }
    },
  );

  it('renders complete blocks once and only the last block again', () => {
    const render = vi.fn(renderMarkdown);
    const root = document.createElement('div');
    const view = new LiveMarkdown(root, render);
    const blocks = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} has *some* text.\n\n`);
    let text = '';
    for (const block of blocks) {
      for (const piece of block.split(/(?<= )/)) {
        text += piece;
        view.update(text);
      }
    }
    expect(normalize(root.innerHTML)).toBe(normalize(renderMarkdown(text)));
    const rendered = render.mock.calls.map(([md]) => md.length);
    // Never more than a block and a bit per render, however long the text grew.
    expect(Math.max(...rendered)).toBeLessThanOrEqual(blocks[0]!.length + 40);
  });

  it('appends plain words to the last paragraph as text, without rendering again', () => {
    const render = vi.fn(renderMarkdown);
    const root = document.createElement('div');
    const view = new LiveMarkdown(root, render);
    let text = 'Start';
    view.update(text);
    const paragraph = root.firstChild;
    for (let i = 0; i < 500; i++) {
      text += ` word${i},`;
      view.update(text);
    }
    expect(render).toHaveBeenCalledTimes(1);
    expect(root.firstChild).toBe(paragraph);
    expect(normalize(root.innerHTML)).toBe(normalize(renderMarkdown(text)));
  });

  it('starts over when the text is replaced rather than extended', () => {
    const root = document.createElement('div');
    const view = new LiveMarkdown(root);
    view.update('First paragraph.\n\nSecond');
    view.update('Other text.\n\nMore');
    expect(normalize(root.innerHTML)).toBe(normalize(renderMarkdown('Other text.\n\nMore')));
  });

  it(
    'never shows HTML from the model, however it is split across updates',
    { timeout: 60_000 },
    () => {
      const attacks = [
        '<img src=x onerror="window.pwned=1">',
        '<script>window.pwned=2</script>',
        '<svg onload="window.pwned=3"></svg>',
        '[link](javascript:window.pwned=4)',
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://evil.test"></iframe>',
        '![x](https://track.test/pixel.png)',
      ];
      for (const attack of attacks) {
        for (const before of ['', 'Some text ', 'A paragraph.\n\n', '- item ']) {
          const root = document.createElement('div');
          const view = new LiveMarkdown(root);
          let text = '';
          for (const c of before + attack + ' and after') {
            text += c;
            view.update(text);
            expect(root.querySelector('img, script, svg, iframe, object, embed'), text).toBeNull();
            for (const el of root.querySelectorAll('*')) {
              for (const attr of el.attributes) {
                expect(attr.name.startsWith('on'), `${text}: ${attr.name}`).toBe(false);
                expect(['src', 'srcset', 'style'], text).not.toContain(attr.name);
                if (attr.name === 'href') expect(attr.value, text).not.toMatch(/^\s*javascript:/i);
              }
            }
          }
          expect(root.textContent).toContain('and after');
        }
      }
    },
  );

  it('passes every piece of the text through the renderer (marked and DOMPurify)', () => {
    const render = vi.fn(() => '<p>sanitized</p>');
    const root = document.createElement('div');
    const view = new LiveMarkdown(root, render);
    view.update('<b>raw</b>');
    view.update('<b>raw</b> <i>more');
    expect(root.innerHTML).toBe('<p>sanitized</p>');
    expect(render).toHaveBeenLastCalledWith('<b>raw</b> <i>more');
  });
});

describe('canAnchor and canAppend', () => {
  it('accepts ordinary prose at the end of a paragraph, list item or heading', () => {
    expect(canAnchor('Some words ', false)).toBe(true);
    expect(canAnchor('- an item', false)).toBe(true);
    expect(canAnchor('> 1. quoted item, ', false)).toBe(true);
    expect(canAnchor('## Heading', false)).toBe(true);
    expect(canAppend('Some words ', 'more words, and more.')).toBe(true);
    expect(canAppend('naïve ', 'café 日本')).toBe(true);
  });

  it('refuses what more text could turn into something else', () => {
    expect(canAnchor('code', true)).toBe(false); // in a fence
    expect(canAnchor('a\n1', false)).toBe(false); // may become "1. "
    expect(canAnchor('text *', false)).toBe(false);
    expect(canAnchor('| a | b', false)).toBe(false);
    expect(canAnchor('# Title #', false)).toBe(false);
    expect(canAnchor('    indented', false)).toBe(false);
    expect(canAnchor('see www', false)).toBe(true);
    expect(canAppend('see www', '.example')).toBe(false);
    expect(canAnchor('mail me@example', false)).toBe(false);
    expect(canAnchor('&amp', false)).toBe(false);
    expect(canAppend('text', 'new\nline')).toBe(false);
    expect(canAppend('text', ' *emph')).toBe(false);
    expect(canAppend('text', ' <b>')).toBe(false);
    expect(canAppend('text', '')).toBe(false);
  });
});
