import { Type } from 'typebox';

/** Password bounds, shared with the service for callers that bypass the schema (ops). */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@+-]+$' }),
    password: Type.String({ minLength: MIN_PASSWORD, maxLength: MAX_PASSWORD }),
  },
  { additionalProperties: false },
);

export const AuthState = Type.Object({ needsSetup: Type.Boolean() });
export const UserResponse = Type.Object({ user: User });
