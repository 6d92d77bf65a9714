import type { FastifyInstance } from 'fastify';
import { createAuthRepo } from '../auth/repo.js';
import { hashPassword } from '../auth/password.js';
import type { Database } from '../db/connection.js';
import { newId } from '../db/ids.js';

export interface SignedInUser {
  id: string;
  username: string;
  cookie: string;
}

let counter = 0;

/** The first account, made through first-run setup as a person would. */
export async function setupAdmin(app: FastifyInstance, username = 'admin'): Promise<SignedInUser> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/setup',
    payload: { username, password: 'correct horse battery' },
  });
  if (response.statusCode !== 201) throw new Error(`setup failed: ${response.body}`);
  return {
    id: response.json().user.id,
    username,
    cookie: sessionCookie(response.headers['set-cookie']),
  };
}

/** Another user, inserted directly (there is no registration route yet), then signed in. */
export async function buildUser(app: FastifyInstance, db: Database, username = `user${++counter}`) {
  const password = 'another fine password';
  await createAuthRepo(db).insertUser({
    id: newId(),
    username,
    passwordHash: await hashPassword(password),
    role: 'user',
    now: new Date().toISOString(),
  });
  const response = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
  });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`);
  return {
    id: response.json().user.id as string,
    username,
    cookie: sessionCookie(response.headers['set-cookie']),
  };
}

export function sessionCookie(header: string | string[] | undefined): string {
  const first = Array.isArray(header) ? header[0] : header;
  const pair = first?.split(';')[0];
  if (!pair) throw new Error('no session cookie was set');
  return pair;
}

/** A conversation of `user`, created through the API; returns its id. */
export async function createConversation(
  app: FastifyInstance,
  user: SignedInUser,
  payload: Record<string, unknown>,
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/conversations',
    headers: { cookie: user.cookie },
    payload,
  });
  if (response.statusCode !== 201)
    throw new Error(`creating a conversation failed: ${response.body}`);
  return response.json().id as string;
}

/** Uploads a file as `user` (POST /api/attachments); returns the response. */
export function upload(app: FastifyInstance, user: SignedInUser, name: string, bytes: Buffer) {
  return app.inject({
    method: 'POST',
    url: `/api/attachments?name=${encodeURIComponent(name)}`,
    headers: { cookie: user.cookie, 'content-type': 'application/octet-stream' },
    payload: bytes,
  });
}

/** Uploads a file as `user`; returns the new attachment's id (throws unless 201). */
export async function uploadAttachment(
  app: FastifyInstance,
  user: SignedInUser,
  name: string,
  bytes: Buffer,
): Promise<string> {
  const response = await upload(app, user, name, bytes);
  if (response.statusCode !== 201) throw new Error(`upload failed: ${response.body}`);
  return response.json().id as string;
}
