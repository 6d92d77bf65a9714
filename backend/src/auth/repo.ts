import type { Queryable } from '../db/connection.js';

export type Role = 'admin' | 'user';

export type UserRow = {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  created_at: string;
  disabled_at: string | null;
};

export type SessionUser = {
  session_id: string;
  id: string;
  username: string;
  role: Role;
  created_at: string;
  session_created_at: string;
  last_seen_at: string;
  expires_at: string;
};

export type SessionRow = {
  id: string;
  token_hash: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  user_agent: string | null;
};

const userColumns = 'id, username, password_hash, role, created_at, disabled_at';

export function createAuthRepo(db: Queryable) {
  return {
    async countUsers(): Promise<number> {
      const row = await db.one<{ n: number }>('SELECT COUNT(*) AS n FROM users');
      return row?.n ?? 0;
    },

    /**
     * Usernames are unique regardless of case, so sign-in finds them regardless of case too; an
     * exact match wins should two older accounts differ only in case.
     */
    findUserByUsername(username: string): Promise<UserRow | undefined> {
      return db.one<UserRow>(
        `SELECT ${userColumns} FROM users WHERE lower(username) = lower($1)
         ORDER BY CASE WHEN username = $1 THEN 0 ELSE 1 END LIMIT 1`,
        [username],
      );
    },

    findUserById(id: string): Promise<UserRow | undefined> {
      return db.one<UserRow>(`SELECT ${userColumns} FROM users WHERE id = $1`, [id]);
    },

    /** Usernames are unique regardless of case, so `Alice` cannot pose as `alice`. */
    async usernameTaken(username: string): Promise<boolean> {
      const row = await db.one('SELECT id FROM users WHERE lower(username) = lower($1) LIMIT 1', [
        username,
      ]);
      return row !== undefined;
    },

    async insertUser(user: {
      id: string;
      username: string;
      passwordHash: string;
      role: Role;
      now: string;
    }) {
      await db.run(
        `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMPTZ), CAST($5 AS TIMESTAMPTZ))`,
        [user.id, user.username, user.passwordHash, user.role, user.now],
      );
    },

    async insertSession(session: {
      id: string;
      tokenHash: string;
      userId: string;
      now: string;
      expiresAt: string;
      userAgent: string | null;
    }) {
      await db.run(
        `INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
         VALUES ($1, $2, $3, CAST($4 AS TIMESTAMPTZ), CAST($4 AS TIMESTAMPTZ), CAST($5 AS TIMESTAMPTZ), $6)`,
        [
          session.id,
          session.tokenHash,
          session.userId,
          session.now,
          session.expiresAt,
          session.userAgent,
        ],
      );
    },

    /** The session's user, when the session is unexpired and the user not disabled. */
    findSessionUser(tokenHash: string, now: string): Promise<SessionUser | undefined> {
      return db.one<SessionUser>(
        `SELECT s.id AS session_id, u.id, u.username, u.role, u.created_at,
                s.created_at AS session_created_at, s.last_seen_at, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > CAST($2 AS TIMESTAMPTZ)
           AND u.disabled_at IS NULL`,
        [tokenHash, now],
      );
    },

    async touchSession(tokenHash: string, now: string, expiresAt: string) {
      await db.run(
        `UPDATE sessions SET last_seen_at = CAST($2 AS TIMESTAMPTZ), expires_at = CAST($3 AS TIMESTAMPTZ)
         WHERE token_hash = $1`,
        [tokenHash, now, expiresAt],
      );
    },

    /** The user's unexpired sessions, most recently seen first. */
    listSessions(userId: string, now: string): Promise<SessionRow[]> {
      return db.all<SessionRow>(
        `SELECT id, token_hash, created_at, last_seen_at, expires_at, user_agent
         FROM sessions WHERE user_id = $1 AND expires_at > CAST($2 AS TIMESTAMPTZ)
         ORDER BY last_seen_at DESC, created_at DESC`,
        [userId, now],
      );
    },

    /** Deletes one session; answers its user's id, if there was one. */
    async deleteSession(tokenHash: string): Promise<string | undefined> {
      const row = await db.one<{ user_id: string }>(
        'DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id',
        [tokenHash],
      );
      return row?.user_id;
    },

    /** Deletes one session of the user by its public id; answers its token hash, if found. */
    async deleteSessionById(userId: string, id: string): Promise<string | undefined> {
      const rows = await db.all<{ token_hash: string; user_id: string }>(
        'DELETE FROM sessions WHERE id = $1 AND user_id = $2 RETURNING token_hash, user_id',
        [id, userId],
      );
      return rows[0]?.token_hash;
    },

    async updatePassword(userId: string, passwordHash: string, now: string) {
      await db.run(
        'UPDATE users SET password_hash = $2, updated_at = CAST($3 AS TIMESTAMPTZ) WHERE id = $1',
        [userId, passwordHash, now],
      );
    },

    /**
     * Signs the user out everywhere (but the session `exceptTokenHash`, when given); answers
     * the token hashes of the sessions revoked.
     */
    async deleteUserSessions(userId: string, exceptTokenHash: string | null = null) {
      const rows = await db.all<{ token_hash: string }>(
        exceptTokenHash === null
          ? 'DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash'
          : 'DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 RETURNING token_hash',
        exceptTokenHash === null ? [userId] : [userId, exceptTokenHash],
      );
      return rows.map((row) => row.token_hash);
    },

    /** Removes sessions past their expiry (of every user). */
    async deleteExpiredSessions(now: string): Promise<number> {
      const rows = await db.all<{ token_hash: string }>(
        'DELETE FROM sessions WHERE expires_at <= CAST($1 AS TIMESTAMPTZ) RETURNING token_hash',
        [now],
      );
      return rows.length;
    },
  };
}

export type AuthRepo = ReturnType<typeof createAuthRepo>;
