import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';
import { MAX_TEX_LENGTH } from './mathSyntax';

function dom(markdown: string): HTMLElement {
  const div = document.createElement('div');
  div.innerHTML = renderMarkdown(markdown);
  return div;
}

const texOf = (el: HTMLElement, selector: string) =>
  Array.from(el.querySelectorAll(selector), (m) => m.textContent);

describe('math delimiters in Markdown', () => {
  it('marks $…$ and \\(…\\) inline, $$…$$ and \\[…\\] displayed', () => {
    const el = dom(
      'Inline $x^2$ and \\(a+b\\), then $$\\sum_i i$$ in a line.\n\n$$\n\\frac{1}{2}\n$$\n\n\\[ \\int f \\]',
    );
    expect(texOf(el, '.math-inline')).toEqual(['x^2', 'a+b']);
    expect(texOf(el, 'span.math-display')).toEqual(['\\sum_i i']);
    expect(texOf(el, 'div.math-display')).toEqual(['\\frac{1}{2}', '\\int f']);
  });

  it('leaves prices, escaped dollars and spaced dollars as text', () => {
    for (const text of [
      'It costs $5 and $10.',
      'From $5 to $6, and $7',
      'Escaped \\$x\\$ here',
      'A $ x$ and $x $ pair',
      'Followed by a digit $x$5',
    ]) {
      const el = dom(text);
      expect(el.querySelector('.math-inline, .math-display'), text).toBeNull();
    }
  });

  it('ends an inline formula on a control word', () => {
    expect(texOf(dom('A $\\def\\x{\\x\\x}\\x$ bomb'), '.math-inline')).toEqual([
      '\\def\\x{\\x\\x}\\x',
    ]);
  });

  it('never looks for math inside code', () => {
    const el = dom('`$x$` and\n\n```\n$$y$$\n```');
    expect(el.querySelector('.math-inline, .math-display')).toBeNull();
    expect(el.querySelector('code')?.textContent).toBe('$x$');
  });

  it('keeps the TeX as escaped text, so markup in it is never HTML', () => {
    const el = dom('$<img src=x onerror=alert(1)>$ and $$</span><script>alert(1)</script>$$');
    expect(el.querySelector('img, script')).toBeNull();
    expect(texOf(el, '.math-inline')).toEqual(['<img src=x onerror=alert(1)>']);
  });

  it('leaves too long a formula as text', () => {
    const long = `$${'x'.repeat(MAX_TEX_LENGTH + 1)}$`;
    expect(dom(long).querySelector('.math-inline')).toBeNull();
  });
});
