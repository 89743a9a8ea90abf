import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/crypto/age.js';
import {
  type AzuriteEmulator,
  type GcsStandIn,
  type S3rverEmulator,
  startAzurite,
  startGcsStandIn,
  startS3rver,
} from '../helpers/emulators.js';
import { pgEnv, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

// End to end: one pg_dump run stored in local + Azurite + s3rver + the GCS stand-in, then a
// drill from each destination, through the bundled CLI as a user runs it.
let src: SourceDb;
let azure: AzuriteEmulator;
let s3: S3rverEmulator;
let gcs: GcsStandIn;
const dir = tempDir();
const keys = generateIdentity();

beforeAll(async () => {
  [src, azure, s3, gcs] = await Promise.all([
    startSourceDb(1),
    startAzurite(),
    startS3rver(),
    startGcsStandIn(),
  ]);
});
afterAll(async () => {
  await Promise.allSettled([src?.stop(), azure?.stop(), s3?.stop(), gcs?.stop()]);
  dir.remove();
});

const env = () => ({
  ...pgEnv(src.conn),
  ...azure.env,
  ...s3.env,
  ...gcs.env,
  LMS_BACKUP_IDENTITY: keys.identity,
});

describe('one backup to local and offsite destinations, then a drill from each', () => {
  let id = '';
  it('stores the same object everywhere with the manifest last', async () => {
    const local = join(dir.path, 'backups');
    const r = await runCli(
      [
        '--json',
        'backup',
        '--to',
        local,
        '--to',
        azure.url,
        '--to',
        s3.url,
        '--to',
        gcs.url,
        '--recipient',
        keys.recipient,
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; stored: { destination: string; key: string }[] };
    id = out.id;
    expect(out.stored.map((s) => s.destination)).toHaveLength(4);
    // No credential in any output (the emulators' keys are well known, but the rule is the rule).
    expect(r.stdout + r.stderr).not.toContain(azure.env.AZURE_STORAGE_KEY!);
    expect(r.stdout + r.stderr).not.toContain(s3.env.AWS_SECRET_ACCESS_KEY!);
  });

  it.each([
    ['local', () => join(dir.path, 'backups')],
    ['Azure (Azurite)', () => azure.url],
    ['S3 (s3rver)', () => s3.url],
    ['GCS (stand-in)', () => gcs.url],
  ])('drills the backup from %s', async (_name, from) => {
    const listed = await runCli(['--json', 'list', '--from', from()], env());
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as { id: string; state: string }[];
    expect(rows.map((x) => [x.id, x.state])).toEqual([[id, 'complete']]);
    const r = await runCli(['--json', 'drill', '--from', from(), '--engine', 'local'], env());
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { verdict: string; backupId: string; tables: unknown[] };
    expect(report.verdict).toBe('pass');
    expect(report.backupId).toBe(id);
    expect(report.tables).toHaveLength(10);
  });
});
