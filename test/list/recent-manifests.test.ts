import { describe, expect, it } from 'vitest';
import { recentManifests } from '../../src/catalog/catalog.js';
import { StorageUnavailableError } from '../../src/storage/errors.js';
import { MemoryStorage } from '../helpers/memory-storage.js';
import { seedBackup } from '../prune/fixtures.js';

const day = (d: number) => `lms_202401${String(d).padStart(2, '0')}_020000`;

/** Ten complete backups, one a day; `get` of a manifest waits 20 ms and counts who is in flight. */
function seeded() {
  const storage = new MemoryStorage();
  for (let d = 1; d <= 10; d++)
    seedBackup(storage, day(d), new Date(`2024-01-${String(d).padStart(2, '0')}T02:00:05Z`));
  let inFlight = 0;
  const seen = { maxInFlight: 0, manifestReads: 0 };
  const get = storage.get.bind(storage);
  storage.get = async (key: string) => {
    if (!key.endsWith('.manifest.json')) return get(key);
    seen.manifestReads++;
    inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, 20));
      return await get(key);
    } finally {
      inFlight--;
    }
  };
  return { storage, seen };
}

describe('recentManifests (the baseline a backup reads before it dumps)', () => {
  it('reads the wanted manifests at once, newest first', async () => {
    const { storage, seen } = seeded();
    const got = await recentManifests(storage, 4);
    expect(got.map((m) => m.id)).toEqual([day(10), day(9), day(8), day(7)]);
    expect(seen.manifestReads).toBe(4);
    expect(seen.maxInFlight).toBe(4);
  });

  it('a damaged or incomplete backup only makes room for the next older one', async () => {
    const { storage, seen } = seeded();
    // The newest manifest is unreadable, the third is gone with its backup's other objects intact.
    storage.failOn('get', (key) =>
      key === `db/${day(10)}.manifest.json` ? new Error('bad block') : undefined,
    );
    storage.objects.delete(`db/${day(8)}.manifest.json`);
    storage.objects.set(`db/${day(7)}.manifest.json`, {
      data: Buffer.from('{ not json'),
      lastModified: new Date(),
    });
    const got = await recentManifests(storage, 3);
    expect(got.map((m) => m.id)).toEqual([day(9), day(6), day(5)]);
    // 10, 9, 7 in the first wave (8 has no manifest: it is not listed); then 6 and 5.
    expect(seen.manifestReads).toBe(5);
  });

  it('a store that stops answering fails the read instead of passing for "no history"', async () => {
    const { storage } = seeded();
    storage.failOn('get', (key) =>
      key === `db/${day(9)}.manifest.json`
        ? new StorageUnavailableError('memory://test did not answer', { attempts: 3 })
        : undefined,
    );
    await expect(recentManifests(storage, 3)).rejects.toBeInstanceOf(StorageUnavailableError);
  });
});
