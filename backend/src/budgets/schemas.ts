import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const Month = Type.String({
  pattern: '^\\d{4}-\\d{2}$',
  description: 'The calendar month (UTC), e.g. 2026-12',
});
const ResetsAt = Type.String({
  format: 'date-time',
  description: 'When the month ends and the spend starts again from zero (00:00 UTC on the 1st)',
});
const LimitUsd = Nullable(
  Type.Number({ minimum: 0, description: 'Monthly spending limit in USD; null is unlimited' }),
);

export const MyBudget = Type.Object({
  month: Month,
  spentUsd: Type.Number({ description: 'What your answers cost this month, in USD' }),
  limitUsd: LimitUsd,
  source: Type.Union([Type.Literal('user'), Type.Literal('default')], {
    description: "user: set for you by an admin; default: the workspace's default",
  }),
  resetsAt: ResetsAt,
});
export type MyBudget = Static<typeof MyBudget>;

export const AdminBudgets = Type.Object({
  month: Month,
  resetsAt: ResetsAt,
  defaultLimitUsd: LimitUsd,
  users: Type.Array(
    Type.Object({
      userId: Type.String(),
      username: Type.String(),
      role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
      ownLimit: Type.Boolean({
        description: 'Whether the user has a limit of their own (else the default)',
      }),
      limitUsd: LimitUsd,
      spentUsd: Type.Number(),
    }),
  ),
});
export type AdminBudgets = Static<typeof AdminBudgets>;

export const SetLimitBody = Type.Object(
  {
    monthlyLimitUsd: Nullable(
      Type.Number({
        minimum: 0,
        maximum: 1_000_000,
        description: 'USD per calendar month (UTC); null is unlimited',
      }),
    ),
  },
  { additionalProperties: false },
);

export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
