import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assetPath } from './assets.js';

describe('assetPath', () => {
  it('finds the SQL migrations and the common-passwords list from the root of src/', () => {
    const migrations = readdirSync(assetPath('db/migrations/')).filter((f) => f.endsWith('.sql'));
    expect(migrations[0]).toMatch(/^001_.*\.sql$/);
    expect(readFileSync(assetPath('auth/common-passwords.txt'), 'utf8').split('\n')).toContain(
      'password',
    );
  });
});
