import { AppError } from '../errors.js';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';
import type { AuditLog } from '../audit/service.js';
import { createRateLimiter, type RateDecision } from '../http/rate-limit.js';
import type { SettingsService } from '../settings/service.js';
import { createAuthRepo, type Role, type SessionRow } from './repo.js';
import { dummyHashPromise, hashPassword, verifyPassword } from './password.js';
import { createPasswordPolicy, type PasswordPolicy } from './password-policy.js';
import { createSessionCache, type CachedSession } from './session-cache.js';
import { hashToken, newSessionToken } from './tokens.js';

const DAY_MS = 24 * 3600 * 1000;

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
}

export interface SignedIn {
  user: AuthUser;
  token: string;
}

/** Who is asking: for the audit log and the per-address sign-in limit. */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  current: boolean;
}

export interface AuthOptions {
  now?: () => Date;
  /** A session unused this long expires (default 7 days). */
  sessionIdleMs?: number;
  /** A session expires this long after sign-in, used or not (default 30 days). */
  sessionMaxAgeMs?: number;
  /** Failed sign-ins allowed per account and per client address within the window. */
  signInLimits?: { perAccount: number; perAddress: number; windowMs: number };
  audit?: AuditLog;
  /** Whether self-registration is open; without it, registration stays closed. */
  settings?: Pick<SettingsService, 'get'>;
  policy?: PasswordPolicy;
}

const noAudit: AuditLog = {
  record: async () => undefined,
  list: async () => ({ entries: [], nextCursor: null }),
  prune: async () => 0,
};

