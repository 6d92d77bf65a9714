import { Type, type Static, type TProperties } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const day = (description: string) =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description });
const Day = day('A UTC day, YYYY-MM-DD');

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** The range and whose usage; every report takes these. */
const rangeAndScope = {
  from: Type.Optional(day('First UTC day of the range (YYYY-MM-DD); default: 29 days before `to`')),
  to: Type.Optional(day('Last UTC day of the range, included (YYYY-MM-DD); default: today')),
  user: Type.Optional(
    Type.String({
      pattern: `^(?:all|${UUID})$`,
      description:
        'Admins only: a user id, or `all` for the whole server. Absent (or your own id): your usage',
    }),
  ),
};

export const UsageQuery = Type.Object(rangeAndScope, { additionalProperties: false });
export type UsageQuery = Static<typeof UsageQuery>;

export const ConversationsQuery = Type.Object(
  {
    ...rangeAndScope,
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  },
  { additionalProperties: false },
);
export type ConversationsQuery = Static<typeof ConversationsQuery>;

export const REPORTS = [
  'daily',
  'kinds',
  'latency',
  'conversations',
  'errors',
  'prices',
  'users',
  'generations',
] as const;

export const ExportQuery = Type.Object(
  {
    ...rangeAndScope,
    report: Type.Union(
      REPORTS.map((r) => Type.Literal(r)),
      {
        description:
          'Which rows: a chart\u2019s table (daily, kinds, latency, conversations, errors, prices; users for the whole server, admins only) or every generation row of the range (generations)',
      },
    ),
    format: Type.Union([Type.Literal('csv'), Type.Literal('parquet')]),
    limit: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 10,
      description: 'conversations only: how many',
    }),
  },
  { additionalProperties: false },
);
export type ExportQuery = Static<typeof ExportQuery>;

const Scope = Type.Object({
  userId: Nullable(Type.String({ description: 'null: the whole server' })),
  username: Nullable(Type.String()),
  from: Day,
  to: Day,
});

const Money = Type.Number({ description: 'USD' });

/** The token counts every total and daily row carries. */
const tokenCounts = {
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  reasoningTokens: Type.Integer(),
  cachedTokens: Type.Integer(),
};

/** A report over one scope: the scope it covers and its rows, each of `row`'s fields. */
const scopedRows = <T extends TProperties>(row: T) =>
  Type.Object({ scope: Scope, rows: Type.Array(Type.Object(row)) });

export const UsageSummary = Type.Object({
  scope: Scope,
  totals: Type.Object({
    generations: Type.Integer(),
    ...tokenCounts,
    costUsd: Money,
    estimatedCostUsd: Type.Number({
      description: 'The part of costUsd that is an estimate (figures OpenRouter has not given)',
    }),
    errors: Type.Integer(),
  }),
  today: Type.Object({ day: Day, costUsd: Money, tokens: Type.Integer() }),
  month: Type.Object({
    month: Type.String({ pattern: '^\\d{4}-\\d{2}$' }),
    costUsd: Money,
    tokens: Type.Integer(),
  }),
  budget: Nullable(
    Type.Object(
      {
        limitUsd: Nullable(Money),
        spentUsd: Money,
        leftUsd: Nullable(Type.Number({ description: 'What is left this month; null: no limit' })),
        resetsAt: Type.String({ format: 'date-time' }),
      },
      { description: "The user's monthly budget; null for the whole server" },
    ),
  ),
  kinds: Type.Array(
    Type.Object({
      kind: Type.String({
        description: 'answer, regenerate, continue, compare or title: what the call was for',
      }),
      generations: Type.Integer(),
      tokens: Type.Integer(),
      costUsd: Money,
    }),
  ),
});
export type UsageSummary = Static<typeof UsageSummary>;

export const DailyUsage = scopedRows({
  day: Day,
  model: Type.String(),
  generations: Type.Integer(),
  ...tokenCounts,
  costUsd: Money,
  estimatedCostUsd: Money,
});
export type DailyUsage = Static<typeof DailyUsage>;

export const LatencyUsage = scopedRows({
  model: Type.String(),
  provider: Type.String({ description: 'Empty when no provider was named' }),
  generations: Type.Integer(),
  ttftP50Ms: Type.Number(),
  ttftP90Ms: Type.Number(),
  ttftP99Ms: Type.Number(),
  tpsP50: Nullable(Type.Number({ description: 'Output tokens per second' })),
  tpsP90: Nullable(Type.Number()),
  tpsP99: Nullable(Type.Number()),
});
export type LatencyUsage = Static<typeof LatencyUsage>;

export const ConversationsUsage = scopedRows({
  conversationId: Type.String(),
  title: Nullable(Type.String({ description: 'null: the conversation was deleted' })),
  username: Nullable(Type.String()),
  generations: Type.Integer(),
  tokens: Type.Integer(),
  costUsd: Money,
});
export type ConversationsUsage = Static<typeof ConversationsUsage>;

export const ErrorsUsage = scopedRows({
  day: Day,
  model: Type.String(),
  errorCode: Type.String(),
  generations: Type.Integer(),
});
export type ErrorsUsage = Static<typeof ErrorsUsage>;

export const PricesUsage = scopedRows({
  day: Day,
  model: Type.String(),
  generations: Type.Integer(),
  chargedUsd: Type.Number({ description: 'What OpenRouter charged (estimates left out)' }),
  listPriceUsd: Type.Number({
    description: "The same tokens at the catalog's list price of that day",
  }),
  differenceUsd: Type.Number(),
  unpriced: Type.Integer({ description: 'Generations without a known catalog price' }),
});
export type PricesUsage = Static<typeof PricesUsage>;

export const UsersUsage = Type.Object({
  from: Day,
  to: Day,
  rows: Type.Array(
    Type.Object({
      userId: Type.String(),
      username: Nullable(Type.String()),
      generations: Type.Integer(),
      tokens: Type.Integer(),
      costUsd: Money,
      errors: Type.Integer(),
    }),
  ),
  users: Type.Array(Type.Object({ id: Type.String(), username: Type.String() }), {
    description: 'Every user, for choosing whose usage to see',
  }),
});
export type UsersUsage = Static<typeof UsersUsage>;
