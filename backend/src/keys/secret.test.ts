import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { parseSecretKey, resolveSecretKey, SECRET_KEY_FILE } from './secret.js';

const key = randomBytes(32);
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tempDir(): Promise<string> {
  dir = await mkdtemp(path.join(tmpdir(), 'ai-secret-test-'));
  return dir;
}

describe('SECRET_KEY', () => {
  it('accepts 32 bytes as hex, base64 or base64url', () => {
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
    expect(loadConfig({ SECRET_KEY: ` ${key.toString('base64')} ` }).secretKey).toEqual(key);
    expect(loadConfig({}).secretKey).toBeUndefined();
  });

  it('stops the start naming the variable, without repeating the value', () => {
    for (const bad of [
      'short',
      randomBytes(16).toString('hex'),
      randomBytes(31).toString('base64'),
    ]) {
      let error: unknown;
      try {
        loadConfig({ SECRET_KEY: bad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('SECRET_KEY must be 32 bytes');
      expect((error as ConfigError).message).not.toContain(bad);
    }
  });

  it('reads previous keys for rotation, naming a bad entry', () => {
    const old = randomBytes(32);
    expect(
      loadConfig({ SECRET_KEY_PREVIOUS: `${old.toString('hex')}, ${key.toString('base64')}` })
        .secretKeyPrevious,
    ).toEqual([old, key]);
    expect(() => loadConfig({ SECRET_KEY_PREVIOUS: 'nope' })).toThrow(
      'SECRET_KEY_PREVIOUS entry 1 must be 32 bytes',
    );
  });
});

describe('resolveSecretKey', () => {
  it('uses SECRET_KEY when set, and writes no file', async () => {
    const data = await tempDir();
    expect(await resolveSecretKey(key, data)).toEqual({ key, source: 'SECRET_KEY', file: null });
    await expect(stat(path.join(data, SECRET_KEY_FILE))).rejects.toThrow();
  });

  it('generates a key once into the data folder, owner-only, and reuses it', async () => {
    const data = path.join(await tempDir(), 'nested', 'data');
    const first = await resolveSecretKey(undefined, data);
    expect(first.source).toBe('file-created');
    expect(first.file).toBe(path.join(data, SECRET_KEY_FILE));
    expect((await stat(first.file as string)).mode & 0o777).toBe(0o600);
    expect(parseSecretKey(await readFile(first.file as string, 'utf8'))).toEqual(first.key);

    const second = await resolveSecretKey(undefined, data);
    expect(second).toEqual({ ...first, source: 'file' });
  });

  it('refuses a key file others can read, or one without a key, naming the file', async () => {
    const data = await tempDir();
    const file = path.join(data, SECRET_KEY_FILE);
    await writeFile(file, key.toString('base64'), { mode: 0o644 });
    await chmod(file, 0o644);
    await expect(resolveSecretKey(undefined, data)).rejects.toThrow(
      `${file} (the key that encrypts stored API keys, used because SECRET_KEY is unset) can be read by other users`,
    );
    await writeFile(file, 'not a key');
    await chmod(file, 0o600);
    await expect(resolveSecretKey(undefined, data)).rejects.toThrow(ConfigError);
  });
});
