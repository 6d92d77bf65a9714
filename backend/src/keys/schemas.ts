import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Usd = Nullable(Type.Number({ description: 'USD' }));

/** Printable ASCII without spaces: what an HTTP header can carry as a bearer token. */
export const SaveKeyBody = Type.Object(
  {
    key: Type.String({
      minLength: 8,
      maxLength: 256,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Your OpenRouter API key (sk-or-v1-…). Never returned by any route.',
    }),
  },
  { additionalProperties: false },
);

export const KeyCheckResult = Type.Object({
  status: Type.Union(
    [Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('unreachable')],
    {
      description:
        'valid: OpenRouter accepted it; invalid: OpenRouter refused it; unreachable: OpenRouter could not be asked (the key was kept)',
    },
  ),
  checkedAt: Type.String({ format: 'date-time' }),
  message: Nullable(Type.String({ description: 'Why it is invalid or unreachable' })),
  limitUsd: Nullable(
    Type.Number({
      description: "The key's credit limit on OpenRouter; null when unlimited or unknown",
    }),
  ),
  usageUsd: Usd,
  limitRemainingUsd: Usd,
  isFreeTier: Nullable(Type.Boolean()),
});
export type KeyCheckResult = Static<typeof KeyCheckResult>;

export const KeyView = Type.Object({
  lastFour: Type.String({
    description: 'The last four characters of the key: all that is ever shown',
  }),
  addedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  readable: Type.Boolean({
    description:
      'False when the server can no longer decrypt it (its SECRET_KEY changed): save the key again',
  }),
  lastCheck: Nullable(KeyCheckResult),
});
export type KeyView = Static<typeof KeyView>;

export const KeyState = Type.Object({
  key: Nullable(KeyView),
  serverKeyConfigured: Type.Boolean({
    description: 'Whether the server has its own key (OPENROUTER_API_KEY), used when you have none',
  }),
});
export type KeyState = Static<typeof KeyState>;
