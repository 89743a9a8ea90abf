/**
 * age v1 (age-encryption.org/v1) for backups: X25519 recipients and scrypt passphrases,
 * streaming in constant memory on node:crypto's native ChaCha20-Poly1305. Files we write decrypt
 * with the stock `age` CLI and files it writes decrypt here, so recovery never depends on this tool.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AgeDecryptOptions, createAgeDecryptStream } from './age-stream.js';
import { Sha256Meter } from './hash.js';

export type { Stanza } from './age-format.js';
export {
  DEFAULT_MAX_SCRYPT_WORK_FACTOR,
  DEFAULT_SCRYPT_WORK_FACTOR,
  generateIdentity,
  loadIdentities,
  type ParsedRecipient,
  parseIdentities,
  parseRecipient,
  recipientOf,
} from './age-keys.js';
export {
  type AgeDecryptOptions,
  type AgeEncryptOptions,
  createAgeDecryptStream,
  createAgeEncryptStream,
} from './age-stream.js';
export * from './errors.js';

/**
 * Decrypts `source` into `destPath` so that no unauthenticated plaintext ever appears there:
 * it writes a 0600 temp file next to destPath, fsyncs it, and renames it over destPath only
 * after the final chunk authenticated (then fsyncs the directory). On any error the temp file
 * is removed and destPath is left untouched. Returns the plaintext size and SHA-256.
 */
export async function decryptToFile(
  source: Readable,
  destPath: string,
  options: AgeDecryptOptions,
): Promise<{ bytes: number; sha256: string }> {
  // Bad options fail before anything touches the disk.
  const decrypt = createAgeDecryptStream(options);
  const dir = dirname(destPath);
  const temp = join(dir, `.${basename(destPath)}.${randomBytes(6).toString('hex')}.partial`);
  const meter = new Sha256Meter();
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx', 0o600);
    await pipeline(source, decrypt, meter, fileSink(handle));
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, destPath);
  } catch (error) {
    source.destroy();
    await handle?.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
  return { bytes: meter.bytes, sha256: meter.digest() };
}

/** Writes into an open FileHandle and leaves closing to the caller (who fsyncs first). */
function fileSink(handle: FileHandle): Writable {
  const writeAll = async (chunks: Buffer[]) => {
    let pending = chunks;
    while (pending.length > 0) {
      let { bytesWritten } = await handle.writev(pending);
      // writev may write less than asked: continue with what is left.
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
  };
  return new Writable({
    highWaterMark: 1024 * 1024,
    writev(chunks, callback) {
      writeAll(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback);
    },
  });
}

/** Makes a rename durable; some platforms (Windows) cannot open directories, which is fine. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Not supported on this platform/filesystem.
  } finally {
    await handle.close();
  }
}
