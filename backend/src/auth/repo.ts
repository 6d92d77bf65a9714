import type { Queryable } from '../db/connection.js';

export type UserRow = {
  id: string;
  username: string;
  password_hash: string;
  role: 'admin' | 'user';
  created_at: string;
};

export type SessionUser = {
  id: string;
  username: string;
  role: 'admin' | 'user';
  created_at: string;
  last_seen_at: string;
  expires_at: string;
};

export function createAuthRepo(db: Queryable) {
  return {
    async countUsers(): Promise<number> {
      const row = await db.one<{ n: number }>('SELECT COUNT(*) AS n FROM users');
      return row?.n ?? 0;
    },

    findUserByUsername(username: string): Promise<UserRow | undefined> {
      return db.one<UserRow>(
        'SELECT id, username, password_hash, role, created_at FROM users WHERE username = $1',
        [username],
      );
    },

    async insertUser(user: {
      id: string;
      username: string;
      passwordHash: string;
      role: 'admin' | 'user';
      now: string;
    }) {
      await db.run(
        `INSERT INTO users (id, username, password_hash, role, created_at, updated_at)
         VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMPTZ), CAST($5 AS TIMESTAMPTZ))`,
        [user.id, user.username, user.passwordHash, user.role, user.now],
      );
    },

    async insertSession(session: {
      tokenHash: string;
      userId: string;
      now: string;
      expiresAt: string;
      userAgent: string | null;
    }) {
      await db.run(
        `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent)
         VALUES ($1, $2, CAST($3 AS TIMESTAMPTZ), CAST($3 AS TIMESTAMPTZ), CAST($4 AS TIMESTAMPTZ), $5)`,
        [session.tokenHash, session.userId, session.now, session.expiresAt, session.userAgent],
      );
    },

    findSessionUser(tokenHash: string, now: string): Promise<SessionUser | undefined> {
      return db.one<SessionUser>(
        `SELECT u.id, u.username, u.role, u.created_at, s.last_seen_at, s.expires_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > CAST($2 AS TIMESTAMPTZ)`,
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

    async deleteSession(tokenHash: string) {
      await db.run('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    },

    async updatePassword(userId: string, passwordHash: string, now: string) {
      await db.run(
        'UPDATE users SET password_hash = $2, updated_at = CAST($3 AS TIMESTAMPTZ) WHERE id = $1',
        [userId, passwordHash, now],
      );
    },

    /** Signs the user out everywhere; answers how many sessions there were. */
    async deleteUserSessions(userId: string): Promise<number> {
      const rows = await db.all<{ token_hash: string }>(
        'DELETE FROM sessions WHERE user_id = $1 RETURNING token_hash',
        [userId],
      );
      return rows.length;
    },
  };
}

export type AuthRepo = ReturnType<typeof createAuthRepo>;
