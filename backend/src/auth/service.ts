import { AppError } from '../errors.js';
import type { Database } from '../db/connection.js';
import { createAuthRepo, type SessionUser } from './repo.js';
import { dummyHashPromise, hashPassword, verifyPassword } from './password.js';
import { createSessionCache } from './session-cache.js';
import { hashToken, newSessionToken } from './tokens.js';
import { MAX_PASSWORD, MIN_PASSWORD } from './schemas.js';

const SESSION_DAYS = 30;
/** Sliding expiry is written at most this often: each write costs an fsync. */
const TOUCH_INTERVAL_MS = 60 * 60 * 1000;

export interface AuthUser {
  id: string;
  username: string;
  role: 'admin' | 'user';
  createdAt: string;
}

export interface SignedIn {
  user: AuthUser;
  token: string;
}

export function createAuthService(db: Database, now: () => Date = () => new Date()) {
  const repo = createAuthRepo(db);
  const cache = createSessionCache();
  let dummyHash: Promise<string> | undefined;

  async function startSession(user: AuthUser, userAgent: string | null): Promise<SignedIn> {
    const token = newSessionToken();
    const at = now();
    await repo.insertSession({
      tokenHash: hashToken(token),
      userId: user.id,
      now: at.toISOString(),
      expiresAt: expiry(at),
      userAgent: userAgent?.slice(0, 300) ?? null,
    });
    return { user, token };
  }

  return {
    async needsSetup(): Promise<boolean> {
      return (await repo.countUsers()) === 0;
    },

    /** Creates the first account, an admin; refused once any user exists. */
    async setup(username: string, password: string, userAgent: string | null): Promise<SignedIn> {
      const passwordHash = await hashPassword(password);
      const user: AuthUser = {
        id: crypto.randomUUID(),
        username,
        role: 'admin',
        createdAt: now().toISOString(),
      };
      await db.transaction(async (tx) => {
        const txRepo = createAuthRepo(tx);
        if ((await txRepo.countUsers()) > 0) throw new AppError('auth.setup_done');
        await txRepo.insertUser({ ...user, passwordHash, now: user.createdAt });
      });
      return startSession(user, userAgent);
    },

    async login(username: string, password: string, userAgent: string | null): Promise<SignedIn> {
      const row = await repo.findUserByUsername(username);
      if (!row) {
        // Verify against a real hash anyway, so an unknown user costs the same time.
        dummyHash ??= dummyHashPromise();
        await verifyPassword(await dummyHash, password);
        throw new AppError('auth.invalid_credentials');
      }
      if (!(await verifyPassword(row.password_hash, password))) {
        throw new AppError('auth.invalid_credentials');
      }
      const user = {
        id: row.id,
        username: row.username,
        role: row.role,
        createdAt: row.created_at,
      };
      return startSession(user, userAgent);
    },

    /**
     * Sets a new password (an operator's recovery tool, not a user route) and revokes every
     * session of that user, in one transaction.
     */
    async resetPassword(
      username: string,
      password: string,
    ): Promise<{ username: string; sessionsRevoked: number }> {
      if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
        throw new AppError(
          'request.invalid',
          `The password must have ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`,
        );
      }
      const passwordHash = await hashPassword(password);
      const sessionsRevoked = await db.transaction(async (tx) => {
        const txRepo = createAuthRepo(tx);
        const user = await txRepo.findUserByUsername(username);
        if (!user) throw new AppError('user.not_found');
        await txRepo.updatePassword(user.id, passwordHash, now().toISOString());
        cache.deleteUser(user.id);
        return txRepo.deleteUserSessions(user.id);
      });
      return { username, sessionsRevoked };
    },

    async logout(token: string): Promise<void> {
      const tokenHash = hashToken(token);
      cache.delete(tokenHash);
      await repo.deleteSession(tokenHash);
    },

    async authenticate(token: string): Promise<AuthUser | null> {
      const tokenHash = hashToken(token);
      const at = now();
      const cached = cache.get(tokenHash, at.getTime());
      if (cached) return cached;
      const row: SessionUser | undefined = await repo.findSessionUser(tokenHash, at.toISOString());
      if (!row) return null;
      let expiresAt = row.expires_at;
      if (at.getTime() - Date.parse(row.last_seen_at) > TOUCH_INTERVAL_MS) {
        expiresAt = expiry(at);
        await repo.touchSession(tokenHash, at.toISOString(), expiresAt);
      }
      const user = {
        id: row.id,
        username: row.username,
        role: row.role,
        createdAt: row.created_at,
      };
      cache.set(tokenHash, user, at.getTime(), Date.parse(expiresAt));
      return user;
    },
  };
}

function expiry(from: Date): string {
  return new Date(from.getTime() + SESSION_DAYS * 24 * 3600 * 1000).toISOString();
}

export type AuthService = ReturnType<typeof createAuthService>;
