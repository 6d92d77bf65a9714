import { describe, expect, it } from 'vitest';
import { fileNameOf } from './transfer';

describe('fileNameOf', () => {
  it('prefers the UTF-8 name, then the plain one, then the fallback', () => {
    expect(
      fileNameOf(
        `attachment; filename="Cafe.md"; filename*=UTF-8''Caf%C3%A9.md`,
        'conversation.md',
      ),
    ).toBe('Café.md');
    expect(fileNameOf('attachment; filename="Notes.json"', 'x.json')).toBe('Notes.json');
    expect(fileNameOf(null, 'x.json')).toBe('x.json');
    expect(fileNameOf('attachment', 'x.json')).toBe('x.json');
    // A broken percent-encoding falls back to the plain name.
    expect(fileNameOf(`attachment; filename="a.md"; filename*=UTF-8''%E0%A4%A.md`, 'x')).toBe(
      'a.md',
    );
  });
});
