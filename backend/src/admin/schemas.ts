import { Type, type Static } from 'typebox';
import { Password, Role, Username } from '../auth/schemas.js';
import { ModelId } from '../conversations/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const AdminUser = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  createdAt: Timestamp,
  disabled: Type.Boolean(),
  disabledAt: Nullable(Timestamp),
  lastSeenAt: Nullable(Timestamp),
  sessions: Type.Integer({ description: 'Unexpired sessions' }),
});
export type AdminUser = Static<typeof AdminUser>;

export const UserList = Type.Object({ users: Type.Array(AdminUser) });

export const CreateUserBody = Type.Object(
  { username: Username, password: Password, role: Type.Optional(Role) },
  { additionalProperties: false },
);

export const UpdateUserBody = Type.Object(
  { role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);

export const ResetPasswordBody = Type.Object(
  { password: Password },
  { additionalProperties: false },
);

export const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Settings = Type.Object({
  registrationOpen: Type.Boolean({
    description: 'Whether anyone may create an account with POST /api/auth/register',
  }),
  allowedModels: Nullable(
    Type.Array(Type.String(), {
      description: 'The models users may use; null: every model. Admins may use every model.',
    }),
  ),
});

export const UpdateSettingsBody = Type.Object(
  {
    registrationOpen: Type.Optional(Type.Boolean()),
    allowedModels: Type.Optional(
      Nullable(Type.Array(ModelId, { maxItems: 1000, uniqueItems: true })),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
