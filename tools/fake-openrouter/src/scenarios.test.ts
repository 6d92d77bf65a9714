import { describe, expect, it } from 'vitest';

import {
  answerPieces,
  fakeTitle,
  findDirective,
  isTitleRequest,
  makePlan,
  parseOptions,
  reasoningPieces,
  selectScenario,
} from './scenarios.js';

describe('parseOptions', () => {
  it('reads comma- or space-separated key=value pairs', () => {
    expect(parseOptions('chunks=50,delay=10,status=429,after=3')).toEqual({
      chunks: 50,
      delay: 10,
      status: 429,
      after: 3,
    });
    expect(parseOptions('chunks=5 delay=0')).toEqual({ chunks: 5, delay: 0 });
    expect(parseOptions('headerwait=100 retryafter=30 failfirst=2')).toEqual({
      headerwait: 100,
      retryafter: 30,
      failfirst: 2,
    });
  });

  it('ignores unknown keys, non-numbers and out-of-range values', () => {
    expect(parseOptions('bogus=1,chunks=abc,status=42,chunks=0,delay=-1,wait=7')).toEqual({
      wait: 7,
    });
    expect(parseOptions('')).toEqual({});
  });
});

describe('findDirective', () => {
  it('finds a directive anywhere in the text', () => {
    expect(findDirective('hello [fake chunks=50 delay=10] world')).toEqual({
      chunks: 50,
      delay: 10,
    });
    expect(findDirective('[FAKE status=429]')).toEqual({ status: 429 });
    expect(findDirective('[fake]')).toEqual({});
  });

  it('returns null without a directive', () => {
    expect(findDirective('no directive [fake chunks=x]')).toBeNull();
    expect(findDirective('plain text')).toBeNull();
  });
});

describe('selectScenario', () => {
  it('prefers the header, then fake/<scenario>, else echo', () => {
    expect(selectScenario('slow', 'fake/drop')).toBe('slow');
    expect(selectScenario(undefined, 'fake/drop')).toBe('drop');
    expect(selectScenario(undefined, 'fake/midstream-error')).toBe('midstream-error');
    expect(selectScenario('nonsense', 'fake/length')).toBe('length');
    expect(selectScenario(undefined, 'fake/unknown')).toBe('echo');
    for (const name of ['stall', 'reset', 'malformed', 'no-done']) {
      expect(selectScenario(undefined, `fake/${name}`)).toBe(name);
    }
    expect(selectScenario(undefined, 'openai/gpt-4o-mini')).toBe('echo');
  });
});

describe('makePlan', () => {
  it('has the documented defaults', () => {
    const echo = makePlan('echo', {});
    expect(echo.chunks).toBe(8);
    for (let i = 0; i < 20; i++) expect(echo.delayFor(i)).toBeLessThanOrEqual(5);
    const slow = makePlan('slow', {});
    expect([slow.chunks, slow.delayFor(3)]).toEqual([40, 50]);
    expect(makePlan('reasoning', {}).reasoningChunks).toBe(4);
    expect(makePlan('echo', {}).reasoningChunks).toBe(0);
    expect(makePlan('error', {}).status).toBe(500);
    expect(makePlan('drop', {}).after).toBe(3);
    expect(makePlan('slow', { chunks: 5, delay: 1 }).delayFor(0)).toBe(1);
    expect(makePlan('echo', {})).toMatchObject({ headerWait: 0, retryAfter: null, failFirst: 0 });
    expect(parseOptions('failfirst=0 retryafter=-1')).toEqual({});
  });
});

describe('answerPieces', () => {
  it('echoes the message and pads with filler to exactly `count` pieces', () => {
    const pieces = answerPieces('hello there', 8);
    expect(pieces).toHaveLength(8);
    expect(pieces.join('')).toMatch(/^You said: hello there\. \S/);
    expect(answerPieces('hello there', 8)).toEqual(pieces);
  });

  it('groups words when the message is longer than the chunk count', () => {
    const message = 'one two three four five six seven eight nine ten';
    const pieces = answerPieces(message, 3);
    expect(pieces).toHaveLength(3);
    expect(pieces.join('')).toBe(`You said: ${message}. `);
  });

  it('handles an empty message and a single chunk', () => {
    expect(answerPieces('', 1)).toEqual(['You said: (nothing). ']);
  });

  it('makes reasoning pieces', () => {
    const pieces = reasoningPieces('why?', 6);
    expect(pieces).toHaveLength(6);
    expect(pieces.join('')).toContain('"why?"');
  });
});

describe('titles', () => {
  it('recognizes a title request by its first, system, message', () => {
    expect(isTitleRequest([{ role: 'system', text: 'Write the title of this chat.' }])).toBe(true);
    expect(isTitleRequest([{ role: 'system', text: 'Be brief.' }])).toBe(false);
    expect(isTitleRequest([{ role: 'user', text: 'Give me a title' }])).toBe(false);
    expect(isTitleRequest([])).toBe(false);
  });

  it('makes a title of the first five words, capitalized, without punctuation or directives', () => {
    expect(fakeTitle('Plan a trip to Lisbon!')).toBe('Plan A Trip To Lisbon');
    expect(fakeTitle('[fake chunks=3] what IS the ÉTÉ weather like today, really?')).toBe(
      'What Is The Été Weather',
    );
    expect(fakeTitle('?!')).toBe('Untitled Conversation');
  });
});
