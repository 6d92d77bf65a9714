import { describe, expect, it } from 'vitest';
import { GIF, JPEG, PDF, PNG, SVG, WEBP } from './fixtures.js';
import { isTextName, sniff, Sniffer } from './sniff.js';

describe('sniff: the type comes from the bytes', () => {
  it('knows images and PDFs by their signature, whatever their name says', () => {
    expect(sniff('photo.png', PNG)).toEqual({ kind: 'image', mediaType: 'image/png' });
    expect(sniff('notes.txt', PNG)).toEqual({ kind: 'image', mediaType: 'image/png' });
    expect(sniff('x', JPEG)).toEqual({ kind: 'image', mediaType: 'image/jpeg' });
    expect(sniff('x', GIF)).toEqual({ kind: 'image', mediaType: 'image/gif' });
    expect(sniff('x', WEBP)).toEqual({ kind: 'image', mediaType: 'image/webp' });
    expect(sniff('report.exe', PDF)).toEqual({ kind: 'pdf', mediaType: 'application/pdf' });
  });

  it('takes UTF-8 text without NUL under a text name, as text/plain', () => {
    const text = { kind: 'text', mediaType: 'text/plain' };
    expect(sniff('notes.md', Buffer.from('# Café ☕\n'))).toEqual(text);
    expect(sniff('main.PY', Buffer.from('print(1)\n'))).toEqual(text);
    expect(sniff('Makefile', Buffer.from('all:\n\ttrue\n'))).toEqual(text);
    expect(sniff('page.html', Buffer.from('<script>alert(1)</script>'))).toEqual(text);
    expect(sniff('bom.csv', Buffer.from('\ufeffa,b\n1,2\n'))).toEqual(text);
  });

  it('refuses the rest: SVG, unknown names, binary, NUL, invalid or cut UTF-8', () => {
    expect(sniff('drawing.svg', SVG)).toBeNull();
    expect(sniff('image.png', Buffer.from('not really a png'))).toBeNull();
    expect(sniff('program.exe', Buffer.from('MZ\x90\x00', 'latin1'))).toBeNull();
    expect(sniff('utf16.txt', Buffer.from('hi', 'utf16le'))).toBeNull();
    expect(sniff('latin1.txt', Buffer.from('caf\xe9', 'latin1'))).toBeNull();
    expect(sniff('cut.txt', Buffer.from('☕').subarray(0, 2))).toBeNull();
    expect(sniff('truncated.png', PNG.subarray(0, 4))).toBeNull();
  });

  it('follows a file pushed in pieces, a character split between two of them', () => {
    const bytes = Buffer.from('naïve ☕ text\n');
    const sniffer = new Sniffer();
    for (let i = 0; i < bytes.length; i++) sniffer.push(bytes.subarray(i, i + 1));
    expect(sniffer.result('a.txt')).toEqual({ kind: 'text', mediaType: 'text/plain' });
    const image = new Sniffer();
    for (let i = 0; i < PNG.length; i += 3) image.push(PNG.subarray(i, i + 3));
    expect(image.result('a')).toEqual({ kind: 'image', mediaType: 'image/png' });
  });

  it('text names: by extension or a known whole name, never svg', () => {
    expect(isTextName('a.ts')).toBe(true);
    expect(isTextName('Dockerfile')).toBe(true);
    expect(isTextName('a.svg')).toBe(false);
    expect(isTextName('noextension')).toBe(false);
    expect(isTextName('a.docx')).toBe(false);
  });
});
