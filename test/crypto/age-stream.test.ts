/** Streaming properties: any input split round-trips, and memory stays constant on big streams. */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AgeTamperedError,
  createAgeDecryptStream,
  createAgeEncryptStream,
  decryptToFile,
  generateIdentity,
} from '../../src/crypto/age.js';
import { collect, makeTempDir, pieces, randomData } from './helpers.js';

describe('round trip', () => {
  const ids = [generateIdentity(), generateIdentity(), generateIdentity()];

  it('any size and any way of splitting plaintext and ciphertext', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: 300_000 }),
          fc.constantFrom(0, 1, 65535, 65536, 65537, 131072, 131073),
        ),
        fc.array(fc.integer({ min: 1, max: 140_000 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 140_000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 3 }),
        async (size, plainSplits, cipherSplits, recipients) => {
          const data = randomData(size, size + 17);
          const enc = await collect(
            pieces(data, plainSplits),
            createAgeEncryptStream({ recipients: ids.slice(0, recipients).map((i) => i.recipient) }),
          );
          const identity = ids[recipients - 1]!.identity;
          const dec = await collect(
            pieces(enc, cipherSplits),
            createAgeDecryptStream({ identities: [identity] }),
          );
          expect(dec.equals(data)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('two encryptions of the same input differ (fresh file key, nonce and ephemeral share)', async () => {
    const data = randomData(1000);
    const a = await collect([data], createAgeEncryptStream({ recipients: [ids[0]!.recipient] }));
    const b = await collect([data], createAgeEncryptStream({ recipients: [ids[0]!.recipient] }));
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
  });
});

describe('only authenticated plaintext is emitted', () => {
  it('a stream with a damaged chunk 2 emits exactly chunk 1, then fails', async () => {
    const id = generateIdentity();
    const data = randomData(3 * 65536, 77);
    const enc = await collect([data], createAgeEncryptStream({ recipients: [id.recipient] }));
    const damaged = Buffer.from(enc);
    const chunk2 = enc.indexOf('\n---') + 49 + 16 + (65536 + 16);
    damaged[chunk2 + 100]! ^= 0xff;
    const emitted: Buffer[] = [];
    const error = await pipeline(
      Readable.from(pieces(damaged, [1000])),
      createAgeDecryptStream({ identities: [id.identity] }),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          emitted.push(chunk);
          cb();
        },
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgeTamperedError);
    expect(Buffer.concat(emitted).equals(data.subarray(0, 65536))).toBe(true);
  });
});

/** A handle on V8's full GC without --expose-gc on the command line (undefined if refused). */
const gc: (() => void) | undefined = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
})();

describe('constant memory', () => {
  it('200 MB through encrypt → decrypt grows RSS by less than 64 MB', async () => {
    const total = 200 * 1024 * 1024;
    const block = randomData(8 * 1024 * 1024, 99);
    const sizes = [3 * 65536 + 7, 1024 * 1024, 12_345, 65536];
    const inHash = createHash('sha256');
    const outHash = createHash('sha256');
    async function* source() {
      let sent = 0;
      let i = 0;
      while (sent < total) {
        const n = Math.min(sizes[i++ % sizes.length]!, total - sent);
        const offset = (sent * 7) % (block.length - n);
        const piece = block.subarray(offset, offset + n);
        inHash.update(piece);
        sent += n;
        yield piece;
      }
    }
    const id = generateIdentity();
    gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let received = 0;
    let writes = 0;
    const started = performance.now();
    await pipeline(
      Readable.from(source()),
      createAgeEncryptStream({ recipients: [id.recipient] }),
      createAgeDecryptStream({ identities: [id.identity] }),
      new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _e, cb) {
          outHash.update(chunk);
          received += chunk.length;
          if (++writes % 64 === 0) {
            // Collect garbage first: the point is what the streams retain, not how lazily V8
            // frees 64 KiB buffers (Node 24 lets ~64 MB of dead external memory pile up).
            if (writes % 256 === 0) gc?.();
            peak = Math.max(peak, process.memoryUsage().rss);
          }
          // Yield now and then so a missing backpressure would pile data up upstream.
          if (writes % 16 === 0) setImmediate(cb);
          else cb();
        },
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(received).toBe(total);
    expect(outHash.digest('hex')).toBe(inHash.digest('hex'));
    const growthMb = (peak - baseline) / 2 ** 20;
    console.log(
      `200 MB encrypt→decrypt: ${seconds.toFixed(2)} s (encrypt, decrypt and 2× SHA-256 on one thread), RSS growth ${growthMb.toFixed(1)} MB${gc ? '' : ' (no forced GC)'}`,
    );
    expect(growthMb).toBeLessThan(64);
  });
});

describe('what the streams keep alive', () => {
  it('decrypting a download in 1 MiB pieces holds a few of them, not dozens', async () => {
    if (!gc) throw new Error('this test needs a GC it can run (node:v8 --expose-gc at run time)');
    const id = generateIdentity();
    const plain = randomData(48 * 1024 * 1024, 7);
    const ct = await collect([plain], createAgeEncryptStream({ recipients: [id.recipient] }));
    async function* download() {
      // Each piece in its own memory, as a socket or file read gives it.
      for (let at = 0; at < ct.length; at += 1 << 20) yield Buffer.from(ct.subarray(at, at + (1 << 20)));
    }
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    let live = 0;
    let writes = 0;
    const outHash = createHash('sha256');
    await pipeline(
      Readable.from(download()),
      createAgeDecryptStream({ identities: [id.identity] }),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          outHash.update(chunk);
          if (++writes % 16 === 0) {
            gc!();
            live = Math.max(live, process.memoryUsage().arrayBuffers - baseline);
          }
          cb();
        },
      }),
    );
    expect(outHash.digest('hex')).toBe(createHash('sha256').update(plain).digest('hex'));
    // Before: every piece handed out whole stayed in the queue's array until it was compacted
    // (32 of them), 30 MiB and more alive at once.
    expect(live / 2 ** 20).toBeLessThan(8);
  });
});

describe('decryptToFile', () => {
  it('writes the authenticated plaintext with mode 0600, returns its size and SHA-256, leaves no temp file', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const id = generateIdentity();
      const data = randomData(3 * 65536 + 5, 21);
      const enc = await collect([data], createAgeEncryptStream({ recipients: [id.recipient] }));
      const dest = join(dir, 'lms_20240115_020000.dump');
      await writeFile(dest, 'an older restore that gets replaced');
      const result = await decryptToFile(Readable.from(pieces(enc, [4096])), dest, {
        identities: [id.identity],
      });
      expect(result).toEqual({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
      expect((await readFile(dest)).equals(data)).toBe(true);
      expect((await stat(dest)).mode & 0o777).toBe(0o600);
      expect(await readdir(dir)).toEqual(['lms_20240115_020000.dump']);
    } finally {
      await cleanup();
    }
  });

  it('a failing source stream (e.g. a broken download) leaves nothing behind', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const id = generateIdentity();
      const enc = await collect(
        [randomData(300_000)],
        createAgeEncryptStream({ recipients: [id.recipient] }),
      );
      async function* broken() {
        yield enc.subarray(0, 100_000);
        throw new Error('connection reset by peer');
      }
      const dest = join(dir, 'out.dump');
      await expect(
        decryptToFile(Readable.from(broken()), dest, { identities: [id.identity] }),
      ).rejects.toThrow('connection reset by peer');
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
