/**
 * Fault matrix: the machine and the settings around a run: a full disk while staging, read-only
 * mounts, impossible paths, and passwords given in every way libpq takes them (or not at all).
 * The mount cases need root (as on the CI machine); elsewhere they are skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgEnv, runCli, type SourceDb, startSourceDb } from '../helpers/pg.js';
import { noStack, removeScratch, runRecords, scratch, states } from './helpers.js';

let src: SourceDb;
const mounts: string[] = [];

function mount(dir: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}
const remount = (dir: string, mode: 'ro' | 'rw') =>
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'ignore' });

const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = scratch('lms-fault-probe-');
  if (!mount(probe, 'size=64k')) return false;
  execFileSync('umount', [probe]);
  mounts.pop();
  return true;
})();

beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  await src?.stop();
  removeScratch();
});

const noEnc = ['--no-encryption'];

describe('fault matrix: disks, mounts and paths', () => {
  it.skipIf(!canMount)(
    'no space left while staging the dump → exit 1 naming the directory and the fix; nothing complete; a failure record',
    async () => {
      const dir = scratch();
      expect(mount(dir, 'size=16k')).toBe(true);
      const r = await runCli(['backup', '--to', dir, ...noEnc], pgEnv(src.conn));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`no space left in ${join(dir, 'db')}`);
      expect(r.stderr).toMatch(/hint: free space/);
      expect(noStack(r.stderr)).toBe(true);
      expect(await states(dir)).toEqual({});
    },
  );

  it.skipIf(!canMount)(
    'a read-only destination → exit 2 "read-only file system"; the record waits in the spool and the next good run delivers it, so report counts the failure',
    async () => {
      const dir = scratch();
      const state = scratch('lms-fault-state-');
      const env = { ...pgEnv(src.conn), LMS_BACKUP_STATE_DIR: state };
      expect(mount(dir, 'size=8m')).toBe(true);
      expect((await runCli(['backup', '--to', dir, ...noEnc], env)).code).toBe(0);
      remount(dir, 'ro');
      const failed = await runCli(['backup', '--to', dir, ...noEnc], env);
      expect(failed.code, failed.stderr).toBe(2);
      expect(failed.stderr).toMatch(/read-only file system/);
      expect(failed.stderr).toMatch(/kept in .*spool/);
      remount(dir, 'rw');
      expect((await runCli(['backup', '--to', dir, ...noEnc], env)).code).toBe(0);
      expect(
        runRecords(dir)
          .map((r) => r.status)
          .sort(),
      ).toEqual(['failure', 'success', 'success']);
      const report = await runCli(['--json', 'report', '--from', dir], env);
      expect(report.code, report.stderr).toBe(0);
      const readiness = JSON.parse(report.stdout) as { backups: { runs: number; successful: number } };
      expect(readiness.backups).toMatchObject({ runs: 3, successful: 2 });
    },
  );

  it.skipIf(!canMount)(
    'report --out-dir on a read-only mount → exit 2 naming the directory and "read-only file system"',
    async () => {
      const dir = scratch();
      expect((await runCli(['backup', '--to', dir, ...noEnc], pgEnv(src.conn))).code).toBe(0);
      const ro = scratch();
      expect(mount(ro, 'size=64k,ro')).toBe(true);
      const r = await runCli(['report', '--from', dir, '--out-dir', join(ro, 'out')]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(join(ro, 'out'));
      expect(r.stderr).toMatch(/read-only file system/);
      expect(r.stderr).not.toMatch(/ENOENT/);
    },
  );

  it('--to /proc/x (a directory that can never be created) → exit 2 at once, before connecting to the database', async () => {
    const started = Date.now();
    // The database is unreachable: had the backup connected first, this would be exit 1.
    const r = await runCli(['backup', '--to', '/proc/lms-fault/x', ...noEnc], {
      PGHOST: '127.0.0.1',
      PGPORT: '1',
      PGPASSWORD: 'x',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\/proc\/lms-fault\/x.*cannot be created/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('fault matrix: passwords', () => {
  it('no password at all → exit 2 with a hint naming PGPASSWORD and the password file (like a wrong password)', async () => {
    const dir = scratch();
    const env = { ...pgEnv(src.conn), PGPASSWORD: '', PGPASSFILE: join(dir, 'none') };
    const r = await runCli(['backup', '--to', dir, ...noEnc], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/asks user "postgres" for a password, and none was given/);
    expect(r.stderr).toMatch(/PGPASSWORD/);
    expect(r.stderr).toMatch(/PGPASSFILE/);
  });

  it('?password= in the database URL → honoured (the backup succeeds) and kept out of the output', async () => {
    const dir = scratch();
    const { host, port, user, password } = src.conn;
    const url = `postgresql://${user}@${host}:${port}/lms?password=${encodeURIComponent(password!)}`;
    const r = await runCli(['backup', '--to', dir, ...noEnc], {
      LMS_BACKUP_DATABASE_URL: url,
      PGPASSWORD: '',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(password!);
    expect(Object.values(await states(dir))).toEqual(['complete']);
  });

  it('the password only in PGPASSFILE → our connection and pg_dump both use it; the backup succeeds', async () => {
    const dir = scratch();
    const { host, port, user, password } = src.conn;
    const passfile = join(dir, 'pgpass');
    writeFileSync(passfile, `${host}:${port}:*:${user}:${password}\n`, { mode: 0o600 });
    mkdirSync(join(dir, 'out'));
    const { PGPASSWORD: _none, ...withoutPassword } = pgEnv(src.conn);
    const r = await runCli(['backup', '--to', join(dir, 'out'), ...noEnc], {
      ...withoutPassword,
      PGPASSFILE: passfile,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'out', 'db')).some((f) => f.endsWith('.manifest.json'))).toBe(true);
  });
});
