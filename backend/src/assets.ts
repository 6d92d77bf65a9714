import { fileURLToPath } from 'node:url';

/**
 * The path of a file shipped beside the code (the SQL migrations, the common-passwords list),
 * given relative to src/. Resolved from this module, which sits at the root of src/: tsc puts
 * it at the root of dist/, and the production bundle (scripts/bundle.mjs) is dist/main.js, in
 * that same folder, so one relative path holds under tsx, tsc's output and the bundle.
 */
export function assetPath(relativeToSrc: string): string {
  return fileURLToPath(new URL(relativeToSrc, import.meta.url));
}
