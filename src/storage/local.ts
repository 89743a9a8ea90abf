import { createReadStream, constants as fsConstants } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDurableFile } from '../durable-file.js';
import { LmsError } from '../errors.js';
import type { FsCall } from '../files.js';
import {
  conflictError,
  StorageAuthError,
  StorageNotFoundError,
  type StorageOperation,
  StorageRequestError,
} from './errors.js';
import { classifyFault } from './faults.js';
import { type FsWatch, fsWatchFor } from './fs-watch.js';
import { TEMP_PREFIX, validateKey, validatePrefix } from './keys.js';
import { hashStream } from './source.js';
import { sweepTemporaryFiles, temporaryName } from './staging.js';
import type { StorageTimeouts } from './timeouts.js';
import { type GetOptions, matchesWitness, type PutSource, type Storage, type StoredObject } from './types.js';
import { integrityError } from './verify.js';

const TRANSIENT_FS = new Set(['EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN', 'EINTR']);
/** link(2) is not available on this filesystem (FAT, some network filesystems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/**
 * A directory on a local (or mounted) filesystem. Writes are create-only and atomic: the
 * bytes go to a temp file in the target directory, are fsynced, then hard-linked to the final
 * name (link fails if the name exists), and the directory is fsynced. Every call is bounded
 * (storage/fs-watch.ts): a mount that stops answering fails the run instead of hanging it.
 */
export class LocalStorage implements Storage {
  readonly kind = 'local' as const;
  readonly display: string;
  readonly root: string;
  private readonly watch: FsWatch;

  constructor(root: string, timeouts?: StorageTimeouts) {
    this.root = resolve(root);
    this.display = this.root;
    this.watch = fsWatchFor(this.root, timeouts);
  }

  /** File-system calls for `operation` on `key`, each within the watch's deadline. */
  private io(operation: StorageOperation, key: string | undefined): FsCall {
    return this.watch.calls(operation, key);
  }

  private pathOf(key: string): string {
    return join(this.root, ...validateKey(key).split('/'));
  }

