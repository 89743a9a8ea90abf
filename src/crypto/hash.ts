/** SHA-256 while streaming (never a second read), and `sha256sum`-compatible sidecar files. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Sha256SidecarError } from './errors.js';

/**
 * Passes bytes through unchanged while counting them and hashing them with SHA-256.
 * `digest()` is available once the stream has ended (after 'end' / 'finish' of the pipeline).
 * Like any Transform it must be read: put it in the middle of a pipeline, or `.resume()` it.
 */
export class Sha256Meter extends Transform {
  private count = 0;
  private readonly hash: Hash = createHash('sha256');
  private hex: string | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.hex = this.hash.digest('hex');
    callback();
  }

  /** Bytes that passed through so far. */
  get bytes(): number {
    return this.count;
  }

  /** Lowercase hex SHA-256 of every byte that passed through. Throws before the stream ended. */
  digest(): string {
    if (this.hex === undefined) throw new Error('Sha256Meter.digest() called before the stream ended');
    return this.hex;
  }
}

/** Size and SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(createReadStream(path), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  });
  return { bytes, sha256: hash.digest('hex') };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The sidecar text `sha256sum` writes and `sha256sum -c` checks: `"<hex>  <fileName>\n"`. */
export function sha256Sidecar(hex: string, fileName: string): string {
  const h = hex.toLowerCase();
  if (!HEX64.test(h)) throw new RangeError(`not a SHA-256 hex digest: ${JSON.stringify(hex)}`);
  // sha256sum escapes these characters with a backslash prefix; our names never contain them.
  if (fileName === '' || /[\n\r\\]/.test(fileName)) {
    throw new RangeError(`file name unsuitable for a sha256sum line: ${JSON.stringify(fileName)}`);
  }
  return `${h}  ${fileName}\n`;
}

/** Parses one `sha256sum` line (text `"hex  name"` or binary `"hex *name"` mode). */
export function parseSha256Sidecar(text: string): { sha256: string; fileName: string } {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
  const line = lines[0] ?? '';
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
  if (lines.length !== 1 || !m) {
    const shown = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
    throw new Sha256SidecarError(
      `The checksum sidecar is not in sha256sum format ("<64 hex digits>  <file name>"): got ${shown}`,
      {
        hint: 'The .sha256 file is damaged or was written by another tool. Recompute it from a known-good copy with `sha256sum <file> > <file>.sha256`, or verify the backup against its manifest.',
      },
    );
  }
  return { sha256: m[1]!.toLowerCase(), fileName: m[2]! };
}
