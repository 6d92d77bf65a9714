import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const AuditEntry = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  action: Type.String({ description: 'e.g. auth.sign_in, user.disabled, settings.allowed_models' }),
  actorId: Nullable(Type.String()),
  actorUsername: Nullable(Type.String({ description: 'null once the user is deleted' })),
  targetUserId: Nullable(Type.String()),
  targetUsername: Nullable(Type.String()),
  detail: Nullable(
    Type.Record(Type.String(), Type.Unknown(), { description: 'What changed (never a secret)' }),
  ),
  ip: Nullable(Type.String({ description: 'The client address (request.ip)' })),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  nextCursor: Nullable(Type.String()),
});
export type AuditPage = Static<typeof AuditPage>;

export const ListAuditQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 300 })),
  },
  { additionalProperties: false },
);
