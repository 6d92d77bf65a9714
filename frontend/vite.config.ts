import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, 'dist', 'web');
const COMPRESSIBLE = /\.(?:js|css|html|svg|json|txt)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * Writes .gz and .br next to each text asset (served by @fastify/static's preCompressed
 * option) and prints the compressed sizes.
 */
function precompress(): Plugin {
  return {
    name: 'precompress',
    apply: 'build',
    closeBundle() {
      const rows: string[] = [];
      for (const file of filesUnder(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const raw = readFileSync(file);
        const gz = gzipSync(raw, { level: 9 });
        const br = brotliCompressSync(raw, {
          params: { [constants.BROTLI_PARAM_QUALITY]: 11 },
        });
        writeFileSync(`${file}.gz`, gz);
        writeFileSync(`${file}.br`, br);
        rows.push(
          `  ${relative(outDir, file).padEnd(40)} ${(raw.length / 1024).toFixed(1).padStart(7)} kB  gzip ${(gz.length / 1024).toFixed(1).padStart(6)} kB  br ${(br.length / 1024).toFixed(1).padStart(6)} kB`,
        );
      }
      console.log(`\nprecompressed (dist/web):\n${rows.join('\n')}\n`);
    },
  };
}

/**
 * Loads the entry module render-blocking (`blocking="render"`): it applies the stored theme
 * before the first paint (web/src/lib/theme.ts). Vite rewrites the script tag and drops the
 * attribute, so it is added back here.
 */
function renderBlockingEntry(): Plugin {
  return {
    name: 'render-blocking-entry',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler: (html) =>
        html.replace(
          /<script type="module"(?![^>]*blocking=)/g,
          '<script type="module" blocking="render"',
        ),
    },
  };
}

export default defineConfig({
  root: join(here, 'web'),
  publicDir: join(here, 'web', 'public'),
  plugins: [react(), renderBlockingEntry(), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    port: 12016,
    strictPort: true,
    proxy: {
      '/api': {
        target: process.env['BACKEND_URL'] ?? 'http://localhost:12015',
        changeOrigin: true,
      },
    },
  },
});
