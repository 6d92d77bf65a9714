/**
 * Operator commands, run where the backend runs, with its environment (PORT, DATABASE_PATH):
 *
 *   ops backup <dir>             a consistent backup folder (Parquet + manifest.json)
 *   ops restore <dir>            replaces the database file with a backup; backend stopped
 *   ops reset-password <user>    new password from NEW_PASSWORD or stdin; signs the user out
 *
 * DuckDB lets one process only open the file, so backup and reset-password go through the
 * running backend (POST http://127.0.0.1:PORT/ops/...) and open the file themselves only
 * when nothing listens there.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { createAuthService } from './auth/service.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DatabaseLockedError, openDatabase, type Database } from './db/connection.js';
import { migrate } from './db/migrate.js';
import { isAppError, OpsError } from './errors.js';
import { backupDatabase } from './ops/backup.js';
import { backendRunning, callBackend, errorMessage } from './ops/client.js';
import type { Manifest } from './ops/manifest.js';
import { readNewPassword } from './ops/password-input.js';
import { restoreDatabase } from './ops/restore.js';

const USAGE = `Usage:
  npm run ops -- backup <dir>              write a backup into <dir> (a new or empty folder)
  npm run ops -- restore <dir>             replace the database with the backup in <dir> (stop the backend first)
  npm run ops -- reset-password <username> set a new password, read from NEW_PASSWORD or stdin`;

async function main(argv: string[]): Promise<number> {
  const [command, argument, ...extra] = argv;
  if (argument === undefined || extra.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'backup':
      return backup(config, userPath(argument));
    case 'restore':
      return restore(config, userPath(argument));
    case 'reset-password':
      return resetPassword(config, argument);
    default:
      console.error(USAGE);
      return 2;
  }
}

/** npm runs scripts from the package folder; a relative path means the caller's folder. */
function userPath(argument: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), argument);
}

async function backup(config: Config, dir: string): Promise<number> {
  const answer = await callBackend(config.port, '/ops/backup', { dir });
  let manifest: Manifest;
  let via: string;
  if (answer.reached) {
    if (answer.status !== 200) throw new OpsError(`Backup failed: ${errorMessage(answer)}`);
    manifest = answer.body as Manifest;
    via = `through the backend running on port ${config.port}`;
  } else {
    manifest = await withDatabaseFile(config, (db) =>
      backupDatabase(db, dir, { attachmentsDir: config.attachmentsDir }),
    );
    via = `from ${path.resolve(config.databasePath)} (the backend is not running)`;
  }
  console.log(`Backup written to ${dir}, ${via}.`);
  printContents(manifest);
  return 0;
}

async function restore(config: Config, dir: string): Promise<number> {
  if (await backendRunning(config.port)) {
    throw new OpsError(
      `The backend is running (it answers on 127.0.0.1:${config.port}) and holds the database ` +
        'file: stop it first, then run restore again.',
    );
  }
  const result = await restoreDatabase({ target: config.databasePath, dir });
  console.log(`Restored the backup of ${result.manifest.createdAt} into ${result.target}.`);
  printContents(result.manifest);
  if (result.previous) console.log(`The previous database is kept as ${result.previous}.`);
  if (result.previousAttachments)
    console.log(`The previous attached files are kept in ${result.previousAttachments}.`);
  console.log('Start the backend to use it.');
  return 0;
}

async function resetPassword(config: Config, username: string): Promise<number> {
  const password = await readNewPassword();
  const answer = await callBackend(config.port, '/ops/reset-password', { username, password });
  let sessionsRevoked: number;
  if (answer.reached) {
    if (answer.status !== 200) throw new OpsError(`Reset failed: ${errorMessage(answer)}`);
    sessionsRevoked = (answer.body as { sessionsRevoked: number }).sessionsRevoked;
  } else {
    const result = await withDatabaseFile(config, (db) =>
      createAuthService(db).resetPassword(username, password),
    );
    sessionsRevoked = result.sessionsRevoked;
  }
  console.log(
    `The password of ${username} is changed; ${sessionsRevoked} session(s) were signed out.`,
  );
  return 0;
}

/** With no backend running: the file opened here, migrated like the backend would, closed after. */
async function withDatabaseFile<T>(config: Config, work: (db: Database) => Promise<T>) {
  const file = path.resolve(config.databasePath);
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    throw new OpsError(
      `No database at ${file} (DATABASE_PATH), and no backend on port ${config.port}.`,
    );
  }
  let db: Database;
  try {
    db = await openDatabase(file);
  } catch (error) {
    if (!(error instanceof DatabaseLockedError)) throw error;
    throw new OpsError(
      `${file} is locked by another process, but no backend answers on 127.0.0.1:${config.port}. ` +
        'If the backend is starting, try again in a moment; otherwise check PORT.',
    );
  }
  try {
    await migrate(db);
    return await work(db);
  } finally {
    await db.checkpoint();
    await db.close();
  }
}

function printContents(manifest: Manifest): void {
  const tables = Object.entries(manifest.tables).map(([name, rows]) => `${name} ${rows}`);
  console.log(`  rows: ${tables.join(', ')}`);
  console.log(`  migrations: ${manifest.migrations.join(', ')}`);
  if (manifest.attachmentFiles !== undefined)
    console.log(`  attached files: ${manifest.attachmentFiles}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof OpsError || error instanceof ConfigError || isAppError(error);
    console.error(known ? (error as Error).message : error);
    process.exit(1);
  },
);
