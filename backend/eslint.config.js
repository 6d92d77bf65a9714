import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const STORED_IDS =
  'Ids of stored rows come from db/ids.ts (newId): time-ordered, for DuckDB indexes.';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'coverage'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // Stored rows get time-ordered ids (ARCHITECTURE.md): random ones make DuckDB's in-memory
    // indexes grow several times faster. Ids that are never stored may stay random.
    files: ['src/**/*.ts'],
    ignores: [
      'src/**/*.test.ts',
      'src/http/request-id.ts',
      'src/usage/service.ts',
      'src/auth/password.ts',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'crypto', property: 'randomUUID', message: STORED_IDS },
      ],
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'node:crypto', importNames: ['randomUUID'], message: STORED_IDS }] },
      ],
    },
  },
);
