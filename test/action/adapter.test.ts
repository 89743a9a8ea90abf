/** The Action adapter in-process, against a fake runner: inputs, masking, failures, summaries. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { artifactName, uploadArtifact } from '../../src/action/artifact.js';
import {
  parseBackupInputs,
  parseDrillInputs,
  parsePruneInputs,
  parseReportInputs,
  splitLines,
} from '../../src/action/inputs.js';
import { actionLogger } from '../../src/action/logger.js';
import { dropEmptySettings, runStep, STEPS } from '../../src/action/main.js';
import { Secrets } from '../../src/action/secrets.js';
import { backupSummary, drillSummary, pruneSummary } from '../../src/action/summary.js';
import type { DrillReport, Manifest } from '../../src/catalog/types.js';
import type { BackupResult } from '../../src/commands/backup.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { ConfigErrors } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import { FakeIO } from './fake-io.js';

const tmp = mkdtempSync(join(tmpdir(), 'lms-action-unit-'));
// Destinations that are read from must exist (a missing one is refused, exit 2).
for (const d of ['b2', 'empty']) mkdirSync(join(tmp, d));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ctx(io: FakeIO, env: NodeJS.ProcessEnv = {}) {
  const secrets = new Secrets(io);
  return { io, secrets, logger: actionLogger(io, secrets), env };
}

async function configErrors(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (error) {
    if (error instanceof ConfigErrors) return error.problems.map((e) => e.message);
    throw error;
  }
  throw new Error('expected configuration problems');
}

describe('masking', () => {
  it('masks the password of a database URL, raw and decoded, and scrubs it from text', () => {
    const io = new FakeIO();
    const s = new Secrets(io);
    s.addConnectionUrl('postgresql://app:p%40ss%2Fw0rd@db.example:5432/lms?sslmode=require');
    expect(io.masked).toEqual(expect.arrayContaining(['p%40ss%2Fw0rd', 'p@ss/w0rd']));
    expect(s.scrub('auth failed for p@ss/w0rd and p%40ss%2Fw0rd')).toBe('auth failed for *** and ***');
  });

  it('masks SAS signatures in destinations and the secret parts of connection strings', () => {
    const io = new FakeIO();
    const s = new Secrets(io);
    s.addStorageLocation('azure://acct/backups/lms?sv=2022-11-02&sp=racwl&sig=abc%2Bdef%3D');
    expect(io.masked).toEqual(expect.arrayContaining(['abc+def=', 'abc%2Bdef%3D']));
    s.addConnectionString(
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=S3cr3tKey==;EndpointSuffix=core.windows.net',
    );
    expect(io.masked).toContain('S3cr3tKey==');
    expect(io.masked).not.toContain('acct');
  });

  it('masks every line of a multi-line secret and ignores values too short to mask', () => {
    const io = new FakeIO();
    const s = new Secrets(io);
    s.add('# created: now\nAGE-SECRET-KEY-1QQQQ\n');
    expect(io.masked).toContain('AGE-SECRET-KEY-1QQQQ');
    s.add('ab');
    expect(io.masked).not.toContain('ab');
  });

  it('masks credentials in the step environment, and drops empty settings first', () => {
    const env: NodeJS.ProcessEnv = {
      PGPASSWORD: 'pg-secret',
      AWS_REGION: '',
      AWS_SECRET_ACCESS_KEY: 'aws-secret',
      HOME: '',
    };
    dropEmptySettings(env);
    expect(env).toEqual({ PGPASSWORD: 'pg-secret', AWS_SECRET_ACCESS_KEY: 'aws-secret', HOME: '' });
    const io = new FakeIO();
    new Secrets(io).addFromEnv(env);
    expect(io.masked).toEqual(expect.arrayContaining(['pg-secret', 'aws-secret']));
  });
});

describe('inputs', () => {
  it('splits lists on newlines and commas', () => {
    expect(splitLines(' a, b\n\nc ,\n')).toEqual(['a', 'b', 'c']);
  });

  it('collects every backup input problem into one error, masking the password first', async () => {
    const io = new FakeIO({
      'database-url': 'postgresql://u:hunter2secret@localhost/db',
      compression: 'brotli',
      prefix: 'bad prefix',
      recipients: 'age1notakey',
      destinations: 'ftp:/nowhere',
    });
    const problems = await configErrors(parseBackupInputs(ctx(io)));
    expect(io.masked).toContain('hunter2secret');
    expect(problems.length).toBeGreaterThanOrEqual(4);
    expect(problems.join('\n')).toMatch(/compression "brotli"/);
    expect(problems.join('\n')).toMatch(/prefix "bad prefix"/);
    expect(problems.join('\n')).toMatch(/age1notakey|recipient/);
    expect(problems.join('\n')).not.toContain('hunter2secret');
  });

  it('requires a database in effect, and rejects a typo in a boolean', async () => {
    const io = new FakeIO({ encryption: 'nope' });
    const problems = await configErrors(parseBackupInputs(ctx(io)));
    expect(problems).toEqual([
      expect.stringContaining('database-url is required'),
      'encryption must be true or false (got "nope")',
    ]);
  });

  it('takes the database from PG* variables and the passphrase from the environment, as the CLI does', async () => {
    const io = new FakeIO({ destinations: join(tmp, 'b1') });
    const c = ctx(io, {
      PGHOST: 'db',
      PGUSER: 'app',
      PGPASSWORD: 'pw-secret',
      LMS_BACKUP_PASSPHRASE: 'from-env-pp',
    });
    const parsed = await parseBackupInputs(c);
    expect(parsed.config.connection).toMatchObject({ host: 'db', user: 'app', password: 'pw-secret' });
    expect(parsed.config.encryption).toEqual({ mode: 'age', recipients: [], passphrase: 'from-env-pp' });
    expect(parsed.config.prefix).toBe('lms');
    expect(parsed.config.compression).toBe('auto');
    expect(io.masked).toContain('from-env-pp');
  });

  it('parses drill inputs with the documented defaults and masks the identity', async () => {
    const { identity } = generateIdentity();
    const io = new FakeIO({ identity, from: join(tmp, 'b2') });
    const parsed = await parseDrillInputs(ctx(io), { defaultReportDir: join(tmp, 'reports') });
    expect(io.masked).toContain(identity);
    expect(parsed.uploadReport).toBe(true);
    expect(parsed.config).toMatchObject({
      selection: { name: 'latest' },
      engine: 'auto',
      minTables: 8,
      rtoSeconds: 4 * 3600,
      rpoSeconds: 24 * 3600,
      localReportDir: join(tmp, 'reports'),
    });
    expect(parsed.config.keys.identities).toEqual([identity]);
  });

  it('refuses more than one drill source, and bad prune and report settings, all at once', async () => {
    expect(
      await configErrors(parseDrillInputs(ctx(new FakeIO({ from: 'a,b' })), { defaultReportDir: tmp })),
    ).toEqual(['from takes one destination (got 2)']);
    const prune = await configErrors(
      parsePruneInputs(ctx(new FakeIO({ 'keep-days': '0', 'keep-min': '-1', 'dry-run': 'maybe' }))),
    );
    // The three bad settings, and the default destination "backups", which does not exist here.
    expect(prune).toHaveLength(4);
    const report = await configErrors(
      parseReportInputs(ctx(new FakeIO({ 'fail-on': 'stale,bogus', formats: 'pdf', 'window-days': '0' }))),
    );
    expect(report).toEqual([
      'window-days must be a whole number >= 1 (got "0")',
      'fail-on "bogus" is not a condition',
      'formats: "pdf" is not a report format',
    ]);
  });
});

describe('runStep', () => {
  it('turns any throw, even a non-Error, into one failed step, and scrubs secrets from it', async () => {
    STEPS['test-throws-string'] = async () => {
      throw 'plain string from sk-verysecret';
    };
    const io = new FakeIO();
    expect(await runStep('test-throws-string', io, { AWS_SECRET_ACCESS_KEY: 'sk-verysecret' })).toBe(1);
    // A thrown non-Error is a bug: said so, with a log file, and still scrubbed.
    expect(io.failed).toMatch(/^internal error: plain string from \*\*\*/);
    expect(io.failed).not.toContain('sk-verysecret');
    delete STEPS['test-throws-string'];
  });

  it('fails an unknown step clearly', async () => {
    const io = new FakeIO();
    expect(await runStep('nope', io, {})).toBe(1);
    expect(io.failed).toMatch(/unknown action step "nope"/);
  });

  it('fails verify clearly when there is nothing to verify, with a summary', async () => {
    const io = new FakeIO({ from: join(tmp, 'empty') });
    expect(await runStep('verify', io, {})).toBe(1);
    expect(io.failed).toMatch(/no complete backup/);
    expect(io.summaries.join('')).toContain('Verify did not run');
  });

  it('refuses a restore without a target, and says nothing was restored', async () => {
    const io = new FakeIO({ from: join(tmp, 'empty'), tables: 'public.users', 'dry-run': 'perhaps' });
    expect(await runStep('restore', io, {})).toBe(1);
    expect(io.failed).toContain('target-url is required');
    expect(io.failed).toContain('dry-run must be true or false (got "perhaps")');
    expect(io.summaries.join('')).toContain('Nothing was restored');
  });

  it('writes the summary in finally even when the step fails; a summary failure is only a warning', async () => {
    const io = new FakeIO({ compression: 'brotli' });
    io.summaryFails = true;
    expect(await runStep('backup', io, {})).toBe(1);
    expect(io.failed).toContain('configuration problems');
    expect(io.log).toContain(
      'warning: could not write the job summary: Unable to find environment variable for $GITHUB_STEP_SUMMARY',
    );
    const ok = new FakeIO({ compression: 'brotli' });
    await runStep('backup', ok, {});
    expect(ok.summaries.join('')).toContain('Backup failed');
  });

  it('groups phases flat: a group opened inside another closes it', async () => {
    const io = new FakeIO();
    const logger = actionLogger(io, new Secrets(io));
    await logger.group('outer', async () => {
      logger.info('a');
      await logger.group('inner', async () => logger.info('b'));
      logger.info('c');
    });
    expect(io.log).toEqual([
      'group: outer',
      'info: a',
      'endgroup',
      'group: inner',
      'info: b',
      'endgroup',
      'info: c',
    ]);
  });
});

