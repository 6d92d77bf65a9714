import { describe, expect, it } from 'vitest';
import { urlCitations } from './chunks.js';

describe('urlCitations (url_citation annotations: web search results)', () => {
  it('keeps absolute http(s) URLs with their titles', () => {
    expect(
      urlCitations([
        {
          type: 'url_citation',
          url_citation: {
            url: 'https://example.com/a?q=1',
            title: ' A page ',
            content: 'excerpt',
            start_index: 0,
            end_index: 5,
          },
        },
        { type: 'url_citation', url_citation: { url: 'http://example.org' } },
      ]),
    ).toEqual([
      { url: 'https://example.com/a?q=1', title: 'A page' },
      { url: 'http://example.org/', title: null },
    ]);
  });

  it('drops what a link must never be, and anything that is not a citation', () => {
    expect(
      urlCitations([
        { type: 'url_citation', url_citation: { url: 'javascript:alert(1)', title: 'x' } },
        { type: 'url_citation', url_citation: { url: 'data:text/html,<script>', title: 'x' } },
        { type: 'url_citation', url_citation: { url: '/relative', title: 'x' } },
        { type: 'url_citation', url_citation: { url: `https://e.com/${'a'.repeat(3000)}` } },
        { type: 'file', file: { url: 'https://example.com' } },
        'https://example.com',
        null,
      ]),
    ).toEqual([]);
    expect(urlCitations(undefined)).toEqual([]);
    expect(urlCitations({ url: 'https://example.com' })).toEqual([]);
  });
});
