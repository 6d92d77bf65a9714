import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const frontendDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const openapiPath = resolve(frontendDir, '../backend/openapi.json');
const schemaPath = resolve(frontendDir, 'web/src/api/schema.d.ts');

function openapiTypescriptCli(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('openapi-typescript/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin: Record<string, string> };
  const bin = pkg.bin['openapi-typescript'];
  if (bin === undefined) throw new Error('openapi-typescript has no CLI entry');
  return join(dirname(pkgPath), bin);
}

// Deliberately never skipped: a missing openapi.json is a failure, not a reason to pass.
describe('generated API types', () => {
  // Runs the generator over the whole document: seconds of CPU, more on a loaded machine.
  it(
    'web/src/api/schema.d.ts is up to date with ../backend/openapi.json',
    { timeout: 30_000 },
    () => {
      expect(
        existsSync(openapiPath),
        `${openapiPath} is missing: the backend writes it with \`npm run openapi\``,
      ).toBe(true);
      expect(existsSync(schemaPath), `${schemaPath} is missing: run \`npm run gen:api\``).toBe(
        true,
      );

      const dir = mkdtempSync(join(tmpdir(), 'gen-api-'));
      try {
        const fresh = join(dir, 'schema.d.ts');
        // The same command as `npm run gen:api`, run from the same folder, into a temp file.
        execFileSync(
          process.execPath,
          [openapiTypescriptCli(), '../backend/openapi.json', '-o', fresh],
          { cwd: frontendDir, stdio: 'pipe' },
        );
        const upToDate = readFileSync(fresh, 'utf8') === readFileSync(schemaPath, 'utf8');
        expect(
          upToDate,
          'web/src/api/schema.d.ts is stale compared with ../backend/openapi.json: run `npm run gen:api`',
        ).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
