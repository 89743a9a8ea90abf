import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  newRunId,
  readRunRecords,
  runIdTime,
  runRecordKey,
  writeRunRecord,
  writeRunRecordBestEffort,
} from '../../src/catalog/runs.js';
import { RUN_RECORD_FORMAT, type RunRecord } from '../../src/catalog/types.js';
import { MemoryLogger } from '../../src/log.js';
import { StorageConflictError } from '../../src/storage/errors.js';
import { bufferSource } from '../../src/storage/source.js';
import { MemoryStorage } from '../helpers/memory-storage.js';
import { DAY, makeRun } from './fixtures.js';

const T0 = Date.UTC(2024, 0, 15, 2, 0, 0);

describe('newRunId', () => {
  it('encodes the UTC start time and command, with 4 random hex digits', () => {
    const id = newRunId('backup', new Date(Date.UTC(2024, 0, 15, 2, 3, 4, 567)));
    expect(id).toMatch(/^run_20240115_020304_backup_[0-9a-f]{4}$/);
    expect(runIdTime(id)?.toISOString()).toBe('2024-01-15T02:03:04.000Z');
    expect(runIdTime(runRecordKey(id))?.toISOString()).toBe('2024-01-15T02:03:04.000Z');
    expect(runIdTime('something_else.json')).toBeNull();
  });

  it('gives distinct ids to runs in the same second', () => {
    const now = new Date(T0);
    const ids = new Set(Array.from({ length: 50 }, () => newRunId('drill', now)));
    expect(ids.size).toBeGreaterThan(45); // 65 536 values: collisions possible but rare
    expect(newRunId('prune', now, () => Buffer.from([0xab, 0x01]))).toBe('run_20240115_020000_prune_ab01');
  });

  it('rejects an invalid date', () => {
    expect(() => newRunId('backup', new Date('nope'))).toThrow(/invalid date/);
  });
});

describe('bufferSource', () => {
  it('is re-openable and carries size and SHA-256', async () => {
    const src = bufferSource('héllo');
    expect(src.size).toBe(6);
    expect(src.sha256).toBe(createHash('sha256').update('héllo', 'utf8').digest('hex'));
    for (let i = 0; i < 2; i++) {
      const chunks: Buffer[] = [];
      for await (const c of src.open()) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString('utf8')).toBe('héllo');
    }
  });
});

