/**
 * Download, checksum, decryption and decompression of one stored object in a single pass:
 * the stored bytes are hashed as they arrive and fed on to age (and zstd -d) at once, into a
 * hidden temp file. The file takes its final name only when every check passed (the stored
 * size and SHA-256, the authenticated decryption, the plaintext's SHA-256, zstd's own content
 * checksum): nothing unverified is ever handed on. A damaged object is still read to its end,
 * so its checksum mismatch is reported rather than the decryption error it also causes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough, type Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startZstdDecompress } from '../compress/zstd.js';
import type { DecryptionKeys } from '../config.js';
import { createAgeDecryptStream } from '../crypto/age.js';
import { Sha256Meter } from '../crypto/hash.js';
import { writevAll } from '../durable-file.js';
import { youngGcEvery } from '../young-gc.js';

export interface PassResult {
  /** The storage read failed (the object is missing or the connection broke). */
  readError?: unknown;
  stored: { bytes: number; sha256: string };
  /** Why decryption failed (age), when it did. */
  decryptError?: unknown;
  /** Why decompression failed (zstd), when it did and decryption did not. */
  decompressError?: unknown;
  /** What age gave back (the zstd stream when compressed), when decryption finished. */
  plain?: { bytes: number; sha256: string };
  /** Date.now() when the last stored byte arrived (the rest of the pass is the decode's tail). */
  readEndedAt: number;
}

export interface PassOptions {
  /** age keys when the object is encrypted; undefined when it is stored in the clear. */
  keys?: DecryptionKeys;
  /** The object's outer compression is zstd: decompress after decrypting. */
  zstd?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Bytes downloaded so far, for a progress line. */
  onBytes?: (bytes: number) => void;
}

/**
 * Runs the pass into a temp file next to `dest`. `accept(result)` decides (every check of the
 * caller); when it returns true the file is renamed to `dest`, else removed.
 */
export async function fetchInOnePass(
  open_: () => Promise<Readable>,
  dest: string,
  options: PassOptions,
  accept: (r: PassResult) => boolean,
): Promise<PassResult & { accepted: boolean }> {
  const temp = join(dirname(dest), `.${basename(dest)}.${randomBytes(6).toString('hex')}.partial`);
  const hash = createHash('sha256');
  let storedBytes = 0;
  const collect = youngGcEvery(); // the downloaded pieces are dead by then (src/young-gc.ts)
  const result: PassResult = { stored: { bytes: 0, sha256: '' }, readEndedAt: 0 };
  let handle: FileHandle | undefined;
  let accepted = false;
  try {
    handle = await open(temp, 'wx', 0o600);
    const counted = fileSink(handle);
    const head: Transform = options.keys ? createAgeDecryptStream(options.keys) : new PassThrough();
    const plain = new Sha256Meter();
    let decodeDone: Promise<void>;
    if (options.zstd) {
      // The zstd binary writes the payload into the file itself (Node never copies it).
      const z = startZstdDecompress(options.env, { outputFd: handle.fd });
      const toZstd = pipeline(head, plain, z.stdin as NodeJS.WritableStream).catch((error: unknown) => {
        result.decryptError ??= isAgeError(error) ? error : undefined;
        z.kill();
        throw error;
      });
      const fromZstd = z.stdout ? pipeline(z.stdout, counted) : Promise.resolve();
      decodeDone = Promise.all([
        toZstd,
        fromZstd,
        z.done.catch((error: unknown) => {
          result.decompressError ??= error;
          throw error;
        }),
      ]).then(() => {});
    } else {
      decodeDone = pipeline(head, plain, counted).catch((error: unknown) => {
        result.decryptError ??= error;
        throw error;
      });
    }
    let decodeFailed: unknown;
    decodeDone.catch((error: unknown) => {
      decodeFailed ??= error;
    });

    try {
      const input = await open_();
      for await (const chunk of input as AsyncIterable<Buffer>) {
        hash.update(chunk);
        storedBytes += chunk.length;
        collect(chunk.length);
        options.onBytes?.(storedBytes);
        if (decodeFailed === undefined && !head.destroyed && !head.write(chunk)) await drained(head);
      }
      result.stored = { bytes: storedBytes, sha256: hash.digest('hex') };
      result.readEndedAt = Date.now();
      if (!head.destroyed) head.end();
    } catch (error) {
      result.readError = error;
      result.stored = { bytes: storedBytes, sha256: '' };
      result.readEndedAt = Date.now();
      head.destroy();
    }
    try {
      await decodeDone;
      result.plain = { bytes: plain.bytes, sha256: plain.digest() };
    } catch (error) {
      if (!result.decryptError && !result.decompressError && !result.readError) {
        if (options.zstd) result.decompressError = error;
        else result.decryptError = error;
      }
    }
    accepted = accept(result);
    // Not fsynced: the file is a run's scratch copy (restored or listed, then removed), and a
    // crash ends the run anyway. Forcing 3-10x the stored size to disk only made the restore
    // wait for writeback.
    if (accepted) {
      await handle.close();
      handle = undefined;
      await rename(temp, dest);
    }
  } finally {
    await handle?.close().catch(() => {});
    if (!accepted) await rm(temp, { force: true });
  }
  return { ...result, accepted };
}

function isAgeError(error: unknown): boolean {
  return error instanceof Error && /^Age/.test(error.constructor.name);
}

function drained(stream: Writable | Transform): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Writes into an open FileHandle (batched writev) and leaves closing to the caller. */
function fileSink(handle: FileHandle): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    writev(chunks, callback) {
      writevAll(
        handle,
        chunks.map((c) => c.chunk as Buffer),
      ).then(() => callback(), callback);
    },
  });
}