describe('artifacts', () => {
  it('skips the artifact upload outside a runner, with a debug line', async () => {
    const logger = new MemoryLogger();
    expect(await uploadArtifact('x', [join(tmp, 'f')], tmp, {}, logger)).toBeUndefined();
    expect(logger.text()).toMatch(/debug: not running on a GitHub Actions runner/);
    expect(artifactName('lms-backup-drill_1', { GITHUB_JOB: 'drill', GITHUB_RUN_ATTEMPT: '2' })).toBe(
      'lms-backup-drill_1-drill-attempt-2',
    );
  });
});

describe('summaries', () => {
  const manifest = {
    id: 'lms_20240115_020000',
    createdAt: '2024-01-15T02:00:00.000Z',
    source: {
      host: 'db.internal',
      port: 5432,
      database: 'lms',
      user: 'app',
      serverVersion: '15.5',
      serverVersionNum: 150005,
    },
    tool: { name: 'lms-backup', version: '0.1.0', pgDumpVersion: '15.5' },
    dump: { format: 'custom', compression: 'gzip:1', bytes: 2048, sha256: 'a'.repeat(64), durationMs: 900 },
    object: { key: 'db/lms_20240115_020000.dump.age', bytes: 2100, sha256: 'b'.repeat(64), sidecarKey: 'x' },
    encryption: { scheme: 'age', recipients: ['age1x'], passphrase: false },
    inventory: { tables: [], extensions: [], schemaFingerprint: 'f', tableCount: 10, totalRows: 12345 },
  } as unknown as Manifest;
  const result: BackupResult = {
    id: manifest.id,
    manifest,
    stored: [{ destination: 'azure://acct/backups', key: manifest.object.key }],
    durationMs: 3200,
    phases: { dumpMs: 2000, storeMs: 1000 },
    warnings: [
      'The backup shrank to 2.05 KiB (21% of the median 9.77 KiB of the last 3 complete backups), below the 50% threshold: were data or tables deleted?',
    ],
    medianBytes: 10_000,
  };

  it('backup: what, where, size against the median, checksum, duration', () => {
    const md = backupSummary({ result, displays: ['azure://acct/backups'] });
    expect(md).toContain('## ⚠️ Backup `lms_20240115_020000` complete');
    expect(md).toContain('`lms` on `db.internal:5432`, PostgreSQL 15.5');
    expect(md).toContain('10 tables, 12,345 rows');
    expect(md).toContain('| Size check | ⚠️ 21% of the median 9.77 KiB of recent complete backups |');
    expect(md).toContain('- ⚠️ The backup shrank to 2.05 KiB');
    const first = backupSummary({ result: { ...result, warnings: [], medianBytes: null }, displays: [] });
    expect(first).toContain('## ✅ Backup');
    expect(first).toContain('no earlier complete backups to compare with');
    expect(md).toContain('b'.repeat(64));
    expect(md).toContain('`azure://acct/backups/db/lms_20240115_020000.dump.age`');
    expect(md).toMatch(
      /Duration \| 3\.2 s \(dump 2\.0 s, store 1\.0 s\)|Duration \| 3\.2 s \(dump 2 s, store 1 s\)/,
    );
  });

  it('drill and prune failures say what happened', () => {
    expect(drillSummary({ error: 'no complete backup in x', from: 'x' })).toContain('did not run');
    const report = { verdict: 'fail' } as DrillReport;
    expect(drillSummary({ report, markdown: '## drill md' })).toContain('## drill md');
    const md = pruneSummary({
      dryRun: true,
      results: [
        {
          display: '/b',
          result: {
            plan: {
              keep: [{ id: 'lms_2', reasons: ['newest'] }],
              remove: [{ id: 'lms_1', reason: 'older than 30 days' }],
              warnings: [],
            },
            deleted: [],
            sweep: [],
          },
        },
      ],
    });
    expect(md).toContain('dry run: nothing deleted');
    expect(md).toContain('| `lms_1` | would remove | older than 30 days |');
  });
});
