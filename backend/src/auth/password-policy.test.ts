import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import { createPasswordPolicy } from './password-policy.js';

const policy = createPasswordPolicy();

async function codeOf(password: string, username = 'alice'): Promise<string | null> {
  try {
    await policy.check(password, username);
    return null;
  } catch (error) {
    if (isAppError(error)) return error.code;
    throw error;
  }
}

describe('the password policy', () => {
  it('ships a list of at least 10,000 common passwords', async () => {
    const file = new URL('./common-passwords.txt', import.meta.url);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(10_000);
    expect(lines).toContain('password');
    expect(lines).toContain('qwertyuiop');
  });

  it('refuses passwords shorter than 8 characters, counting code points', async () => {
    expect(await codeOf('7chars!')).toBe('password.too_short');
    // Four astral characters are 8 UTF-16 units but 4 characters.
    expect(await codeOf('😀😀😀😀')).toBe('password.too_short');
    expect(await codeOf('8 chars!')).toBeNull();
  });

  it('accepts 256 characters and refuses more', async () => {
    expect(await codeOf('x'.repeat(128) + 'y'.repeat(128))).toBeNull();
    expect(await codeOf('x'.repeat(257))).toBe('password.too_long');
  });

  it('refuses common passwords whatever their case, and the username', async () => {
    for (const common of ['password', 'Password', 'qwertyuiop', 'iloveyou', '12345678']) {
      expect(await codeOf(common), common).toBe('password.common');
    }
    expect(await codeOf('Alice-in-chains', 'alice-in-chains')).toBe('password.same_as_username');
    expect(await codeOf('correct horse battery')).toBeNull();
  });
});
