import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PutSource } from './types.js';

/** A source over bytes in memory (manifests, sidecars, reports). */
export function bufferSource(data: Buffer | string): PutSource {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    open: () => Readable.from(buf.length ? [buf] : []),
    size: buf.length,
    sha256: createHash('sha256').update(buf).digest('hex'),
  };
}

/** A source over a local file, hashed once now; `path` lets the local backend hard-link it. */
export async function fileSource(path: string): Promise<PutSource> {
  const before = await stat(path);
  if (!before.isFile()) throw new Error(`${path} is not a regular file`);
  const { sha256, size } = await hashStream(createReadStream(path));
  return { open: () => createReadStream(path), size, sha256, path };
}

/**
 * A pass-through that measures what flows through it: byte count, SHA-256 and optionally
 * MD5 (for stores that report an MD5 of what they stored).
 */
export class HashingStream extends Transform {
  bytes = 0;
  private readonly sha = createHash('sha256');
  private readonly md5Hash: Hash | undefined;
  private digests: { sha256: string; md5: Buffer | undefined } | undefined;

  constructor(opts: { md5?: boolean } = {}) {
    super();
    this.md5Hash = opts.md5 ? createHash('md5') : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.sha.update(chunk);
    this.md5Hash?.update(chunk);
    cb(null, chunk);
  }

  /** Only after the stream ended. */
  result(): { sha256: string; md5: Buffer | undefined; size: number } {
    this.digests ??= { sha256: this.sha.digest('hex'), md5: this.md5Hash?.digest() };
    return { ...this.digests, size: this.bytes };
  }
}

/** Reads a stream to its end, returning its SHA-256 (hex) and size. */
export async function hashStream(
  stream: NodeJS.ReadableStream | Readable,
): Promise<{ sha256: string; size: number }> {
  const sha = createHash('sha256');
  let size = 0;
  await pipeline(stream as Readable, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      size += chunk.length;
      sha.update(chunk);
    }
  });
  return { sha256: sha.digest('hex'), size };
}

/** Reads a stream fully into memory (for small objects only). */
export async function readAll(stream: NodeJS.ReadableStream | Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}
