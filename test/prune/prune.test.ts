import { describe, expect, it } from 'vitest';
import { listBackups } from '../../src/catalog/catalog.js';
import { backupId, backupKeys } from '../../src/catalog/names.js';
import type { RetentionPolicy } from '../../src/catalog/retention.js';
import { deletionOrder, newestBackupRunFailed, runPrune } from '../../src/commands/prune.js';
import { ConfigError, JobFailedError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import { StorageAuthError } from '../../src/storage/errors.js';
import { MemoryStorage } from '../helpers/memory-storage.js';
import { DAY, HOUR, putRunRecord, seedBackup, seedDrill } from './fixtures.js';

const now = new Date('2024-04-01T12:00:00Z');
const AGE_ONLY: RetentionPolicy = { keepDays: 30, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 0 };

/** Daily complete backups at 02:00 UTC, `days` of them, the newest on Apr 1. */
function seedDaily(storage: MemoryStorage, days: number, options: { encrypted?: boolean } = {}): string[] {
  const ids: string[] = [];
  for (let i = 0; i < days; i++) {
    const t = new Date(Date.parse('2024-04-01T02:00:00Z') - i * DAY);
    const id = backupId('lms', t);
    // The store's mtime says "just now" for every object: ages must come from the manifest.
    seedBackup(storage, id, t, { ...options, mtime: now });
    ids.push(id);
  }
  return ids;
}

/** Records every delete, in order, then lets it happen. */
function recordDeletes(storage: MemoryStorage): string[] {
  const order: string[] = [];
  storage.failOn('delete', (key) => {
    order.push(key);
    return undefined;
  });
  return order;
}

describe('runPrune', () => {
  it('dry run: reports what would go and why, deletes nothing', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 33);
    seedBackup(storage, 'lms_20240310_090000', new Date('2024-03-10T09:00:00Z'), { complete: false });
    const before = [...storage.objects.keys()].sort();
    const logger = new MemoryLogger();

    const result = await runPrune({ storage, policy: AGE_ONLY, dryRun: true, now }, { logger });

    expect(result.deleted).toEqual([]);
    expect(storage.calls.delete).toBe(0);
    expect([...storage.objects.keys()].sort()).toEqual(before);
    expect(result.plan.remove).toEqual([
      { id: 'lms_20240310_090000', reason: 'incomplete, older than 1 day' },
      { id: 'lms_20240302_020000', reason: 'older than 30 days and outside every keep rule' },
      { id: 'lms_20240301_020000', reason: 'older than 30 days and outside every keep rule' },
      { id: 'lms_20240229_020000', reason: 'older than 30 days and outside every keep rule' },
    ]);
    expect(logger.text()).toContain(
      'info: would remove lms_20240302_020000: older than 30 days and outside every keep rule',
    );
    expect(logger.text()).toContain('dry run: nothing was deleted');
  });

  it('deletes each removed backup manifest first, then the dump, then the sidecar', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 33);
    const order = recordDeletes(storage);

    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );

    const triple = (id: string) => {
      const k = backupKeys(id, true);
      return [k.manifest, k.dump, k.sidecar];
    };
    const expected = [
      ...triple('lms_20240302_020000'),
      ...triple('lms_20240301_020000'),
      ...triple('lms_20240229_020000'),
    ];
    expect(order).toEqual(expected);
    expect(result.deleted).toEqual(expected);
    const left = await listBackups(storage);
    expect(left).toHaveLength(30);
    expect(left.every((b) => b.state === 'complete')).toBe(true);
    expect(left.at(-1)?.id).toBe('lms_20240303_020000');
  });

  it('orders unencrypted backups the same way', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 31, { encrypted: false });
    const order = recordDeletes(storage);
    await runPrune({ storage, policy: AGE_ONLY, dryRun: false, now }, { logger: new MemoryLogger() });
    expect(order).toEqual([
      'db/lms_20240302_020000.manifest.json',
      'db/lms_20240302_020000.dump',
      'db/lms_20240302_020000.dump.sha256',
    ]);
  });

  it('removes incomplete backups older than a day and keeps a young one that may be in progress', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 3);
    const old = seedBackup(storage, 'lms_20240325_020000', new Date('2024-03-25T02:00:00Z'), {
      complete: false,
    });
    const lonelyDump = seedBackup(storage, 'lms_20240320_020000', new Date('2024-03-20T02:00:00Z'), {
      complete: false,
      sidecar: false,
    });
    seedBackup(storage, 'lms_20240401_100000', new Date('2024-04-01T10:00:00Z'), { complete: false });

    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );

    expect(result.deleted).toEqual([old.dump, old.sidecar, lonelyDump.dump]);
    const left = await listBackups(storage);
    expect(left.map((b) => [b.id, b.state])).toEqual([
      ['lms_20240401_100000', 'incomplete'],
      ['lms_20240401_020000', 'complete'],
      ['lms_20240331_020000', 'complete'],
      ['lms_20240330_020000', 'complete'],
    ]);
  });

  it('keeps the newest drill-passed backup read from drill_logs/', async () => {
    const storage = new MemoryStorage();
    const ids = seedDaily(storage, 40);
    seedDrill(storage, 'drill_20240224_030000', ids[37]!, 'pass', new Date('2024-02-24T03:30:00Z'));
    seedDrill(storage, 'drill_20240302_030000', ids[30]!, 'fail', new Date('2024-03-02T03:30:00Z'));
    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );
    expect(result.plan.keep.find((k) => k.id === ids[37])?.reasons).toEqual(['newest drill-passed backup']);
    expect(result.plan.remove).toHaveLength(9);
    expect(storage.objects.has(`db/${ids[37]}.manifest.json`)).toBe(true);
  });

  it('deletes nothing when the newest backup run recorded in runs/ failed', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 40);
    seedBackup(storage, 'lms_20240301_090000', new Date('2024-03-01T09:00:00Z'), { complete: false });
    await putRunRecord(
      storage,
      'run_20240331_020000_backup_aaaa',
      'backup',
      'success',
      new Date('2024-03-31T02:00:00Z'),
    );
    await putRunRecord(
      storage,
      'run_20240401_020000_backup_bbbb',
      'backup',
      'failure',
      new Date('2024-04-01T02:00:00Z'),
    );
    // Newer runs of other commands do not count.
    await putRunRecord(
      storage,
      'run_20240401_030000_prune_cccc',
      'prune',
      'success',
      new Date('2024-04-01T03:00:00Z'),
    );
    const logger = new MemoryLogger();

    const result = await runPrune({ storage, policy: AGE_ONLY, dryRun: false, now }, { logger });

    expect(result.deleted).toEqual([]);
    expect(storage.calls.delete).toBe(0);
    expect(result.plan.keep).toHaveLength(41);
    expect(logger.text()).toContain(
      'warn: the newest backup run failed: prune deletes nothing until a backup succeeds (11 backups would otherwise be removed)',
    );
  });

  it('prunes again once a newer backup run succeeded', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 31);
    await putRunRecord(
      storage,
      'run_20240331_020000_backup_aaaa',
      'backup',
      'failure',
      new Date('2024-03-31T02:00:00Z'),
    );
    await putRunRecord(
      storage,
      'run_20240401_020000_backup_bbbb',
      'backup',
      'success',
      new Date('2024-04-01T02:00:00Z'),
    );
    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );
    expect(result.plan.remove.map((r) => r.id)).toEqual(['lms_20240302_020000']);
    expect(result.deleted).toHaveLength(3);
  });

  it('uses deps.lastBackupRunFailed when given, without reading runs/', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 31);
    await putRunRecord(
      storage,
      'run_20240401_020000_backup_bbbb',
      'backup',
      'success',
      new Date('2024-04-01T02:00:00Z'),
    );
    const gets = storage.calls.get;
    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger(), lastBackupRunFailed: async () => true },
    );
    expect(result.deleted).toEqual([]);
    // Only the 31 manifests were read, never a run record.
    expect(storage.calls.get - gets).toBe(31);
  });

  it('refuses a bad policy before touching storage', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 3);
    await expect(
      runPrune(
        { storage, policy: { ...AGE_ONLY, keepDays: 0 }, dryRun: false, now },
        { logger: new MemoryLogger() },
      ),
    ).rejects.toThrow(ConfigError);
    expect(storage.calls.list).toBe(0);
  });

  it('stops on a failed delete; the half-deleted backup reads as incomplete and goes next time', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 32);
    storage.failOn('delete', (key) =>
      key.endsWith('0301_020000.dump.age') ? new Error('503 Slow Down') : undefined,
    );

    const error = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect((error as JobFailedError).message).toBe(
      'prune could not delete db/lms_20240301_020000.dump.age in memory://test: 503 Slow Down (4 object(s) deleted before it)',
    );
    const between = await listBackups(storage);
    expect(between.find((b) => b.id === 'lms_20240301_020000')?.state).toBe('incomplete');
    expect(between.some((b) => b.id === 'lms_20240302_020000')).toBe(false);

    storage.clearFaults();
    const again = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );
    expect(again.plan.remove).toEqual([
      { id: 'lms_20240301_020000', reason: 'incomplete, older than 1 day' },
    ]);
    expect(again.deleted).toEqual([
      'db/lms_20240301_020000.dump.age',
      'db/lms_20240301_020000.dump.age.sha256',
    ]);
  });

  it('keeps a permission error as a configuration error (exit 2) and logs how far it got', async () => {
    const storage = new MemoryStorage();
    seedDaily(storage, 31);
    storage.failOn('delete', (key) =>
      key.endsWith('.manifest.json')
        ? new StorageAuthError('memory://test: this credential may not delete objects', { key })
        : undefined,
    );
    const logger = new MemoryLogger();
    const error = await runPrune({ storage, policy: AGE_ONLY, dryRun: false, now }, { logger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageAuthError);
    expect((error as StorageAuthError).exitCode).toBe(2);
    expect(logger.text()).toContain(
      'error: prune stopped at db/lms_20240302_020000.manifest.json in memory://test (0 object(s) deleted before it)',
    );
    expect(storage.objects.size).toBe(31 * 3);
  });

  it("takes ages from the manifest, never from the store's mtime", async () => {
    // The store's mtime is a year old, the manifest says 2 hours: the manifest wins.
    const storage = new MemoryStorage();
    for (const hours of [1, 2]) {
      const t = new Date(now.getTime() - hours * HOUR);
      seedBackup(storage, backupId('lms', t), t, { mtime: new Date('2023-04-01T00:00:00Z') });
    }
    const result = await runPrune(
      { storage, policy: AGE_ONLY, dryRun: false, now },
      { logger: new MemoryLogger() },
    );
    expect(result.plan.remove).toEqual([]);
    expect(result.plan.keep.map((k) => k.reasons[0])).toEqual([
      'younger than 30 days',
      'younger than 30 days',
    ]);
  });
});

