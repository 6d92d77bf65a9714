import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';
import { scanBlocks, splitBlocks } from './blocks';

describe('splitBlocks', () => {
  it('cuts at blank lines between paragraphs, headings and quotes', () => {
    const text = '# Title\n\nFirst paragraph\nstill first.\n\n> quoted\n\nLast, unfinished';
    expect(splitBlocks(text)).toEqual({
      blocks: ['# Title\n\n', 'First paragraph\nstill first.\n\n', '> quoted\n\n'],
      tail: 'Last, unfinished',
    });
  });

  it('keeps blank lines inside a fenced code block', () => {
    const text = 'Code:\n\n```py\ndef f():\n\n    return 1\n\nx = 2\n```\n\nAfter.';
    expect(splitBlocks(text)).toEqual({
      blocks: ['Code:\n\n', '```py\ndef f():\n\n    return 1\n\nx = 2\n```\n\n'],
      tail: 'After.',
    });
  });

  it('keeps a tilde fence, and a longer closing fence, and ignores a shorter one', () => {
    const text = '~~~\na\n\n```\n\nb\n~~~~\n\n````\nc\n\n```\n\nd\n````\n\ne';
    expect(splitBlocks(text).blocks).toEqual([
      '~~~\na\n\n```\n\nb\n~~~~\n\n',
      '````\nc\n\n```\n\nd\n````\n\n',
    ]);
  });

  it('never cuts inside an unterminated fence', () => {
    const text = 'Intro\n\n```\nfirst\n\nsecond\n\nthird';
    const scan = scanBlocks(text);
    expect(scan.ends).toEqual([7]);
    expect(scan.open).toBe(true);
    expect(splitBlocks(text).tail).toBe('```\nfirst\n\nsecond\n\nthird');
  });

  it('reports an open fence on the unfinished last line, and a closed one', () => {
    expect(scanBlocks('a\n\n```js').open).toBe(true);
    expect(scanBlocks('```js\nx\n```\n').open).toBe(false);
    // "```" not yet followed by its newline may still become "``` x", which does not close.
    expect(scanBlocks('```js\nx\n```').open).toBe(true);
    // Inline code, not a fence.
    expect(scanBlocks('```a` b').open).toBe(false);
  });

  it('keeps a loose list whole: items separated by blank lines, and their indented continuations', () => {
    const text =
      '- one\n\n- two\n\n  more of two\n\n1. a\n\n2. b\n\n10) c\n\n* x\n+ y\n\nAfter the lists';
    expect(splitBlocks(text)).toEqual({
      blocks: ['- one\n\n- two\n\n  more of two\n\n1. a\n\n2. b\n\n10) c\n\n* x\n+ y\n\n'],
      tail: 'After the lists',
    });
  });

  it('keeps indented code whole across blank lines', () => {
    const text = 'Para\n\n    code 1\n\n    code 2\n\nNext';
    expect(splitBlocks(text)).toEqual({
      blocks: ['Para\n\n    code 1\n\n    code 2\n\n'],
      tail: 'Next',
    });
  });

  it('keeps HTML blocks that run across blank lines (comments, <pre>) whole', () => {
    const text = '<!-- a\n\nb -->\n\n<pre>\n\nx\n\n</pre>\n\n<!-- one line -->\n\nEnd';
    expect(splitBlocks(text).blocks).toEqual([
      '<!-- a\n\nb -->\n\n',
      '<pre>\n\nx\n\n</pre>\n\n',
      '<!-- one line -->\n\n',
    ]);
  });

  it('decides on a line still being written only once it cannot become a list item', () => {
    expect(splitBlocks('a\n\n1').blocks).toEqual([]);
    expect(splitBlocks('a\n\n12').blocks).toEqual([]);
    expect(splitBlocks('a\n\n1.').blocks).toEqual([]);
    expect(splitBlocks('a\n\n-').blocks).toEqual([]);
    expect(splitBlocks('a\n\n').blocks).toEqual([]);
    expect(splitBlocks('a\n\n1990 was').blocks).toEqual(['a\n\n']);
    expect(splitBlocks('a\n\nB').blocks).toEqual(['a\n\n']);
    expect(splitBlocks('a\n\n#').blocks).toEqual(['a\n\n']);
  });

  it('handles CRLF line ends', () => {
    expect(splitBlocks('a\r\n\r\nb\r\n\r\nc').blocks).toEqual(['a\r\n\r\n', 'b\r\n\r\n']);
  });

  it('reports link reference definitions, which reach across blocks', () => {
    expect(scanBlocks('See [x].\n\n[x]: https://example.test').definition).toBe(true);
    expect(scanBlocks('- [x]: https://example.test').definition).toBe(true);
    expect(scanBlocks('```\n[x]: in code\n```').definition).toBe(false);
    expect(scanBlocks('A [link](https://example.test).').definition).toBe(false);
  });

  it('resumes from a block start with the same result', () => {
    const text = 'a\n\n```\nx\n\ny\n```\n\n- l\n\n- m\n\nb\n\nc';
    const whole = scanBlocks(text);
    for (const end of whole.ends) {
      expect(scanBlocks(text, end).ends).toEqual(whole.ends.filter((e) => e > end));
    }
  });

  it('renders each complete block as the whole text renders it', () => {
    const text = [
      '# Heading',
      'Some *emphasis* and `code`.',
      '```ts\nconst a = 1;\n\nconst b = 2;\n```',
      '- tight\n- list',
      '1. loose\n\n2. list\n\n   continued',
      '> quote\n> more',
      '| a | b |\n|---|---|\n| 1 | 2 |',
      '    indented\n\n    code',
      '---',
      'Setext\n======',
      'Last.',
    ].join('\n\n');
    const { blocks, tail } = splitBlocks(text);
    expect(blocks.length).toBeGreaterThan(5);
    expect([...blocks, tail].map((b) => renderMarkdown(b)).join('')).toBe(renderMarkdown(text));
  });
});
