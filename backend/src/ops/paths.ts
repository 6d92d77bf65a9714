import type { Stats } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../errors.js';

/**
 * A folder path as a SQL string literal. EXPORT/IMPORT DATABASE take no parameters, so the
 * path goes into the statement itself: it must be absolute, and quotes, backslashes and
 * control characters are refused outright rather than escaped. A backup folder never needs
 * them, and then no injection depends on escaping being right.
 */
export function folderLiteral(dir: string): string {
  // eslint-disable-next-line no-control-regex
  if (!path.isAbsolute(dir) || /['"\\\u0000-\u001f\u007f]/.test(dir)) {
    throw new AppError(
      'ops.backup_dir_invalid',
      'The backup folder must be an absolute path without quotes, backslashes or control characters.',
    );
  }
  return `'${path.normalize(dir)}'`;
}

/** Creates the folder, or accepts it when it exists and is empty; anything else is refused. */
export async function prepareEmptyFolder(dir: string): Promise<void> {
  let existing: Stats | null = null;
  try {
    existing = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(dir, error);
  }
  if (existing === null) {
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw unusable(dir, error);
    });
    return;
  }
  if (!existing.isDirectory() || (await readdir(dir)).length > 0) {
    throw new AppError(
      'ops.backup_dir_invalid',
      `${dir} already exists and is not an empty folder: choose a new one.`,
    );
  }
}

/** The error code (EACCES, EROFS, ENOTDIR…) says enough; the backend's log has the rest. */
function unusable(dir: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new AppError('ops.backup_dir_invalid', `Cannot use ${dir} (${code}).`, { cause: error });
}
