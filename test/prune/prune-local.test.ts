/** prune and list against the real local-directory backend: files on disk, deleted in a safe order. */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listBackups } from '../../src/catalog/catalog.js';
import { backupId, backupKeys } from '../../src/catalog/names.js';
import { RUN_RECORD_FORMAT } from '../../src/catalog/types.js';
import { runList } from '../../src/commands/list.js';
import { runPrune } from '../../src/commands/prune.js';
import { MemoryLogger } from '../../src/log.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/types.js';
import { DAY, makeManifest } from './fixtures.js';

const now = new Date('2024-04-01T12:00:00Z');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lms-prune-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a backup's files straight into the directory, as earlier runs would have left them. */
async function writeBackup(root: string, id: string, at: Date, complete = true): Promise<void> {
  const keys = backupKeys(id, true);
  await mkdir(join(root, 'db'), { recursive: true });
  await writeFile(join(root, keys.dump), Buffer.alloc(100, 1)); // the manifest's size (fixtures)
  await writeFile(join(root, keys.sidecar), `${'b'.repeat(64)}  ${keys.dump.slice(3)}\n`);
  if (complete) await writeFile(join(root, keys.manifest), JSON.stringify(makeManifest(id, at)));
}

/** Records the keys passed to delete, in order. */
function recording(storage: Storage): { storage: Storage; deletes: string[] } {
  const deletes: string[] = [];
  const wrapped: Storage = {
    kind: storage.kind,
    display: storage.display,
    put: (k, s) => storage.put(k, s),
    get: (k) => storage.get(k),
    head: (k) => storage.head(k),
    list: (p) => storage.list(p),
    delete: async (k) => {
      deletes.push(k);
      await storage.delete(k);
    },
  };
  return { storage: wrapped, deletes };
}

describe('prune on a local directory', () => {
  // A short timeout: a hung backend should fail this test fast, not stall the suite.
  it('dry run leaves every file; the real run removes old and incomplete backups, manifest first', {
    timeout: 20_000,
  }, async () => {
    for (let i = 0; i < 32; i++) {
      const t = new Date(Date.parse('2024-04-01T02:00:00Z') - i * DAY);
      await writeBackup(dir, backupId('lms', t), t);
    }
    await writeBackup(dir, 'lms_20240315_020000_2', new Date('2024-03-15T02:00:00Z'), false);
    await mkdir(join(dir, 'runs'));
    await writeFile(
      join(dir, 'runs', 'run_20240401_020000_backup_0001.json'),
      JSON.stringify({
        format: RUN_RECORD_FORMAT,
        id: 'run_20240401_020000_backup_0001',
        command: 'backup',
        startedAt: '2024-04-01T02:00:00.000Z',
        finishedAt: '2024-04-01T02:01:00.000Z',
        status: 'success',
        durationMs: 60_000,
        warnings: [],
      }),
    );
    const local = new LocalStorage(dir);
    const policy = { keepDays: 30, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 7 };
    const files = async () => (await readdir(join(dir, 'db'))).sort();
    const before = await files();
    expect(before).toHaveLength(32 * 3 + 2);

    const dry = recording(local);
    const planned = await runPrune(
      { storage: dry.storage, policy, dryRun: true, now },
      { logger: new MemoryLogger() },
    );
    expect(dry.deletes).toEqual([]);
    expect(await files()).toEqual(before);
    expect(planned.plan.remove.map((r) => r.id)).toEqual([
      'lms_20240315_020000_2',
      'lms_20240302_020000',
      'lms_20240301_020000',
    ]);

    const real = recording(local);
    const result = await runPrune(
      { storage: real.storage, policy, dryRun: false, now },
      { logger: new MemoryLogger() },
    );
    expect(real.deletes).toEqual([
      'db/lms_20240315_020000_2.dump.age',
      'db/lms_20240315_020000_2.dump.age.sha256',
      'db/lms_20240302_020000.manifest.json',
      'db/lms_20240302_020000.dump.age',
      'db/lms_20240302_020000.dump.age.sha256',
      'db/lms_20240301_020000.manifest.json',
      'db/lms_20240301_020000.dump.age',
      'db/lms_20240301_020000.dump.age.sha256',
    ]);
    expect(result.deleted).toEqual(real.deletes);
    expect(await files()).toHaveLength(30 * 3);
    expect((await listBackups(local)).every((b) => b.state === 'complete')).toBe(true);
    expect(await readdir(join(dir, 'runs'))).toEqual(['run_20240401_020000_backup_0001.json']);

    const rows = await runList({ storage: local }, { logger: new MemoryLogger() });
    expect(rows).toHaveLength(30);
    expect(rows[0]).toMatchObject({
      id: 'lms_20240401_020000',
      state: 'complete',
      encrypted: true,
      tables: 8,
    });
  });
});
