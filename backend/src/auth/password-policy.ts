import { readFile } from 'node:fs/promises';
import { assetPath } from '../assets.js';
import { AppError } from '../errors.js';

/** NIST SP 800-63B: at least 8 characters; long passphrases accepted. */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

/**
 * The 10,000 most common passwords (SecLists, MIT: see common-passwords.LICENSE), one a
 * line. The build copies it to dist/auth/.
 */
const commonPasswordsFile = assetPath('auth/common-passwords.txt');

export interface PasswordPolicy {
  /** Throws a typed 400 (`password.*`) when `password` may not be set for `username`. */
  check(password: string, username: string): Promise<void>;
}

/**
 * What a new password must be (NIST SP 800-63B, 5.1.1.2): 8 to 256 characters (counted as
 * code points, as JSON Schema counts them), not one of the most common passwords, not the
 * username. No composition rules. The list is read once, on first use.
 */
export function createPasswordPolicy(file = commonPasswordsFile): PasswordPolicy {
  let common: Promise<Set<string>> | undefined;
  const load = async () =>
    new Set(
      (await readFile(file, 'utf8'))
        .split('\n')
        .map((line) => line.trim().toLowerCase())
        .filter(Boolean),
    );

  return {
    async check(password, username) {
      const length = [...password].length;
      if (length < MIN_PASSWORD) throw new AppError('password.too_short');
      if (length > MAX_PASSWORD) throw new AppError('password.too_long');
      const lower = password.toLowerCase();
      if (lower === username.toLowerCase()) throw new AppError('password.same_as_username');
      common ??= load().catch((error: unknown) => {
        common = undefined;
        throw error;
      });
      if ((await common).has(lower)) throw new AppError('password.common');
    },
  };
}
