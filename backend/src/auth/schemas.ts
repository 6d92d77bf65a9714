import { Type } from 'typebox';

export { MAX_PASSWORD, MIN_PASSWORD } from './password-policy.js';

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')]);

export const User = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  createdAt: Type.String({ format: 'date-time' }),
});

export const Username = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9._@+-]+$',
  description: 'Letters, digits and . _ @ + -; unique regardless of case',
});

/**
 * A password as sent. The schema only bounds the body; what a new password must be (8 to
 * 256 characters, not a common one) is the password policy's typed `password.*` errors.
 */
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

export const Credentials = Type.Object(
  { username: Username, password: Password },
  { additionalProperties: false },
);

export const AuthState = Type.Object({
  needsSetup: Type.Boolean(),
  registrationOpen: Type.Boolean({ description: 'Whether POST /api/auth/register is open' }),
});
export const UserResponse = Type.Object({ user: User });

export const ChangePasswordBody = Type.Object(
  { currentPassword: Password, newPassword: Password },
  { additionalProperties: false },
);
export const SessionsRevoked = Type.Object({
  sessionsRevoked: Type.Integer({ description: 'How many other sessions were signed out' }),
});

export const Session = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time', description: 'Updated at most hourly' }),
  expiresAt: Type.String({ format: 'date-time' }),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of this request ("this device")' }),
});
export const SessionList = Type.Object({ sessions: Type.Array(Session) });
export const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
