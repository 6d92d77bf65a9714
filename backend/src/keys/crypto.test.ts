import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf, SecretUnreadableError, type SealedSecret } from './crypto.js';

const secret = 'sk-or-v1-0123456789abcdef0123456789abcdef';

function flipFirstByte(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

describe('keyring', () => {
  it('round-trips a secret, with a fresh 96-bit nonce and a 128-bit tag each time', () => {
    const keyring = createKeyring(randomBytes(32));
    const first = keyring.seal(secret, 'user-1');
    const second = keyring.seal(secret, 'user-1');
    expect(keyring.open(first, 'user-1')).toBe(secret);
    expect(keyring.open(second, 'user-1')).toBe(secret);
    expect(Buffer.from(first.nonce, 'base64')).toHaveLength(12);
    expect(Buffer.from(first.tag, 'base64')).toHaveLength(16);
    expect(first.nonce).not.toBe(second.nonce);
    expect(first.ciphertext).not.toBe(second.ciphertext);
    expect(first.keyId).toBe(keyring.currentId);
  });

  it('never holds the plaintext or the key in what it stores', () => {
    const key = randomBytes(32);
    const sealed = createKeyring(key).seal(secret, 'user-1');
    const stored = JSON.stringify(sealed);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(Buffer.from(secret).toString('base64'));
    expect(stored).not.toContain(key.toString('base64'));
    expect(stored).not.toContain(key.toString('hex'));
    expect(sealed.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('detects any change to the ciphertext, nonce or tag', () => {
    const ring = createKeyring(randomBytes(32));
    const sealed = ring.seal(secret, 'user-1');
    const altered: SealedSecret[] = [
      { ...sealed, ciphertext: flipFirstByte(sealed.ciphertext) },
      { ...sealed, nonce: flipFirstByte(sealed.nonce) },
      { ...sealed, tag: flipFirstByte(sealed.tag) },
      { ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, 12).toString('base64') },
      { ...sealed, ciphertext: sealed.ciphertext.slice(0, -4) },
    ];
    for (const bad of altered) {
      expect(() => ring.open(bad, 'user-1')).toThrow(SecretUnreadableError);
    }
  });

  it('binds a secret to its row: another user id does not open it', () => {
    const ring = createKeyring(randomBytes(32));
    const sealed = ring.seal(secret, 'user-1');
    expect(() => ring.open(sealed, 'user-2')).toThrow(SecretUnreadableError);
  });

  it('opens what a previous key sealed, and refuses an unknown key without leaking', () => {
    const oldKey = randomBytes(32);
    const sealedBefore = createKeyring(oldKey).seal(secret, 'user-1');
    const rotated = createKeyring(randomBytes(32), [oldKey]);
    expect(rotated.open(sealedBefore, 'user-1')).toBe(secret);
    expect(rotated.seal(secret, 'user-1').keyId).not.toBe(keyIdOf(oldKey));

    const stranger = createKeyring(randomBytes(32));
    let error: unknown;
    try {
      stranger.open(sealedBefore, 'user-1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecretUnreadableError);
    expect(String(error)).not.toContain(secret);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createKeyring(randomBytes(16))).toThrow('32 bytes');
  });
});