describe('newestBackupRunFailed (default, from runs/)', () => {
  const at = (iso: string) => new Date(iso);

  it('is false with no run records', async () => {
    expect(await newestBackupRunFailed(new MemoryStorage())).toBe(false);
  });

  it('reads only the newest backup record', async () => {
    const storage = new MemoryStorage();
    await putRunRecord(
      storage,
      'run_20240101_020000_backup_0001',
      'backup',
      'failure',
      at('2024-01-01T02:00:00Z'),
    );
    await putRunRecord(
      storage,
      'run_20240102_020000_backup_0002',
      'backup',
      'success',
      at('2024-01-02T02:00:00Z'),
    );
    await putRunRecord(
      storage,
      'run_20240103_020000_drill_0003',
      'drill',
      'failure',
      at('2024-01-03T02:00:00Z'),
    );
    expect(await newestBackupRunFailed(storage)).toBe(false);
    expect(storage.calls.get).toBe(1);
  });

  it('treats an unreadable newest backup record as a failure (cannot tell), and says so', async () => {
    const storage = new MemoryStorage();
    await putRunRecord(
      storage,
      'run_20240101_020000_backup_0001',
      'backup',
      'success',
      at('2024-01-01T02:00:00Z'),
    );
    storage.seed('runs/run_20240102_020000_backup_0002.json', '{"format": "lms-backup/run@1", "comm');
    const logger = new MemoryLogger();
    expect(await newestBackupRunFailed(storage, logger)).toBe(true);
    expect(logger.text()).toMatch(
      /warn: cannot tell whether the newest backup run succeeded: runs\/run_20240102_020000_backup_0002\.json is not a backup run record \(unreadable/,
    );
  });

  it('counts a failure among two backup runs started in the same second', async () => {
    const storage = new MemoryStorage();
    await putRunRecord(
      storage,
      'run_20240102_020000_backup_aaaa',
      'backup',
      'success',
      at('2024-01-02T02:00:00Z'),
    );
    await putRunRecord(
      storage,
      'run_20240102_020000_backup_bbbb',
      'backup',
      'failure',
      at('2024-01-02T02:00:00Z'),
    );
    expect(await newestBackupRunFailed(storage)).toBe(true);
  });

  it('ignores garbage with unknown names and non-JSON files, and falls back to records named otherwise', async () => {
    const storage = new MemoryStorage();
    storage.seed('runs/notes.txt', 'hello');
    storage.seed('runs/junk.json', '\u0000\u0001 not json');
    storage.seed('runs/array.json', '[1,2,3]');
    expect(await newestBackupRunFailed(storage)).toBe(false);

    await putRunRecord(storage, 'manual-a', 'backup', 'success', at('2024-01-01T02:00:00Z'));
    await putRunRecord(storage, 'manual-b', 'backup', 'failure', at('2024-01-02T02:00:00Z'));
    await putRunRecord(storage, 'manual-c', 'drill', 'success', at('2024-01-03T02:00:00Z'));
    expect(await newestBackupRunFailed(storage)).toBe(true);
  });

  it('a stamped backup record wins over files with unknown names', async () => {
    const storage = new MemoryStorage();
    await putRunRecord(storage, 'manual-b', 'backup', 'failure', at('2024-01-02T02:00:00Z'));
    await putRunRecord(
      storage,
      'run_20240101_020000_backup_0001',
      'backup',
      'success',
      at('2024-01-01T02:00:00Z'),
    );
    expect(await newestBackupRunFailed(storage)).toBe(false);
  });
});

describe('deletionOrder', () => {
  it('manifest, dump, sidecar, then anything else', () => {
    expect(
      deletionOrder([
        'db/x.dump.age.sha256',
        'db/x.dump.age',
        'db/x.other',
        'db/x.manifest.json',
        'db/x.dump',
        'db/x.dump.sha256',
      ]),
    ).toEqual([
      'db/x.manifest.json',
      'db/x.dump',
      'db/x.dump.age',
      'db/x.dump.age.sha256',
      'db/x.dump.sha256',
      'db/x.other',
    ]);
  });
});
