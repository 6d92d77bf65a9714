import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { newId } from '../db/ids.js';
import { AppError } from '../errors.js';
import { Sniffer, type FileType } from './sniff.js';

/** An upload written to disk, not yet in the database (see `AttachmentStore.receive`). */
export interface ReceivedFile {
  id: string;
  type: FileType;
  size: number;
  sha256: string;
}

/** Where a file being received is written, until it is complete and checked. */
const PART = '.part';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The attached files on disk: `<dir>/<userId>/<attachmentId>`, one folder per user, so deleting
 * a user removes one folder. Only ids minted by the server (UUIDs) become path segments.
 *
 * The order of writes keeps the database from pointing to a missing file: a file is complete
 * on disk before its row is inserted, and removed only once its row's deletion has committed.
 * A crash in between leaves a file without a row, which `sweep` removes at the next start.
 */
export class AttachmentStore {
  constructor(readonly dir: string) {}

  pathOf(userId: string, id: string): string {
    if (!UUID.test(userId) || !UUID.test(id)) throw new Error('attachment path from a non-uuid');
    return path.join(this.dir, userId, id);
  }

  /**
   * Streams an upload to disk: at most `maxBytes` (past that, 413 attachment.too_large and
   * nothing kept), its SHA-256 and type computed on the way. The file is in place, under its
   * new id, when this returns; refused types and empty files are removed.
   */
  async receive(
    userId: string,
    name: string,
    body: Readable,
    maxBytes: number,
  ): Promise<ReceivedFile> {
    const id = newId();
    const final = this.pathOf(userId, id);
    const partial = `${final}${PART}`;
    await mkdir(path.dirname(final), { recursive: true });
    const hash = createHash('sha256');
    const sniffer = new Sniffer();
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new AppError('attachment.too_large', tooLargeMessage(maxBytes)));
          return;
        }
        hash.update(chunk);
        sniffer.push(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      if (size === 0) throw new AppError('attachment.empty');
      const type = sniffer.result(name);
      if (type === null) throw new AppError('attachment.unsupported_type');
      await rename(partial, final);
      return { id, type, size, sha256: hash.digest('hex') };
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** A second file with the same bytes under a new id (a hard link when the file system allows). */
  async duplicate(userId: string, sourceId: string): Promise<string> {
    const id = newId();
    const source = this.pathOf(userId, sourceId);
    const target = this.pathOf(userId, id);
    try {
      await link(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
      await copyFile(source, target);
    }
    return id;
  }

  read(userId: string, id: string): Promise<Buffer> {
    return readFile(this.pathOf(userId, id));
  }

  /** A stream of the file; rejects (ENOENT) when it is missing, before anything is sent. */
  async open(userId: string, id: string): Promise<Readable> {
    const file = this.pathOf(userId, id);
    await stat(file);
    return createReadStream(file);
  }

  /** Removes files whose rows are gone (committed). A file already missing is no error. */
  async remove(userId: string, ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => rm(this.pathOf(userId, id), { force: true })));
  }

  /** Removes every file of a user whose rows are gone (the user was deleted). */
  async removeUser(userId: string): Promise<void> {
    if (!UUID.test(userId)) throw new Error('attachment path from a non-uuid');
    await rm(path.join(this.dir, userId), { recursive: true, force: true });
  }

  /**
   * At start: removes every file that is not one of `known` (by user folder and id), partial
   * uploads included. Returns how many files were removed.
   */
  async sweep(known: (userId: string, id: string) => boolean): Promise<number> {
    let removed = 0;
    const users = await readdir(this.dir, { withFileTypes: true }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
    for (const user of users) {
      const userDir = path.join(this.dir, user.name);
      if (!user.isDirectory() || !UUID.test(user.name)) continue;
      let kept = 0;
      for (const file of await readdir(userDir)) {
        if (UUID.test(file) && known(user.name, file)) {
          kept++;
          continue;
        }
        await rm(path.join(userDir, file), { recursive: true, force: true });
        removed++;
      }
      if (kept === 0) await rm(userDir, { recursive: true, force: true });
    }
    return removed;
  }
}

export function tooLargeMessage(maxBytes: number): string {
  return `The file is larger than ${Math.round(maxBytes / (1024 * 1024))} MB, the most one attachment may be.`;
}
