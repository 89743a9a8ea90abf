import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/log.js';
import { downloadStalled } from '../../src/storage/guard.js';
import { resumingGet } from '../../src/storage/resume.js';
import { readAll } from '../../src/storage/source.js';
import { storageTimeouts } from '../../src/storage/timeouts.js';
import type { GetOptions, Storage } from '../../src/storage/types.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));

/**
 * A store whose downloads break off: the n-th get (from 0) delivers `breaks[n]` bytes of what
 * it was asked for, then fails with `error()`; a get past the list delivers the rest whole.
 */
function breakingStore(kind: Storage['kind'], breaks: number[], error: () => Error) {
  const storage = new MemoryStorage();
  storage.seed('db/x.dump', data);
  const offsets: number[] = [];
  const plain = storage.get.bind(storage);
  Object.assign(storage, { kind });
  storage.get = async (key: string, options: GetOptions = {}) => {
    const n = offsets.push(options.offset ?? 0) - 1;
    const rest = (await readAll(await plain(key, options))) as Buffer;
    const cut = breaks[n];
    if (cut === undefined) return Readable.from([rest]);
    let sent = false;
    return new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(rest.subarray(0, cut));
        setImmediate(() => this.destroy(error()));
      },
    });
  };
  return { storage, offsets };
}

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('resumingGet', () => {
  it('reads on from the last byte delivered after each network break, every byte once', async () => {
    const { storage, offsets } = breakingStore('s3', [3000, 1000], reset);
    const logger = new MemoryLogger();
    const got = await readAll(await resumingGet(storage, 'db/x.dump', { logger }));
    expect(got.equals(data)).toBe(true);
    expect(offsets).toEqual([0, 3000, 4000]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('a stall (no byte for the idle bound) is read past too; the warning says what broke, once', async () => {
    const stalled = () => downloadStalled('s3://b', 'db/x.dump', 45_000, storageTimeouts(180_000));
    const { storage, offsets } = breakingStore('s3', [5000], stalled);
    const logger = new MemoryLogger();
    const got = await readAll(await resumingGet(storage, 'db/x.dump', { logger }));
    expect(got.equals(data)).toBe(true);
    expect(offsets).toEqual([0, 5000]);
    const [warning] = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warning).toMatch(
      /: the download of db\/x\.dump broke off after .* \(the download stopped arriving \(nothing received for 45 s\)\); reading on from there \(1\/5\)$/,
    );
  });

  it('a break that is no network fault is not read past: the error reaches the reader', async () => {
    const { storage, offsets } = breakingStore('s3', [3000], () => new Error('bad block on the volume'));
    await expect(readAll(await resumingGet(storage, 'db/x.dump'))).rejects.toThrow(/bad block/);
    expect(offsets).toEqual([0]);
  });

  it('gives up after its resumes, with the last break', async () => {
    const { storage, offsets } = breakingStore('azure', [100, 100, 100, 100], reset);
    await expect(readAll(await resumingGet(storage, 'db/x.dump', { resumes: 3 }))).rejects.toThrow(
      /ECONNRESET/,
    );
    expect(offsets).toEqual([0, 100, 200, 300]);
  });

  it('a break after the last byte of an object of known size is its end', async () => {
    const { storage, offsets } = breakingStore('gcs', [data.length], reset);
    const got = await readAll(await resumingGet(storage, 'db/x.dump', { size: data.length }));
    expect(got.equals(data)).toBe(true);
    expect(offsets).toEqual([0]);
  });

  it('a local destination is never asked again (a hung mount must not get a second call)', async () => {
    const { storage, offsets } = breakingStore('local', [3000], reset);
    await expect(readAll(await resumingGet(storage, 'db/x.dump'))).rejects.toThrow(/ECONNRESET/);
    expect(offsets).toEqual([0]);
  });
});
