import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDurableFile } from '../../src/durable-file.js';
import {
  bufferSource,
  fileSource,
  LocalStorage,
  openStorage,
  StorageConflictError,
  StorageIntegrityError,
} from '../../src/storage/index.js';
import { readAll } from '../../src/storage/source.js';
import { runStorageContract, uniquePrefix } from './contract.js';

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'lms-local-storage-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

runStorageContract('local', async (label) => {
  const root = join(base, uniquePrefix(label));
  const storage = await openStorage(root);
  return {
    storage,
    corrupt: async (key) => {
      const path = join(root, ...key.split('/'));
      const data = await readFile(path);
      data[0] = (data[0] ?? 0) ^ 0x01;
      // Same inode, same size: what bit rot or a stray writer looks like.
      await writeFile(path, data);
    },
  };
});

describe('local storage specifics', () => {
  it('accepts file:// URLs and relative paths', async () => {
    const viaUrl = await openStorage(`file://${join(base, 'via-url')}`);
    expect(viaUrl.kind).toBe('local');
    expect(viaUrl.display).toBe(join(base, 'via-url'));
    const relative = await openStorage('rel/dir', { cwd: base });
    expect(relative.display).toBe(join(base, 'rel/dir'));
  });

  it('hard-links a source file on the same filesystem instead of copying it', async () => {
    const root = join(base, uniquePrefix('link'));
    const storage = new LocalStorage(root);
    const staged = join(base, uniquePrefix('staged'));
    await writeFile(staged, randomBytes(1024 * 1024));
    await storage.put('db/linked.dump', await fileSource(staged));
    const [a, b] = await Promise.all([stat(staged), stat(join(root, 'db', 'linked.dump'))]);
    expect(b.ino).toBe(a.ino);
    expect(b.nlink).toBe(2);
    // The staging file can go; the stored object stays.
    await rm(staged);
    expect((await storage.head('db/linked.dump'))?.size).toBe(1024 * 1024);
  });

  it('refuses to link a staged file whose bytes changed since it was hashed', async () => {
    const root = join(base, uniquePrefix('link-changed'));
    const storage = new LocalStorage(root);
    const staged = join(base, uniquePrefix('staged'));
    await writeFile(staged, 'original bytes');
    const source = await fileSource(staged);
    await writeFile(staged, 'changed! bytes');
    await expect(storage.put('db/x.dump', source)).rejects.toBeInstanceOf(StorageIntegrityError);
    expect(await storage.head('db/x.dump')).toBeNull();
  });

  it('a staged file written through createDurableFile links on its witness, and a write after it still fails the put', async () => {
    const root = join(base, uniquePrefix('witness'));
    const storage = new LocalStorage(root);
    const staged = join(base, uniquePrefix('staged'));
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = createDurableFile(staged);
    await pipeline(Readable.from([data.subarray(0, 100), data.subarray(100)]), file);
    const source = { ...(await fileSource(staged)), witness: file.witness };
    expect(source.sha256).toBe(file.digest());
    await storage.put('db/ok.dump', source);
    expect((await readFile(join(root, 'db', 'ok.dump'))).equals(data)).toBe(true);

    // Same size, same bytes but one, written after the witness was taken: the change time moved,
    // so the put reads the file again and refuses it.
    const other = join(base, uniquePrefix('staged'));
    const second = createDurableFile(other);
    await pipeline(Readable.from([data]), second);
    const witnessed = { ...(await fileSource(other)), witness: second.witness };
    const changed = Buffer.from(data);
    changed[5] = (changed[5] ?? 0) ^ 0xff;
    await writeFile(other, changed);
    await expect(storage.put('db/changed.dump', witnessed)).rejects.toBeInstanceOf(StorageIntegrityError);
    expect(await storage.head('db/changed.dump')).toBeNull();
  });

  it('copies through a temp file, leaves no temp file behind, and hides temp files from list', async () => {
    const root = join(base, uniquePrefix('temp'));
    const storage = new LocalStorage(root);
    await storage.put('db/a.dump', bufferSource('aaa'));
    expect(await readdir(join(root, 'db'))).toEqual(['a.dump']);
    // A crashed writer's leftover: never listed, never returned.
    await writeFile(join(root, 'db', '.tmp-b.dump-123456'), 'partial');
    const listed: string[] = [];
    for await (const o of storage.list('')) listed.push(o.key);
    expect(listed).toEqual(['db/a.dump']);
    const mode = (await stat(join(root, 'db', 'a.dump'))).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('a failing source leaves neither the object nor a temp file', async () => {
    const root = join(base, uniquePrefix('failing'));
    const storage = new LocalStorage(root);
    const source = {
      size: 10,
      sha256: '0'.repeat(64),
      open: () =>
        new Readable({
          read() {
            this.destroy(new Error('disk read error'));
          },
        }),
    };
    await expect(storage.put('db/f.dump', source)).rejects.toThrow(/disk read error/);
    expect(await readdir(join(root, 'db'))).toEqual([]);
  });

  it('two concurrent puts of one key: exactly one wins, the other is a conflict', async () => {
    const root = join(base, uniquePrefix('race'));
    const storage = new LocalStorage(root);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        storage.put('db/race.dump', bufferSource(`writer ${i} `.repeat(1000))),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won.length).toBe(1);
    for (const r of lost) expect(r.reason).toBeInstanceOf(StorageConflictError);
    expect((await readAll(await storage.get('db/race.dump'))).toString()).toMatch(/^writer \d /);
  });

  it('lists nothing (no error) when the root does not exist yet', async () => {
    const storage = new LocalStorage(join(base, uniquePrefix('absent-root')));
    const listed = [];
    for await (const o of storage.list('')) listed.push(o);
    expect(listed).toEqual([]);
    expect(await storage.head('x')).toBeNull();
  });

  it('does not follow a key into a directory', async () => {
    const root = join(base, uniquePrefix('dir'));
    await mkdir(join(root, 'db', 'sub'), { recursive: true });
    const storage = new LocalStorage(root);
    expect(await storage.head('db/sub')).toBeNull();
  });
});
