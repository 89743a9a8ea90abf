/**
 * The storage contract: the same tests against every backend (restic's backend test suite,
 * in our shape). Each backend's test file calls runStorageContract with a factory that opens
 * a fresh, empty destination for every test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  bufferSource,
  fileSource,
  StorageConflictError,
  StorageIntegrityError,
  StorageKeyError,
  StorageNotFoundError,
  verifyStoredObject,
} from '../../src/storage/index.js';
import { readAll } from '../../src/storage/source.js';
import type { PutSource, Storage, StoredObject } from '../../src/storage/types.js';

export interface ContractTarget {
  storage: Storage;
  /** Changes the stored bytes of `key` behind the interface (same size). */
  corrupt(key: string): Promise<void>;
}

export interface ContractOptions {
  /** Bytes of the large round-trip object: must exceed the backend's part/block/chunk size. */
  largeSize?: number;
}

let counter = 0;
/** A prefix no other test uses, so tests can share one emulator. */
export function uniquePrefix(label: string): string {
  counter++;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

async function collect(iter: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const item of iter) out.push(item);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

/** A source that claims one SHA-256 but yields other bytes (a staged file changed under us). */
function lyingSource(claimed: Buffer, actual: Buffer): PutSource {
  return {
    open: () => Readable.from([actual]),
    size: claimed.length,
    sha256: createHash('sha256').update(claimed).digest('hex'),
  };
}

export function runStorageContract(
  name: string,
  factory: (label: string) => Promise<ContractTarget>,
  options: ContractOptions = {},
) {
  const largeSize = options.largeSize ?? 12 * 1024 * 1024 + 12345;

  describe(`storage contract: ${name}`, () => {
    let large: Buffer;
    beforeAll(() => {
      large = randomBytes(largeSize);
    });

    it('round-trips 0 bytes, a small object and a multi-part object byte for byte', async () => {
      const { storage } = await factory('roundtrip');
      const cases: [string, Buffer][] = [
        ['empty.bin', Buffer.alloc(0)],
        ['small.txt', Buffer.from('héllo, wörld\n'.repeat(7))],
        ['large.bin', large],
      ];
      for (const [key, data] of cases) {
        const stored = await storage.put(key, bufferSource(data));
        expect(stored.key).toBe(key);
        expect(stored.size).toBe(data.length);
        const back = await readAll(await storage.get(key));
        expect(back.length).toBe(data.length);
        expect(back.equals(data)).toBe(true);
        const head = await storage.head(key);
        expect(head?.size).toBe(data.length);
        expect(head?.key).toBe(key);
      }
    });

    it('reads from an offset: the rest of the object, byte for byte (what a resumed download asks)', async () => {
      const { storage } = await factory('offset');
      await storage.put('db/o.dump', bufferSource(large));
      for (const offset of [0, 1, 65_537, large.length - 1]) {
        const back = await readAll(await storage.get('db/o.dump', { offset }));
        expect(back.length).toBe(large.length - offset);
        expect(back.equals(large.subarray(offset))).toBe(true);
      }
    });

    it('is create-only: a second put of the same key fails and the first object stays', async () => {
      const { storage } = await factory('conflict');
      await storage.put('db/x.dump', bufferSource('first'));
      await expect(storage.put('db/x.dump', bufferSource('second, longer'))).rejects.toBeInstanceOf(
        StorageConflictError,
      );
      // Even identical bytes are a conflict on a first attempt: nothing is ever overwritten.
      await expect(storage.put('db/x.dump', bufferSource('first'))).rejects.toBeInstanceOf(
        StorageConflictError,
      );
      expect((await readAll(await storage.get('db/x.dump'))).toString()).toBe('first');
    });

    it('head answers null for an absent key, get throws StorageNotFoundError', async () => {
      const { storage } = await factory('absent');
      expect(await storage.head('nope/never.bin')).toBeNull();
      const err = await storage.get('nope/never.bin').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageNotFoundError);
      expect(String((err as Error).message)).toContain('nope/never.bin');
    });

    it('deletes, and deleting an absent key is fine', async () => {
      const { storage } = await factory('delete');
      await storage.put('a/1', bufferSource('one'));
      await storage.put('a/2', bufferSource('two'));
      await storage.delete('a/1');
      expect(await storage.head('a/1')).toBeNull();
      await expect(storage.get('a/1')).rejects.toBeInstanceOf(StorageNotFoundError);
      expect((await storage.head('a/2'))?.size).toBe(3);
      await storage.delete('a/1');
      await storage.delete('never/was');
      expect((await collect(storage.list(''))).map((o) => o.key)).toEqual(['a/2']);
    });

    it('lists by string prefix across nested prefixes, with sizes', async () => {
      const { storage } = await factory('list');
      const keys = [
        'db/lms_1.dump',
        'db/lms_1.dump.sha256',
        'db/lms_2.dump',
        'db2/other',
        'drill_logs/d1.json',
        'runs/2024/01/r1.json',
      ];
      for (const [i, key] of keys.entries()) await storage.put(key, bufferSource('x'.repeat(i + 1)));
      const sorted = (items: StoredObject[]) => items.map((o) => o.key).sort();
      expect(sorted(await collect(storage.list('')))).toEqual([...keys].sort());
      expect(sorted(await collect(storage.list('db/')))).toEqual([
        'db/lms_1.dump',
        'db/lms_1.dump.sha256',
        'db/lms_2.dump',
      ]);
      expect(sorted(await collect(storage.list('db')))).toEqual([
        'db/lms_1.dump',
        'db/lms_1.dump.sha256',
        'db/lms_2.dump',
        'db2/other',
      ]);
      expect(sorted(await collect(storage.list('db/lms_1')))).toEqual([
        'db/lms_1.dump',
        'db/lms_1.dump.sha256',
      ]);
      expect(sorted(await collect(storage.list('runs/2024/')))).toEqual(['runs/2024/01/r1.json']);
      expect(await collect(storage.list('nothing-here/'))).toEqual([]);
      const sizes = Object.fromEntries((await collect(storage.list(''))).map((o) => [o.key, o.size]));
      for (const [i, key] of keys.entries()) expect(sizes[key]).toBe(i + 1);
    });

    it('lists past 1,000 objects (1,500 keys, every one exactly once)', async () => {
      const { storage } = await factory('many');
      const keys = Array.from({ length: 1500 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
      await mapLimit(keys, 24, (key) => storage.put(key, bufferSource(key)));
      const listed = (await collect(storage.list('many/'))).map((o) => o.key);
      expect(listed.length).toBe(1500);
      expect(new Set(listed).size).toBe(1500);
      expect([...listed].sort()).toEqual(keys);
      const subset = (await collect(storage.list('many/k1'))).map((o) => o.key);
      expect(subset.length).toBe(500);
    });

    it('rejects keys that could escape the root, before touching the store', async () => {
      const { storage } = await factory('badkeys');
      for (const key of [
        '../escape',
        '/abs/path',
        'a//b',
        'a/./b',
        'a/../b',
        'back\\slash',
        '',
        'x/.tmp-y',
      ]) {
        const err = await storage.put(key, bufferSource('x')).catch((e: unknown) => e);
        expect(err, key).toBeInstanceOf(StorageKeyError);
        expect(err, key).toBeInstanceOf(ConfigError);
        await expect(storage.get(key), key).rejects.toBeInstanceOf(StorageKeyError);
      }
      expect(await collect(storage.list(''))).toEqual([]);
    });

    it('refuses a source whose bytes differ from its recorded SHA-256, and keeps nothing', async () => {
      const { storage } = await factory('liar');
      const claimed = Buffer.from('the bytes we hashed');
      const actual = Buffer.from('the bytes on disk!!');
      const err = await storage.put('db/liar.dump', lyingSource(claimed, actual)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageIntegrityError);
      expect(await storage.head('db/liar.dump')).toBeNull();
      // Large: the multipart/block/chunk path checks too.
      const bigClaim = Buffer.from(large);
      bigClaim[bigClaim.length - 1] = (bigClaim[bigClaim.length - 1] ?? 0) ^ 0xff;
      const bigErr = await storage
        .put('db/liar-big.dump', lyingSource(bigClaim, large))
        .catch((e: unknown) => e);
      expect(bigErr).toBeInstanceOf(StorageIntegrityError);
      expect(await storage.head('db/liar-big.dump')).toBeNull();
    });

    it('verifyStoredObject passes a good object and catches one corrupted behind the interface', async () => {
      const target = await factory('corrupt');
      const { storage } = target;
      const data = randomBytes(64 * 1024);
      const sha = createHash('sha256').update(data).digest('hex');
      await storage.put('db/c.dump', bufferSource(data));
      const ok = await verifyStoredObject(storage, 'db/c.dump', sha, data.length);
      expect(ok.sha256).toBe(sha);
      await expect(verifyStoredObject(storage, 'db/c.dump', sha, data.length + 1)).rejects.toBeInstanceOf(
        StorageIntegrityError,
      );
      await target.corrupt('db/c.dump');
      expect((await storage.head('db/c.dump'))?.size).toBe(data.length);
      const err = await verifyStoredObject(storage, 'db/c.dump', sha, data.length).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageIntegrityError);
      expect((err as StorageIntegrityError).actual.sha256).not.toBe(sha);
      await expect(verifyStoredObject(storage, 'db/gone.dump', sha, 1)).rejects.toBeInstanceOf(
        StorageNotFoundError,
      );
    });

    it('puts a file source under a nested key; display carries no secret', async () => {
      const { storage } = await factory('filesource');
      expect(storage.display).not.toMatch(/sig=|AccountKey|S3RVER|Eby8vdM02x/);
      const dir = await mkdtemp(join(tmpdir(), 'lms-contract-'));
      try {
        const path = join(dir, 'staged.dump');
        const data = randomBytes(300 * 1024);
        await writeFile(path, data);
        const source = await fileSource(path);
        expect(source.path).toBe(path);
        const stored = await storage.put('nested/deeper/still/file.dump', source);
        expect(stored.size).toBe(data.length);
        expect((await readAll(await storage.get('nested/deeper/still/file.dump'))).equals(data)).toBe(true);
        expect((await collect(storage.list('nested/deeper/'))).map((o) => o.key)).toEqual([
          'nested/deeper/still/file.dump',
        ]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
