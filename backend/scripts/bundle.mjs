// The production server as one minified file: dist/main.js, bundled from src/main.ts with the
// JavaScript dependencies it loads. The last step of `npm run build`, after tsc has type-checked
// and emitted dist/ (the ops CLI, dist/ops.js, stays tsc's output) and the assets are copied.
//
// Why: V8 keeps the source text of every loaded module, comments and all, to compile functions
// lazily; Fastify, ajv, undici, pino and the app as separate files held 14 MB more of the
// backend's memory at rest, and 22–25 MB more at its peaks under load, than this file does,
// for the same CPU per answer (docs/benchmarks.md, Findings 12). Whitespace and syntax are minified, identifiers are not:
// stack traces, heap snapshots and logs name the functions and classes as the sources do
// (full minification saved ~4 MB more; esbuild's `keepNames`, which would restore the names,
// defines a `name` on every closure as it is created, ~5 MB at 1,000 streams and CPU with it).
// dist/main.js.map maps a position back to src/.
//
// Left outside the bundle, loaded from node_modules as before: the packages with native
// binaries (DuckDB, argon2) and @fastify/swagger-ui, which serves its files from its own folder.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'external',
  sourcesContent: false,
  legalComments: 'none',
  external: ['@duckdb/*', '@node-rs/*', '@fastify/swagger-ui'],
  // CommonJS dependencies inside an ES module bundle still call require() for Node's builtins.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// V8 keeps a script's source as one-byte (Latin-1) text only if every character fits; one
// character beyond doubles the whole bundle in memory (2.7 MB; idle RSS 200 against 195 MB). esbuild
// escapes strings (its default `charset: 'ascii'`) but leaves regex literals as written.
const bundled = readFileSync('dist/main.js', 'utf8');
const wide = bundled.search(/[\u0100-\uffff]/);
if (wide !== -1) {
  const line = bundled.slice(0, wide).split('\n').length;
  console.error(
    `dist/main.js:${line}: ${JSON.stringify(bundled.slice(Math.max(0, wide - 60), wide + 20))}\n` +
      'has a character beyond Latin-1 (in a regex literal?): write it as a \\u escape in src/.',
  );
  process.exit(1);
}
