import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRunRecord } from '../../src/catalog/runs.js';
import { type ReportConfig, runReport } from '../../src/commands/report.js';
import { ConfigError, JobFailedError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import { MemoryStorage } from '../helpers/memory-storage.js';
import { backupId, makeBackup, makeDrill, makeRun } from './fixtures.js';

const NOW = new Date(Date.UTC(2024, 0, 31, 10));
const at = (day: number, hour = 2) => Date.UTC(2024, 0, day, hour);

async function put(storage: MemoryStorage, key: string, value: unknown) {
  storage.seed(key, `${JSON.stringify(value, null, 2)}\n`);
}

/** Two destinations: local has everything; offsite missed a few writes and has a record local lacks. */
async function seed() {
  const local = new MemoryStorage('local:/var/backups/lms');
  const offsite = new MemoryStorage('s3://bucket/lms');
  for (let d = 1; d <= 31; d++) {
    const b = makeBackup(at(d));
    for (const s of [local, offsite]) {
      if (s === offsite && d % 5 === 0) continue;
      await writeRunRecord(s, b.run);
      await put(s, `db/${b.manifest.id}.manifest.json`, b.manifest);
      s.seed(`db/${b.manifest.id}.dump.age`, 'ciphertext');
    }
  }
  for (const d of [7, 14, 21, 28]) {
    const drill = makeDrill(at(d, 3), backupId(at(d)));
    await put(local, `drill_logs/${drill.id}.json`, drill);
    local.seed(`drill_logs/${drill.id}.md`, '# drill');
    if (d !== 28) await put(offsite, `drill_logs/${drill.id}.json`, drill);
  }
  // Only offsite has this failed backup run (local was down).
  await writeRunRecord(offsite, makeRun('backup', at(31, 4), { status: 'failure', reason: 'disk full' }));
  // Junk that must be skipped.
  local.seed('db/lms_broken.manifest.json', '{');
  local.seed('drill_logs/drill_x.json', JSON.stringify({ format: 'lms-backup/drill-report@9', id: 'x' }));
  return { local, offsite };
}

const base: Omit<ReportConfig, 'storages'> = {
  windowDays: 30,
  now: NOW,
  formats: ['markdown', 'json', 'html'],
  failOn: [],
  rpoSeconds: 86_400,
  rtoSeconds: 14_400,
  keepDays: 30,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lms-report-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runReport', () => {
  it('merges every destination, de-duplicates by id, writes the three files', async () => {
    const { local, offsite } = await seed();
    const logger = new MemoryLogger();
    const out = join(dir, 'merged');
    const result = await runReport({ ...base, storages: [local, offsite], outDir: out }, { logger });
    const r = result.readiness;
    // 30 daily runs in the window + the failed one only offsite has.
    expect(r.backups).toMatchObject({ runs: 31, successful: 30, failed: 1, daysWithout: [] });
    expect(r.drills).toMatchObject({ count: 4, passed: 4 });
    expect(r.backups.newestVerified?.id).toBe('lms_20240128_020000');
    expect(result.failed).toEqual([]);
    expect(result.files.map((f) => f.slice(out.length + 1))).toEqual([
      'report.md',
      'report.json',
      'report.html',
    ]);
    expect(result.htmlPath).toBe(join(out, 'report.html'));
    expect(await readFile(join(out, 'report.md'), 'utf8')).toBe(result.markdown);
    const json = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(json.format).toBe('lms-backup/readiness@1');
    expect(json.sources).toEqual(['local:/var/backups/lms', 's3://bucket/lms']);
    expect(json.series.backups).toHaveLength(30);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('s3://bucket/lms');
    const text = logger.text();
    expect(text).toContain('skipping manifest db/lms_broken.manifest.json');
    expect(text).toContain('unknown format "lms-backup/drill-report@9"');
    expect(text).toMatch(/local:\/var\/backups\/lms: 31 run records, 31 manifests, 4 drill reports/);
  });

  it('writes only the formats asked for, nothing without outDir', async () => {
    const { local } = await seed();
    const out = join(dir, 'md-only');
    const r1 = await runReport(
      { ...base, storages: [local], outDir: out, formats: ['markdown'] },
      { logger: new MemoryLogger() },
    );
    expect(r1.files).toEqual([join(out, 'report.md')]);
    expect(r1.htmlPath).toBeUndefined();
    const r2 = await runReport({ ...base, storages: [local] }, { logger: new MemoryLogger() });
    expect(r2.files).toEqual([]);
    expect(r2.json).toContain('"format": "lms-backup/readiness@1"');
  });

  it('fail-on: lists the tripped conditions and warns about each', async () => {
    const { local } = await seed();
    const logger = new MemoryLogger();
    // Three days later: stale, and the open gap breaks the RPO; drills still within the window.
    const later = new Date(NOW.getTime() + 3 * 86_400_000);
    const result = await runReport(
      { ...base, storages: [local], now: later, failOn: ['stale', 'rpo', 'rto', 'drill'] },
      { logger },
    );
    expect(result.failed).toEqual(['stale', 'rpo']);
    expect(logger.text()).toMatch(
      /fail-on stale: The newest complete backup \(lms_20240131_020000\) is 3 d 8 h old/,
    );
  });

  it('uses deps.now when config.now is absent', async () => {
    const { local } = await seed();
    const { now: _ignored, ...withoutNow } = base;
    const result = await runReport(
      { ...withoutNow, storages: [local] },
      { logger: new MemoryLogger(), now: () => NOW },
    );
    expect(result.readiness.generatedAt).toBe(NOW.toISOString());
  });

  it('one unreachable destination is a warning; all unreachable is a failed job', async () => {
    const { local } = await seed();
    const down = new MemoryStorage('azure://acct/container').failOn(
      'list',
      () => new Error('ENOTFOUND acct.blob'),
    );
    const logger = new MemoryLogger();
    const result = await runReport({ ...base, storages: [down, local] }, { logger });
    expect(result.readiness.backups.runs).toBe(30);
    expect(logger.text()).toContain('could not read azure://acct/container: ENOTFOUND acct.blob');
    await expect(runReport({ ...base, storages: [down] }, { logger })).rejects.toBeInstanceOf(JobFailedError);
  });

  it('bad configuration is a ConfigError', async () => {
    const logger = new MemoryLogger();
    await expect(runReport({ ...base, storages: [] }, { logger })).rejects.toBeInstanceOf(ConfigError);
    await expect(
      runReport({ ...base, storages: [new MemoryStorage()], windowDays: 0 }, { logger }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