export function createAuthService(db: Database, options: AuthOptions = {}) {
  const now = options.now ?? (() => new Date());
  const idleMs = options.sessionIdleMs ?? 7 * DAY_MS;
  const maxAgeMs = options.sessionMaxAgeMs ?? 30 * DAY_MS;
  // Sliding expiry is written at most this often: each write costs an fsync.
  const touchIntervalMs = Math.min(3600_000, idleMs / 10);
  const limits = options.signInLimits ?? { perAccount: 10, perAddress: 50, windowMs: 60_000 };
  const clock = () => now().getTime();
  const accountLimiter = createRateLimiter({
    limit: limits.perAccount,
    windowMs: limits.windowMs,
    now: clock,
  });
  const addressLimiter = createRateLimiter({
    limit: limits.perAddress,
    windowMs: limits.windowMs,
    now: clock,
  });
  const audit = options.audit ?? noAudit;
  const policy = options.policy ?? createPasswordPolicy();
  const repo = createAuthRepo(db);
  const cache = createSessionCache();
  // Bumped by every revocation once the database has it: a lookup that read the database before
  // then does not put its (stale) result in the cache.
  let revocations = 0;
  // Made now, not at the first unknown user: that sign-in must cost what any other does.
  const dummyHash = dummyHashPromise();

  function expiry(sessionCreatedMs: number, atMs: number): string {
    return new Date(Math.min(atMs + idleMs, sessionCreatedMs + maxAgeMs)).toISOString();
  }

  let prunedAt = 0;

  async function startSession(user: AuthUser, ctx: RequestContext): Promise<SignedIn> {
    const token = newSessionToken();
    const at = now();
    // Expired sessions answer nothing already; they are deleted now and then, at a sign-in.
    if (at.getTime() - prunedAt > 3600_000) {
      prunedAt = at.getTime();
      await repo.deleteExpiredSessions(at.toISOString());
    }
    await repo.insertSession({
      id: newId(),
      tokenHash: hashToken(token),
      userId: user.id,
      now: at.toISOString(),
      expiresAt: expiry(at.getTime(), at.getTime()),
      userAgent: ctx.userAgent?.slice(0, 300) ?? null,
    });
    return { user, token };
  }

  /** Drops the user's cached sessions; every later request reads the database again. */
  function forgetUser(userId: string): void {
    revocations++;
    cache.deleteUser(userId);
  }

  async function revokeSessions(userId: string, exceptTokenHash: string | null = null) {
    const revoked = await repo.deleteUserSessions(userId, exceptTokenHash);
    revocations++;
    cache.deleteUser(userId);
    return revoked.length;
  }

  function signInRefusal(decisions: RateDecision[]): AppError | null {
    const waits = decisions.flatMap((d) => (d.allowed ? [] : [d.retryAfterSeconds]));
    if (waits.length === 0) return null;
    return new AppError('auth.rate_limited', undefined, {
      retryAfterSeconds: Math.max(...waits),
    });
  }

  /** Checks the policy, refuses a taken username, hashes: what every new account needs. */
  async function prepareUser(username: string, password: string, role: Role) {
    await policy.check(password, username);
    if (await repo.usernameTaken(username)) throw new AppError('user.username_taken');
    const user: AuthUser = {
      id: newId(),
      username,
      role,
      createdAt: now().toISOString(),
    };
    return { user, passwordHash: await hashPassword(password) };
  }

  async function needsSetup(): Promise<boolean> {
    return (await repo.countUsers()) === 0;
  }

  /** An account made by an admin (`actorId`) or by registration (actorId null). */
  async function createUser(
    username: string,
    password: string,
    role: Role,
    actorId: string | null,
    ctx: RequestContext,
    via: 'admin' | 'register' = 'admin',
  ): Promise<AuthUser> {
    const { user, passwordHash } = await prepareUser(username, password, role);
    await db.transaction(async (tx) => {
      const txRepo = createAuthRepo(tx);
      if (await txRepo.usernameTaken(username)) throw new AppError('user.username_taken');
      await txRepo.insertUser({ ...user, passwordHash, now: user.createdAt });
    });
    await audit.record({
      actorId: actorId ?? user.id,
      action: 'user.created',
      targetUserId: user.id,
      detail: { username, role, via },
      ip: ctx.ip,
    });
    return user;
  }

  /** Ends one session (the one of this token). */
  async function logout(token: string, ctx: RequestContext, record = true): Promise<void> {
    const tokenHash = hashToken(token);
    const userId = await repo.deleteSession(tokenHash);
    revocations++;
    cache.delete(tokenHash);
    if (userId && record) {
      await audit.record({
        actorId: userId,
        action: 'auth.sign_out',
        targetUserId: userId,
        ip: ctx.ip,
      });
    }
  }

  /** Checks a new password against the policy and hashes it. */
  async function hashNewPassword(password: string, username: string): Promise<string> {
    await policy.check(password, username);
    return hashPassword(password);
  }

  return {
    needsSetup,
    createUser,
    logout,
    hashNewPassword,

    async state(): Promise<{ needsSetup: boolean; registrationOpen: boolean }> {
      const needsSetup = (await repo.countUsers()) === 0;
      const registrationOpen = !needsSetup && (await options.settings?.get())?.registrationOpen;
      return { needsSetup, registrationOpen: registrationOpen === true };
    },

    /** Creates the first account, an admin; refused once any user exists. */
    async setup(username: string, password: string, ctx: RequestContext): Promise<SignedIn> {
      if (!(await needsSetup())) throw new AppError('auth.setup_done');
      const { user, passwordHash } = await prepareUser(username, password, 'admin');
      await db.transaction(async (tx) => {
        const txRepo = createAuthRepo(tx);
        if ((await txRepo.countUsers()) > 0) throw new AppError('auth.setup_done');
        await txRepo.insertUser({ ...user, passwordHash, now: user.createdAt });
      });
      await audit.record({
        actorId: user.id,
        action: 'user.created',
        targetUserId: user.id,
        detail: { username, role: 'admin', via: 'setup' },
        ip: ctx.ip,
      });
      return startSession(user, ctx);
    },

    /** Self-registration, when an admin has opened it: creates a `user` and signs it in. */
    async register(username: string, password: string, ctx: RequestContext): Promise<SignedIn> {
      const open = (await options.settings?.get())?.registrationOpen === true;
      if (!open || (await repo.countUsers()) === 0) {
        throw new AppError('auth.registration_closed');
      }
      // Each registration costs a password hash: bounded per address like failed sign-ins.
      const refusal = signInRefusal([addressLimiter.consume(ctx.ip ?? '')]);
      if (refusal) throw refusal;
      const created = await createUser(username, password, 'user', null, ctx, 'register');
      return startSession(created, ctx);
    },

    /**
     * Signs in. Answers an unknown user and a wrong password the same way (same code, same
     * message, a real argon2 verification either way). Failures count per account and per
     * client address; past either limit every attempt, right or wrong, gets 429 with
     * Retry-After until the window has passed. A session token presented with the request
     * (`presentedToken`) is revoked: each sign-in starts a new session.
     */
    async login(
      username: string,
      password: string,
      ctx: RequestContext & { presentedToken?: string | undefined },
    ): Promise<SignedIn> {
      const accountKey = username.toLowerCase();
      const addressKey = ctx.ip ?? '';
      const refusal = signInRefusal([
        accountLimiter.check(accountKey),
        addressLimiter.check(addressKey),
      ]);
      if (refusal) throw refusal;

      const row = await repo.findUserByUsername(username);
      let valid: boolean;
      if (row) {
        valid = await verifyPassword(row.password_hash, password);
      } else {
        // Verify against a real hash anyway, so an unknown user costs the same time.
        await verifyPassword(await dummyHash, password);
        valid = false;
      }
      if (!row || !valid) {
        accountLimiter.consume(accountKey);
        addressLimiter.consume(addressKey);
        await audit.record({
          actorId: null,
          action: 'auth.sign_in_failed',
          targetUserId: row?.id ?? null,
          detail: { username },
          ip: ctx.ip,
        });
        throw new AppError('auth.invalid_credentials');
      }
      if (row.disabled_at !== null) {
        await audit.record({
          actorId: row.id,
          action: 'auth.sign_in_refused',
          targetUserId: row.id,
          detail: { reason: 'disabled' },
          ip: ctx.ip,
        });
        throw new AppError('auth.account_disabled');
      }
      accountLimiter.reset(accountKey);
      if (ctx.presentedToken) await logout(ctx.presentedToken, ctx, false);
      const user = {
        id: row.id,
        username: row.username,
        role: row.role,
        createdAt: row.created_at,
      };
      const signedIn = await startSession(user, ctx);
      await audit.record({
        actorId: user.id,
        action: 'auth.sign_in',
        targetUserId: user.id,
        ip: ctx.ip,
      });
      return signedIn;
    },

    /** The user and session of a token, or null when the session is unknown, expired or its user disabled. */
    async authenticate(token: string): Promise<CachedSession | null> {
      const tokenHash = hashToken(token);
      const at = now();
      const cached = cache.get(tokenHash, at.getTime());
      if (cached) return cached;
      const epoch = revocations;
      const row = await repo.findSessionUser(tokenHash, at.toISOString());
      if (!row) return null;
      let expiresAt = row.expires_at;
      if (at.getTime() - Date.parse(row.last_seen_at) > touchIntervalMs) {
        expiresAt = expiry(Date.parse(row.session_created_at), at.getTime());
        await repo.touchSession(tokenHash, at.toISOString(), expiresAt);
      }
      const session: CachedSession = {
        user: { id: row.id, username: row.username, role: row.role, createdAt: row.created_at },
        sessionId: row.session_id,
      };
      if (epoch === revocations) cache.set(tokenHash, session, at.getTime(), Date.parse(expiresAt));
      return session;
    },

    /**
     * Changes the signed-in user's password, given the current one. Every other session of
     * the user is revoked; this one stays. Wrong current passwords count as failed sign-ins.
     */
    async changePassword(
      userId: string,
      currentToken: string,
      currentPassword: string,
      newPassword: string,
      ctx: RequestContext,
    ): Promise<{ sessionsRevoked: number }> {
      const row = await repo.findUserById(userId);
      if (!row) throw new AppError('auth.unauthenticated');
      const accountKey = row.username.toLowerCase();
      const refusal = signInRefusal([
        accountLimiter.check(accountKey),
        addressLimiter.check(ctx.ip ?? ''),
      ]);
      if (refusal) throw refusal;
      if (!(await verifyPassword(row.password_hash, currentPassword))) {
        accountLimiter.consume(accountKey);
        addressLimiter.consume(ctx.ip ?? '');
        throw new AppError('auth.wrong_password');
      }
      await policy.check(newPassword, row.username);
      const passwordHash = await hashPassword(newPassword);
      const keep = hashToken(currentToken);
      const revoked = await db.transaction(async (tx) => {
        const txRepo = createAuthRepo(tx);
        await txRepo.updatePassword(userId, passwordHash, now().toISOString());
        return txRepo.deleteUserSessions(userId, keep);
      });
      revocations++;
      for (const tokenHash of revoked) cache.delete(tokenHash);
      await audit.record({
        actorId: userId,
        action: 'auth.password_changed',
        targetUserId: userId,
        detail: { sessionsRevoked: revoked.length },
        ip: ctx.ip,
      });
      return { sessionsRevoked: revoked.length };
    },

    async listSessions(userId: string, currentSessionId: string): Promise<SessionInfo[]> {
      const rows: SessionRow[] = await repo.listSessions(userId, now().toISOString());
      return rows.map((row) => ({
        id: row.id,
        createdAt: row.created_at,
        lastSeenAt: row.last_seen_at,
        expiresAt: row.expires_at,
        userAgent: row.user_agent,
        current: row.id === currentSessionId,
      }));
    },

    /** Revokes one of the user's sessions by its id (404 when it is not theirs). */
    async revokeSession(userId: string, sessionId: string, ctx: RequestContext): Promise<void> {
      const tokenHash = await repo.deleteSessionById(userId, sessionId);
      if (!tokenHash) throw new AppError('session.not_found');
      revocations++;
      cache.delete(tokenHash);
      await audit.record({
        actorId: userId,
        action: 'auth.session_revoked',
        targetUserId: userId,
        detail: { sessionId },
        ip: ctx.ip,
      });
    },

    /** Signs the user out of every session, this one included. */
    async signOutEverywhere(userId: string, ctx: RequestContext): Promise<number> {
      const revoked = await revokeSessions(userId);
      await audit.record({
        actorId: userId,
        action: 'auth.sign_out_all',
        targetUserId: userId,
        detail: { sessionsRevoked: revoked },
        ip: ctx.ip,
      });
      return revoked;
    },

    /** The user's role (undefined for an unknown user): one lookup by primary key. */
    async roleOf(userId: string): Promise<Role | undefined> {
      return (await repo.findUserById(userId))?.role;
    },

    /** For admin actions: every session of the user (but `exceptTokenHash`) ends at once. */
    revokeSessions,
    forgetUser,

    /**
     * Sets a new password (an operator's recovery tool, not a user route) and revokes every
     * session of that user, in one transaction.
     */
    async resetPassword(
      username: string,
      password: string,
    ): Promise<{ username: string; sessionsRevoked: number }> {
      const user = await repo.findUserByUsername(username);
      if (!user) throw new AppError('user.not_found');
      const passwordHash = await hashNewPassword(password, username);
      const revoked = await db.transaction(async (tx) => {
        const txRepo = createAuthRepo(tx);
        await txRepo.updatePassword(user.id, passwordHash, now().toISOString());
        return txRepo.deleteUserSessions(user.id);
      });
      revocations++;
      cache.deleteUser(user.id);
      await audit.record({
        actorId: null,
        action: 'user.password_reset',
        targetUserId: user.id,
        detail: { by: 'operator', sessionsRevoked: revoked.length },
        ip: null,
      });
      return { username, sessionsRevoked: revoked.length };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