describe('run records in storage', () => {
  it('round-trips through storage, oldest first', async () => {
    const storage = new MemoryStorage();
    const a = makeRun('backup', T0 + DAY, {
      backupId: 'lms_20240116_020000',
      bytes: 1234,
      details: { phases: { dump: 5 } },
    });
    const b = makeRun('drill', T0, { status: 'failure', reason: 'pg_restore failed' });
    await writeRunRecord(storage, a);
    await writeRunRecord(storage, b);
    expect([...storage.objects.keys()].sort()).toEqual([runRecordKey(a.id), runRecordKey(b.id)].sort());
    expect(JSON.parse(storage.text(runRecordKey(a.id)))).toEqual(a);
    const read = await readRunRecords(storage);
    expect(read).toEqual([b, a]);
  });

  it('never overwrites: a second write of the same id throws', async () => {
    const storage = new MemoryStorage();
    const r = makeRun('backup', T0);
    await writeRunRecord(storage, r);
    await expect(writeRunRecord(storage, { ...r, status: 'failure' })).rejects.toBeInstanceOf(
      StorageConflictError,
    );
    expect(JSON.parse(storage.text(runRecordKey(r.id))).status).toBe('success');
  });

  it('best effort: writes where it can, warns (with the destination) where it cannot, never throws', async () => {
    const good = new MemoryStorage('local:/backups');
    const bad = new MemoryStorage('s3://bucket/lms').failOn('put', () => new Error('503 Slow Down'));
    const logger = new MemoryLogger();
    const r = makeRun('backup', T0, { status: 'failure', reason: 'pg_dump failed' });
    const result = await writeRunRecordBestEffort([bad, good], r, logger);
    expect(result).toMatchObject({ written: ['local:/backups'], failed: ['s3://bucket/lms'] });
    // The record waits in the local spool for the destination that was down.
    expect(result.spooled).toHaveLength(1);
    expect(good.objects.has(runRecordKey(r.id))).toBe(true);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('s3://bucket/lms');
    expect(warnings[0]!.message).toContain('503 Slow Down');
  });

  it('best effort survives a throwing logger and a storage whose display getter throws', async () => {
    const weird = new MemoryStorage();
    Object.defineProperty(weird, 'display', {
      get() {
        throw new Error('no display');
      },
    });
    const logger = new MemoryLogger();
    logger.warn = () => {
      throw new Error('logger down');
    };
    await expect(writeRunRecordBestEffort([weird], makeRun('drill', T0), logger)).resolves.toEqual({
      written: [],
      failed: ['(unknown destination)'],
      spooled: [],
    });
  });

  it('skips unreadable, foreign and unknown-format files with a warning', async () => {
    const storage = new MemoryStorage();
    const good = makeRun('backup', T0);
    await writeRunRecord(storage, good);
    storage.seed('runs/run_20240115_030000_backup_0001.json', '{not json');
    storage.seed('runs/run_20240115_030000_backup_0002.json', JSON.stringify({ hello: 'world' }));
    storage.seed(
      'runs/run_20240115_030000_backup_0003.json',
      JSON.stringify({ ...good, id: 'x', format: 'lms-backup/run@2' }),
    );
    storage.seed(
      'runs/run_20240115_030000_backup_0004.json',
      JSON.stringify({ ...good, id: 'y', startedAt: 'yesterday' }),
    );
    storage.seed('runs/README.txt', 'not a record');
    storage.seed('runs/run_20240115_030000_backup_0005.json', JSON.stringify([1, 2]));
    storage.failOn('get', (key) => (key.endsWith('0006.json') ? new Error('403 Forbidden') : undefined));
    storage.seed('runs/run_20240115_030000_backup_0006.json', JSON.stringify(good));
    const logger = new MemoryLogger();
    const read = await readRunRecords(storage, { logger });
    expect(read).toEqual([good]);
    const text = logger.text();
    expect(text).toContain('0001.json');
    expect(text).toContain('unreadable');
    expect(text).toContain('no "format" field');
    expect(text).toContain('unknown format "lms-backup/run@2"');
    expect(text).toContain('"startedAt" is not a date');
    expect(text).toContain('not a JSON object');
    expect(text).toContain('403 Forbidden');
    expect(text).not.toContain('README');
  });

  it('also works without a logger', async () => {
    const storage = new MemoryStorage();
    storage.seed('runs/bad.json', 'x');
    await expect(readRunRecords(storage)).resolves.toEqual([]);
  });

  it('since: keeps records that end after it and does not download old ones', async () => {
    const storage = new MemoryStorage();
    const records: RunRecord[] = [];
    for (let d = 0; d < 10; d++) {
      const r = makeRun('backup', T0 + d * DAY);
      records.push(r);
      await writeRunRecord(storage, r);
    }
    // A run that started before `since` but finished after it still counts.
    const long = makeRun('drill', T0 + 5 * DAY - 60_000, { durationMs: 3_600_000 });
    await writeRunRecord(storage, long);
    const since = new Date(T0 + 5 * DAY);
    const read = await readRunRecords(storage, { since });
    expect(read.map((r) => r.id)).toEqual([long, ...records.slice(5)].map((r) => r.id));
    // Days 0..3 are more than a day before `since`: listed but never fetched.
    expect(storage.calls.get).toBeLessThanOrEqual(7);
  });

  it('records are valid JSON of the documented format', async () => {
    const storage = new MemoryStorage();
    const r = makeRun('report', T0);
    await writeRunRecord(storage, r);
    const text = storage.text(runRecordKey(r.id));
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text).format).toBe(RUN_RECORD_FORMAT);
  });
});
