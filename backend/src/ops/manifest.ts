import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { OpsError } from '../errors.js';

export const MANIFEST_FILE = 'manifest.json';

/** What a backup folder holds besides DuckDB's export: enough to check a restore against. */
export const Manifest = Type.Object({
  format: Type.Literal('ai-backup/1'),
  createdAt: Type.String({ format: 'date-time' }),
  engine: Type.String({ description: 'DuckDB version that wrote the backup' }),
  migrations: Type.Array(Type.String(), { description: 'schema_migrations at backup time' }),
  tables: Type.Record(Type.String(), Type.Integer(), { description: 'rows per table' }),
  attachmentFiles: Type.Optional(
    Type.Integer({ description: 'attached files copied into attachments/ (one per row)' }),
  ),
});
export type Manifest = Static<typeof Manifest>;

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The folder's manifest; an error that says what is wrong when it is missing or malformed. */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    throw new OpsError(`${file} is missing: ${dir} is not a folder written by \`ops backup\`.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new OpsError(`${file} is not valid JSON.`);
  }
  if (!Value.Check(Manifest, parsed)) throw new OpsError(`${file} is not a backup manifest.`);
  return parsed;
}
