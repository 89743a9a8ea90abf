/**
 * A file written for keeps: created only if absent (0600), written in large batches, flushed
 * to disk while it is being written and fsynced before the stream finishes. A dump is some
 * thousands of 64 KiB pieces; one write(2) per piece through the thread pool cost more CPU
 * than the encryption of them, on runners where the database server already takes a core.
 * The file hashes what it writes, so the stored bytes' SHA-256 needs no stream of its own.
 * Each file-system call goes through `io`: a watched directory bounds them (storage/fs-watch.ts).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { FsCall } from './files.js';
import type { FileWitness } from './storage/types.js';
import { youngGcEvery } from './young-gc.js';

/** Bytes gathered before one write(2). */
const BATCH = 1 << 20;
/**
 * Bytes written between background fdatasync calls: the final fsync has little left to do. A
 * backup waits for that fsync; with 32 MiB it took 35-60 ms at the end of a 122 MiB dump, with
 * 8 MiB 5-6 ms (the same bytes reach the disk either way, earlier).
 */
const SYNC_EVERY = 8 << 20;

class DurableFile extends Writable {
  private fh: FileHandle | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Dead pieces are freed by a young-generation GC every 4 MiB written (src/young-gc.ts). */
  private readonly collect = youngGcEvery();
  private sinceSync = 0;
  private syncing: Promise<void> | undefined;
  private readonly hash = createHash('sha256');
  private written = 0;
  private hex: string | undefined;
  private seen: FileWitness | undefined;

  constructor(
    private readonly path: string,
    private readonly flags: string,
    private readonly io: FsCall,
  ) {
    super({ highWaterMark: BATCH });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.io('open', () => open(this.path, this.flags, 0o600)).then((fh) => {
      this.fh = fh;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < BATCH) callback();
    else this.flush().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      await this.flush();
      await this.syncing;
      const fh = this.fh!;
      await this.io('fsync', () => fh.sync());
      this.hex = this.hash.digest('hex');
      const { dev, ino, size, mtimeNs, ctimeNs } = await this.io('stat', () => fh.stat({ bigint: true }));
      this.seen = { dev, ino, size, mtimeNs, ctimeNs };
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = undefined;
    const closing = (this.syncing ?? Promise.resolve())
      .catch(() => {})
      .then(() => (fh ? this.io('close', () => fh.close()) : undefined));
    closing.then(
      () => callback(error),
      (closeError: Error) => callback(error ?? closeError),
    );
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.written;
  }

  /** SHA-256 (hex) of every byte of the file; throws before the stream finished. */
  digest(): string {
    if (this.hex === undefined) throw new Error('DurableFile.digest() called before the stream finished');
    return this.hex;
  }

  /** The file as it was when finished: what later readers can check instead of rehashing. */
  get witness(): FileWitness {
    if (this.seen === undefined) throw new Error('DurableFile.witness read before the stream finished');
    return this.seen;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const pieces = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    const fh = this.fh!;
    await this.io('write', () => writevAll(fh, pieces));
    this.collect(total);
    this.written += total;
    this.sinceSync += total;
    // A background flush of what is written so far (one at a time): writing goes on meanwhile.
    if (this.sinceSync >= SYNC_EVERY && !this.syncing) {
      this.sinceSync = 0;
      this.syncing = this.io('fsync', () => fh.datasync()).finally(() => {
        this.syncing = undefined;
      });
      this.syncing.catch(() => {}); // a failure fails the stream in _final
    }
  }
}

export type { DurableFile };

/**
 * Writes `pieces` at the handle's position with writev(2), one call for the lot; a short write
 * (rare on a regular file) goes on from where it stopped.
 */
export async function writevAll(fh: FileHandle, pieces: Buffer[]): Promise<void> {
  let pending = pieces;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest: Buffer[] = [];
    for (const c of pending) {
      if (bytesWritten >= c.length) bytesWritten -= c.length;
      else {
        rest.push(c.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/**
 * A writable file that is on disk once the stream has finished ('finish', or the end of a
 * `pipeline`), with the size and SHA-256 of what was written. `exclusive` (the default)
 * refuses a name that exists.
 */
export function createDurableFile(
  path: string,
  options: { exclusive?: boolean; io?: FsCall } = {},
): DurableFile {
  return new DurableFile(path, options.exclusive === false ? 'w' : 'wx', options.io ?? ((_what, fn) => fn()));
}
