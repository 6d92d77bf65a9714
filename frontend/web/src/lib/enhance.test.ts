import { afterEach, describe, expect, it, vi } from 'vitest';
import { enhance } from './enhance';
import { typeset } from './katex';
import { renderMarkdown, sanitizeMathMl } from './markdown';

function mount(markdown: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = renderMarkdown(markdown);
  document.body.append(div);
  return div;
}

afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe('code blocks', () => {
  it('get a copy button at once and highlighting once the chunk has loaded', async () => {
    const el = mount('```js\nconst answer = 42; // yes\n```');
    enhance(el);
    expect(el.querySelectorAll('.code-head .code-copy')).toHaveLength(1);
    await vi.waitFor(() =>
      expect(el.querySelector('code .hljs-keyword')?.textContent).toBe('const'),
    );
    expect(el.querySelector('code')?.textContent).toBe('const answer = 42; // yes\n');
    expect(el.querySelector('code .hljs-comment')?.textContent).toBe('// yes');
    // Enhancing again changes nothing.
    const before = el.innerHTML;
    enhance(el);
    expect(el.innerHTML).toBe(before);
  });

  it('copies the code as text', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const el = mount('```\n<b>not bold</b>\n```');
    enhance(el);
    const button = el.querySelector<HTMLButtonElement>('.code-copy');
    button?.click();
    expect(writeText).toHaveBeenCalledWith('<b>not bold</b>\n');
    await vi.waitFor(() => expect(button?.textContent).toBe('Copied'));
  });

  it('leaves code in an unknown language plain', async () => {
    const el = mount('```klingon\nqapla\n```\n\n```js\nlet x\n```');
    enhance(el);
    await vi.waitFor(() => expect(el.querySelector('.language-js .hljs-keyword')).not.toBeNull());
    expect(el.querySelector('.language-klingon')?.innerHTML).toBe('qapla\n');
  });
});

describe('math', () => {
  it('is typeset as MathML, inline and displayed', async () => {
    const el = mount('Inline $\\frac{a}{b}$.\n\n$$\nx^2\n$$');
    enhance(el);
    await vi.waitFor(() => expect(el.querySelectorAll('math')).toHaveLength(2));
    expect(el.querySelector('.math-inline math mfrac')).not.toBeNull();
    expect(el.querySelector('.math-display math')?.getAttribute('display')).toBe('block');
    expect(el.querySelector('annotation')).toBeNull();
  });

  it('renders hostile TeX harmlessly', () => {
    const hostile = [
      '\\href{javascript:alert(1)}{x}',
      '\\url{javascript:alert(1)}',
      '\\htmlData{foo=bar}{x}',
      '\\htmlStyle{color:red}{x}',
      '\\htmlId{x}{y}',
      '\\includegraphics{https://evil.example/x.png}',
    ];
    for (const tex of hostile) {
      const html = typeset(tex, false) ?? '';
      const div = document.createElement('div');
      div.innerHTML = html;
      for (const node of div.querySelectorAll('*')) {
        const names = Array.from(node.attributes, (a) => a.name);
        expect(
          names.filter((n) => /^(href|src|style|id|data-|on)/.test(n)),
          tex,
        ).toEqual([]);
      }
      expect(div.querySelector('a, img, [href]'), tex).toBeNull();
    }
  });

  it('caps sizes and macro expansion', () => {
    const rule = typeset('\\rule{100000em}{100000em}', false) ?? '';
    expect(rule).toContain('width="10em"');
    expect(rule).not.toContain('100000');
    expect(typeset('\\def\\x{\\x\\x}\\x', false)).toBeNull();
    const ten = (name: string) => `\\${name}`.repeat(10);
    const tenfold = `\\def\\a{${ten('b')}}\\def\\b{${ten('c')}}\\def\\c{${ten('d')}}\\def\\d{x}\\a`;
    expect(typeset(tenfold, false)).toBeNull();
    expect(typeset('\\def\\d{x}\\d\\d', false)).not.toBeNull();
  });

  it('marks a formula that cannot be typeset and keeps its source', async () => {
    const el = mount('Broken $\\frac{1$ and bomb $\\def\\x{\\x\\x}\\x$');
    enhance(el);
    await vi.waitFor(() => expect(el.querySelectorAll('.math-error')).toHaveLength(2));
    expect(Array.from(el.querySelectorAll('.math-error'), (e) => e.textContent)).toEqual([
      '\\frac{1',
      '\\def\\x{\\x\\x}\\x',
    ]);
    expect(el.querySelector('math')).toBeNull();
  });
});

describe('sanitizeMathMl', () => {
  it('keeps presentation MathML only', () => {
    const out = sanitizeMathMl(
      '<span class="katex evil"><math><semantics><mrow><mi href="javascript:x" style="color:red" id="i">x</mi>' +
        '<mtext><img src=x onerror=alert(1)><a href="https://x.example">y</a></mtext><maction actiontype="toggle">z</maction></mrow>' +
        '<annotation encoding="application/x-tex">secret</annotation></semantics></math></span>',
    );
    expect(out).not.toMatch(/href|style|id=|img|onerror|<a|maction|annotation|secret|evil/);
    expect(out).toContain('<mi>x</mi>');
  });
});