  async put(key: string, source: PutSource): Promise<StoredObject> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    const io = this.io('put', key);
    try {
      await io('mkdir', () => mkdir(dir, { recursive: true }));
      // Fail before copying gigabytes when the name is already taken.
      if (await exists(target, io)) throw conflictError(this.display, key);
      if (source.path) {
        const linked = await this.putByLink(key, source, source.path, target, dir, io);
        if (linked) return linked;
      }
      return await this.putByCopy(key, source, target, dir, io);
    } catch (err) {
      throw this.mapError('put', key, err);
    }
  }

  /**
   * Same filesystem: the staged file becomes the stored object (no copy). The staging file
   * must not be modified afterwards; deleting it is fine.
   */
  private async putByLink(
    key: string,
    source: PutSource,
    sourcePath: string,
    target: string,
    dir: string,
    io: FsCall,
  ): Promise<StoredObject | undefined> {
    const [src, parent] = await io('stat', () => Promise.all([stat(sourcePath), stat(dir)]));
    if (src.dev !== parent.dev || !src.isFile()) return undefined;
    // Check before linking so a wrong source never becomes visible under the final name: a
    // file untouched since its bytes were hashed on the way in needs no second read.
    const untouched =
      source.witness !== undefined &&
      source.witness.size === BigInt(source.size) &&
      matchesWitness(await io('stat', () => stat(sourcePath, { bigint: true })), source.witness);
    if (!untouched) {
      const actual = await hashStream(this.watch.guardRead(createReadStream(sourcePath), key));
      if (actual.size !== source.size || actual.sha256 !== source.sha256) {
        throw integrityError(this.display, key, source, actual, 'source file for');
      }
    }
    try {
      await io('link', () => link(sourcePath, target));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw conflictError(this.display, key);
      if (code === 'EXDEV' || NO_HARD_LINKS.has(code ?? '')) return undefined;
      throw err;
    }
    await io('fsync', () => fsyncPath(target));
    await io('fsync', () => fsyncDir(dir));
    const st = await io('stat', () => stat(target));
    return { key, size: st.size, lastModified: st.mtime };
  }

  private async putByCopy(
    key: string,
    source: PutSource,
    target: string,
    dir: string,
    io: FsCall,
  ): Promise<StoredObject> {
    const temp = join(dir, temporaryName(basename(target)));
    let tempExists = true;
    try {
      // Created only if absent (0600), fsynced, hashed as written; each write bounded.
      const out = createDurableFile(temp, { io });
      await pipeline(source.open(), out);
      const written = { size: out.bytes, sha256: out.digest() };
      if (written.size !== source.size || written.sha256 !== source.sha256) {
        throw integrityError(this.display, key, source, written, 'data written for');
      }
      try {
        await io('link', () => link(temp, target));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw conflictError(this.display, key);
        if (!NO_HARD_LINKS.has(code ?? '')) throw err;
        // No hard links here: rename is still atomic, create-only by the check just before.
        if (await exists(target, io)) throw conflictError(this.display, key);
        await io('rename', () => rename(temp, target));
        tempExists = false;
      }
      if (tempExists) {
        await io('unlink', () => unlink(temp));
        tempExists = false;
      }
      await io('fsync', () => fsyncDir(dir));
      const st = await io('stat', () => stat(target));
      return { key, size: st.size, lastModified: st.mtime };
    } finally {
      if (tempExists) await io('unlink', () => unlink(temp)).catch(() => {});
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.pathOf(key);
    const io = this.io('get', key);
    let handle: FileHandle | undefined;
    try {
      handle = await io('open', () => open(path, 'r'));
      const fh = handle;
      if (!(await io('stat', () => fh.stat())).isFile())
        throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      // 1 MiB reads: a dump is read once, straight through; 64 KiB reads cost each consumer
      // (hash, decryption, zstd's pipe) sixteen times the calls.
      const start = options.offset ?? 0;
      return this.watch.guardRead(handle.createReadStream({ highWaterMark: 1 << 20, start }), key);
    } catch (err) {
      const fh = handle;
      if (fh) await io('close', () => fh.close()).catch(() => {});
      throw this.mapError('get', key, err);
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    const path = this.pathOf(key);
    try {
      const st = await this.watch.run('stat', 'head', key, () => stat(path));
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw this.mapError('head', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.walk(slash >= 0 ? prefix.slice(0, slash) : '', prefix);
  }

  private async *walk(rel: string, prefix: string): AsyncGenerator<StoredObject> {
    const io = this.io('list', rel || undefined);
    let entries: import('node:fs').Dirent[];
    try {
      const dir = rel ? join(this.root, ...rel.split('/')) : this.root;
      entries = await io('readdir', () => readdir(dir, { withFileTypes: true }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.mapError('list', rel, err);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        // Descend only where keys can still match the prefix.
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(key, prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      try {
        const st = await io('stat', () => stat(join(this.root, ...key.split('/'))));
        if (st.isFile()) yield { key, size: st.size, lastModified: st.mtime };
      } catch (err) {
        // Deleted while we walked: not an object any more.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.mapError('list', key, err);
      }
    }
  }

  async sweepTemporary(before: Date, dryRun = false): Promise<string[]> {
    return this.watch.run('sweep', 'list', undefined, () =>
      sweepTemporaryFiles(this.root, before, { recursive: true, dryRun }),
    );
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    const io = this.io('delete', key);
    try {
      await io('unlink', () => unlink(path));
      await io('fsync', () => fsyncDir(dirname(path)));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.mapError('delete', key, err);
    }
  }

  private mapError(operation: StorageOperation, key: string, err: unknown): Error {
    if (err instanceof LmsError) return err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const where = `${this.display}${sep}${key.split('/').join(sep)}`;
    const message = err instanceof Error ? err.message : String(err);
    if (operation === 'get' && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')) {
      return new StorageNotFoundError(`${this.display}: ${key} does not exist`, {
        location: this.display,
        key,
        operation,
      });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new StorageAuthError(`${operation} ${where}: permission denied (${code})`, {
        location: this.display,
        operation,
        cause: err,
        hint: `check that the user running lms-backup can write to ${this.display} (owner, mode, read-only mount)`,
      });
    }
    return new StorageRequestError(`${operation} ${where} failed: ${message}`, {
      location: this.display,
      operation,
      key,
      cause: err,
      transient: TRANSIENT_FS.has(code) || (!code && classifyFault(err).transient),
      ...(code === 'ENOSPC' ? { hint: `free space on the filesystem holding ${this.display}` } : {}),
    });
  }
}

async function exists(path: string, io: FsCall): Promise<boolean> {
  try {
    await io('stat', () => stat(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a new directory entry durable. Not possible on Windows (EPERM/EISDIR): skipped there. */
async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close().catch(() => {});
  }
}
