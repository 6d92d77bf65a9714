/**
 * Secrets at rest: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per encryption and
 * the 128-bit authentication tag stored beside the ciphertext. The associated data binds a
 * ciphertext to its row (the owner's user id), so a ciphertext copied into another user's row
 * fails to decrypt instead of lending that user someone else's key.
 *
 * Each ciphertext records the id of the key that sealed it (a fingerprint, never the key), so a
 * new SECRET_KEY can be introduced while older rows are still readable with the previous one.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** 32 bytes: AES-256. */
export const SECRET_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface SealedSecret {
  /** Which encryption key sealed it: see keyIdOf. */
  keyId: string;
  /** base64 of the 12-byte nonce. */
  nonce: string;
  /** base64 of the ciphertext. */
  ciphertext: string;
  /** base64 of the 16-byte GCM tag. */
  tag: string;
}

export interface Keyring {
  /** The key new secrets are sealed with. */
  readonly currentId: string;
  seal(plaintext: string, associatedData: string): SealedSecret;
  /** Throws SecretUnreadableError when the key is unknown or the data was altered. */
  open(sealed: SealedSecret, associatedData: string): string;
}

/** A sealed secret that cannot be opened: another SECRET_KEY, or altered data. No secret inside. */
export class SecretUnreadableError extends Error {
  constructor(reason: 'unknown_key' | 'tampered') {
    super(
      reason === 'unknown_key'
        ? 'The secret was sealed with another SECRET_KEY.'
        : 'The secret failed its integrity check.',
    );
    this.name = 'SecretUnreadableError';
  }
}

/**
 * A public fingerprint of an encryption key (16 hex characters of an HMAC keyed with it): it
 * names the key in the database without revealing anything about it.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('ai secret key id v1').digest('hex').slice(0, 16);
}

/**
 * 32 bytes written as 64 hex characters or as base64 (44 characters with padding, or the
 * URL-safe alphabet); null for anything else. `openssl rand -base64 32` and
 * `openssl rand -hex 32` both make one.
 */
export function parseSecretKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === SECRET_KEY_BYTES) return bytes;
  }
  return null;
}

/** The first key seals; every key listed opens what it sealed (previous keys, for rotation). */
export function createKeyring(current: Buffer, previous: Buffer[] = []): Keyring {
  for (const key of [current, ...previous]) {
    if (key.length !== SECRET_KEY_BYTES) throw new Error('an encryption key must be 32 bytes');
  }
  const byId = new Map<string, Buffer>();
  for (const key of [current, ...previous]) byId.set(keyIdOf(key), Buffer.from(key));
  const currentId = keyIdOf(current);

  return {
    currentId,
    seal(plaintext, associatedData) {
      const key = byId.get(currentId) as Buffer;
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(associatedData, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return {
        keyId: currentId,
        nonce: nonce.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    },
    open(sealed, associatedData) {
      const key = byId.get(sealed.keyId);
      if (!key) throw new SecretUnreadableError('unknown_key');
      const nonce = Buffer.from(sealed.nonce, 'base64');
      const tag = Buffer.from(sealed.tag, 'base64');
      if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) {
        throw new SecretUnreadableError('tampered');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(associatedData, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([
          decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        // OpenSSL's "Unsupported state or unable to authenticate data": the tag did not match.
        throw new SecretUnreadableError('tampered');
      }
    },
  };
}
