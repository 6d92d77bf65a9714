/**
 * The encryption key of stored secrets (users' OpenRouter keys): SECRET_KEY when set, else a
 * key generated once into the data folder (`secret.key` next to DATABASE_PATH), readable by its
 * owner only, and reused from then on. Without it the stored keys cannot be decrypted: back it
 * up with the database, but apart from it (see docs/secrets.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../config.js';
import { parseSecretKey, SECRET_KEY_BYTES } from './crypto.js';

export { parseSecretKey } from './crypto.js';

export const SECRET_KEY_FILE = 'secret.key';

export interface ResolvedSecretKey {
  key: Buffer;
  /** Where it came from: the environment, or the file (created now or earlier). */
  source: 'SECRET_KEY' | 'file-created' | 'file';
  /** The file, when the key is kept in one. */
  file: string | null;
}

/**
 * SECRET_KEY (already parsed by loadConfig) or the key file in `dataDir`, created when missing
 * with mode 0600 (exclusively, so two processes cannot race to write different keys). A file
 * that others can read, or that does not hold a key, stops the start with a ConfigError naming it.
 */
export async function resolveSecretKey(
  configured: Buffer | undefined,
  dataDir: string,
): Promise<ResolvedSecretKey> {
  if (configured) return { key: configured, source: 'SECRET_KEY', file: null };
  const file = path.resolve(dataDir, SECRET_KEY_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  const created = await createKeyFile(file);
  if (created) return { key: created, source: 'file-created', file };

  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new ConfigError([
      `${file} (the key that encrypts stored API keys, used because SECRET_KEY is unset) can be read by other users: run chmod 600 on it`,
    ]);
  }
  const key = parseSecretKey(await readFile(file, 'utf8'));
  if (!key) {
    throw new ConfigError([
      `${file} (the key that encrypts stored API keys, used because SECRET_KEY is unset) must hold 32 bytes as base64 or hex`,
    ]);
  }
  return { key, source: 'file', file };
}

/** Writes a new key into `file` unless it exists; the new key, or null when it existed. */
async function createKeyFile(file: string): Promise<Buffer | null> {
  let handle;
  try {
    // 'wx': fails when the file exists. The mode applies at creation, before any byte is written.
    handle = await open(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
  const key = randomBytes(SECRET_KEY_BYTES);
  try {
    await handle.writeFile(`${key.toString('base64')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return key;
}
