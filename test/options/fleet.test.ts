/**
 * A fleet as a new user writes it: one lms-backup.yml naming two databases, each with its own
 * destinations and prefix; `backup --all` backs up both with one command, `drill --all` proves
 * both, and `report --all` puts both on one page. A database that fails does not stop the other.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLms } from '../../src/commands/lms-schema.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { connect } from '../../src/postgres/client.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { pgEnv, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

const dir = tempDir();
let src: SourceDb;
const keys = generateIdentity();

beforeAll(async () => {
  src = await startSourceDb(1);
  // A second database on the same server (one PGPASSWORD serves both), seeded differently.
  const admin = await connect(withDatabase(src.conn, 'postgres'));
  try {
    await admin.query('CREATE DATABASE crm');
  } finally {
    await admin.end();
  }
  const crm = await connect(withDatabase(src.conn, 'crm'));
  try {
    await seedLms(crm, 2);
  } finally {
    await crm.end();
  }
});
afterAll(async () => {
  await src?.stop();
  dir.remove();
});

function fleetFile(extra = ''): string {
  const url = (db: string) => `postgresql://${src.conn.user}@${src.conn.host}:${src.conn.port}/${db}`;
  return [
    'backup:',
    `  recipients: [${keys.recipient}]`,
    'drill:',
    '  engine: local',
    '  min-tables: 1',
    'report:',
    '  output-dir: report',
    'databases:',
    '  lms:',
    '    backup:',
    `      database-url: ${url('lms')}`,
    '      destinations: [lms-backups]',
    '      prefix: lms',
    '  crm:',
    '    backup:',
    `      database-url: ${url('crm')}`,
    '      destinations: [crm-backups]',
    '      prefix: crm',
    extra,
  ].join('\n');
}

describe('a fleet in lms-backup.yml', () => {
  it('backs up, drills and reports every database with one command each', async () => {
    writeFileSync(join(dir.path, 'lms-backup.yml'), fleetFile());
    const env = { PGPASSWORD: src.conn.password ?? '', LMS_BACKUP_IDENTITY: keys.identity };

    const backup = await runCli(['backup', '--all'], env, dir.path);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/== lms\nbackup lms_\d{8}_\d{6} complete/);
    expect(backup.stdout).toMatch(/== crm\nbackup crm_\d{8}_\d{6} complete/);
    expect(readdirSync(join(dir.path, 'lms-backups', 'db')).some((f) => /^lms_.*\.dump\.age$/.test(f))).toBe(
      true,
    );
    expect(readdirSync(join(dir.path, 'crm-backups', 'db')).some((f) => /^crm_.*\.dump\.age$/.test(f))).toBe(
      true,
    );

    // Drill reads each database's backups where its backup section stores them.
    const drill = await runCli(['--json', 'drill', '--all'], env, dir.path);
    expect(drill.code, drill.stderr).toBe(0);
    const drilled = JSON.parse(drill.stdout) as {
      databases: Record<string, { verdict: string; backupId: string }>;
    };
    expect(drilled.databases.lms).toMatchObject({
      verdict: 'pass',
      backupId: expect.stringMatching(/^lms_/),
    });
    expect(drilled.databases.crm).toMatchObject({
      verdict: 'pass',
      backupId: expect.stringMatching(/^crm_/),
    });

    const report = await runCli(['report', '--all'], env, dir.path);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/# DR readiness: 2 databases/);
    expect(report.stdout).toMatch(/\| lms \| ready \| lms_/);
    expect(report.stdout).toMatch(/\| crm \| ready \| crm_/);
    const html = readFileSync(join(dir.path, 'report', 'report.html'), 'utf8');
    expect(html).toContain('Covers lms, crm.');
    expect(html).toContain('id="db-crm"');
    const json = JSON.parse(readFileSync(join(dir.path, 'report', 'report.json'), 'utf8')) as {
      format: string;
      databases: { database: string; status: string }[];
    };
    expect(json.format).toBe('lms-backup/fleet-readiness@1');
    expect(json.databases.map((d) => [d.database, d.status])).toEqual([
      ['lms', 'ready'],
      ['crm', 'ready'],
    ]);

    // One database alone, by name.
    const one = await runCli(['list', '--database', 'crm'], env, dir.path);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/crm_\d{8}_\d{6}/);
    expect(one.stdout).not.toMatch(/lms_\d{8}/);
  });

  it('one database that fails does not stop the next, and the exit code says the worst', async () => {
    const broken = fleetFile().replace(
      'destinations: [lms-backups]',
      'destinations: [lms-backups]\n      min-bytes: lots',
    );
    writeFileSync(join(dir.path, 'broken.yml'), broken);
    const env = { PGPASSWORD: src.conn.password ?? '' };
    const before = readdirSync(join(dir.path, 'crm-backups', 'db')).length;
    const r = await runCli(['--config', 'broken.yml', 'backup', '--all'], env, dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[lms\] .*databases\.lms\.backup\.min-bytes/);
    expect(r.stdout).toMatch(/== crm\nbackup crm_/);
    expect(readdirSync(join(dir.path, 'crm-backups', 'db')).length).toBeGreaterThan(before);
  });

  it('a fleet file without --database or --all is refused, naming the databases', async () => {
    const r = await runCli(['backup'], pgEnv(src.conn), dir.path);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/names databases \(lms, crm\): choose one/);
    expect(r.stderr).toMatch(/--database NAME, or --all/);
    const restore = await runCli(['restore', '--all'], pgEnv(src.conn), dir.path);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/--all: restore works on one database/);
    expect(existsSync(join(dir.path, 'lms-backups'))).toBe(true);
  });
});
