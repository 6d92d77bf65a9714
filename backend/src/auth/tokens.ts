import { createHash, randomBytes } from 'node:crypto';

/** 256 random bits, URL-safe: the only copy lives in the browser's cookie. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Sessions are stored by hash, so a leaked database holds no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
