import { Type, type Static } from 'typebox';

export const SearchQuery = Type.Object(
  {
    q: Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '\\S',
      description: 'Text to find, case-insensitively, in titles and message text (not a pattern).',
    }),
  },
  { additionalProperties: false },
);

/** A piece of a snippet: the snippet is their texts joined; `match` marks the found text. */
export const SnippetSegment = Type.Object({ text: Type.String(), match: Type.Boolean() });
export type SnippetSegment = Static<typeof SnippetSegment>;

export const SearchHit = Type.Object({
  conversationId: Type.String(),
  conversationTitle: Type.String(),
  archived: Type.Boolean(),
  /** The message found; null when the title matched. */
  messageId: Type.Union([Type.String(), Type.Null()]),
  role: Type.Union([
    Type.Literal('user'),
    Type.Literal('assistant'),
    Type.Literal('system'),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  snippet: Type.Array(SnippetSegment, {
    description:
      'The text around the match, as plain-text segments (never HTML); `match: true` marks each occurrence.',
  }),
});
export type SearchHit = Static<typeof SearchHit>;

export const SearchResults = Type.Object({
  results: Type.Array(SearchHit, {
    description:
      'Conversations whose title matches (up to 20, newest activity first), then messages (up to 50, newest first).',
  }),
});
