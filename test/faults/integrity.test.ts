/**
 * Fault matrix: stored backups damaged on purpose (flipped bytes, truncation, sidecars deleted or
 * altered, manifests swapped, corrupt or without their objects) and the selection inputs users
 * get wrong. Each outcome is what the CLI prints and exits with, and what is left in storage.
 */
import {
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupKeys } from '../../src/catalog/names.js';
import { pgEnv, runCli, type SourceDb, startSourceDb } from '../helpers/pg.js';
import { backupTo, keys, noStack, removeScratch, runRecords, scratch, states } from './helpers.js';

let src: SourceDb;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
const withKey = { LMS_BACKUP_IDENTITY: keys.identity };
const file = (dir: string, key: string) => join(dir, ...key.split('/'));
const PRUNE_HARD = [
  '--keep-days',
  '1',
  '--keep-daily',
  '0',
  '--keep-weekly',
  '0',
  '--keep-monthly',
  '0',
  '--keep-min',
  '1',
];

beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  await src?.stop();
  removeScratch();
});

describe('fault matrix: damaged backups', () => {
  it('one flipped byte in the stored dump → verify and drill exit 1 naming the checksum mismatch; a failure record', async () => {
    const dir = scratch();
    const b = await backupTo(src, dir);
    const path = file(dir, b.manifest.object.key);
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(path, bytes);
    const v = await runCli(['verify', '--from', dir], withKey);
    expect(v.code, v.stderr).toBe(1);
    expect(v.stdout).toMatch(/FAILED stored SHA-256 matches the manifest: checksum mismatch/);
    const d = await runCli(['drill', '--from', dir, '--engine', 'local'], withKey);
    expect(d.code, d.stderr).toBe(1);
    expect(d.stdout).toMatch(/checksum mismatch/);
    expect(runRecords(dir).map((r) => [r.command, r.status])).toEqual([
      ['verify', 'failure'],
      ['drill', 'failure'],
    ]);
  });

  it('a truncated dump → list shows it damaged with the sizes; drill of it exits 1; "latest" is not offered it', async () => {
    const dir = scratch();
    const old = await backupTo(src, dir, ago(2));
    const b = await backupTo(src, dir);
    truncateSync(file(dir, b.manifest.object.key), 100);
    const l = await runCli(['list', '--from', dir]);
    expect(l.code).toBe(0);
    expect(l.stdout).toMatch(new RegExp(`${b.id} .* damaged`));
    expect(l.stdout).toContain(`holds 100 bytes; the manifest says ${b.manifest.object.bytes}`);
    const named = await runCli(['drill', '--from', dir, '--backup', b.id, '--engine', 'local'], withKey);
    expect(named.code, named.stderr).toBe(1);
    expect(named.stderr).toMatch(/is damaged/);
    const v = await runCli(['verify', '--from', dir], withKey);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`verify ${old.id}`);
    expect(v.stdout).toMatch(/the newer backup \S+ is damaged/);
  });

  it('a deleted .sha256 sidecar → the backup is damaged (sidecar missing); verify and drill of it exit 1', async () => {
    const dir = scratch();
    const b = await backupTo(src, dir);
    rmSync(file(dir, b.manifest.object.sidecarKey));
    expect(await states(dir)).toEqual({ [b.id]: 'damaged' });
    const l = await runCli(['list', '--from', dir]);
    expect(l.stdout).toMatch(/checksum sidecar \S+ is missing/);
    for (const cmd of ['verify', 'drill']) {
      const r = await runCli(
        [cmd, '--from', dir, '--backup', b.id, '--engine', 'local'].slice(0, cmd === 'verify' ? 5 : 7),
        withKey,
      );
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/damaged: its checksum sidecar/);
    }
  });

  it('an altered .sha256 sidecar → verify and drill exit 1 naming the sidecar; the drill report says why', async () => {
    const dir = scratch();
    const b = await backupTo(src, dir);
    const name = b.manifest.object.key.split('/').pop();
    writeFileSync(file(dir, b.manifest.object.sidecarKey), `${'0'.repeat(64)}  ${name}\n`);
    const v = await runCli(['verify', '--from', dir], withKey);
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/FAILED sidecar agrees with the manifest: the checksum sidecar .* says 0{64}/);
    const d = await runCli(['--json', 'drill', '--from', dir, '--engine', 'local'], withKey);
    expect(d.code, d.stderr).toBe(1);
    const report = JSON.parse(d.stdout) as { verdict: string; reasons: string[]; sidecar: { ok: boolean } };
    expect(report.verdict).toBe('fail');
    expect(report.sidecar.ok).toBe(false);
    expect(report.reasons.join('\n')).toMatch(/checksum sidecar/);
  });

  it('two manifests swapped → both damaged; verify of either exits 1; prune deletes neither and keeps the intact older backup', async () => {
    const dir = scratch();
    const intact = await backupTo(src, dir, ago(10));
    const a = await backupTo(src, dir, ago(2));
    const b = await backupTo(src, dir, ago(1));
    const ma = file(dir, backupKeys(a.id, true).manifest);
    const mb = file(dir, backupKeys(b.id, true).manifest);
    renameSync(ma, `${ma}.x`);
    renameSync(mb, ma);
    renameSync(`${ma}.x`, mb);
    expect(await states(dir)).toEqual({ [intact.id]: 'complete', [a.id]: 'damaged', [b.id]: 'damaged' });
    for (const id of [a.id, b.id]) {
      const v = await runCli(['verify', '--from', dir, '--backup', id], withKey);
      expect(v.code).toBe(1);
      expect(v.stderr).toMatch(/swapped or copied manifest/);
    }
    const p = await runCli(['prune', '--from', dir, ...PRUNE_HARD]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/removed 0 backup/);
    expect(await states(dir)).toEqual({ [intact.id]: 'complete', [a.id]: 'damaged', [b.id]: 'damaged' });
  });

  it('a manifest whose dump object is missing → damaged in list (not "complete"), never "newest complete"; prune keeps the intact older backup', async () => {
    const dir = scratch();
    const intact = await backupTo(src, dir, ago(10));
    const b = await backupTo(src, dir, ago(1));
    rmSync(file(dir, b.manifest.object.key));
    const l = await runCli(['list', '--from', dir]);
    expect(l.stdout).toMatch(new RegExp(`${b.id} .* damaged`));
    expect(l.stdout).toMatch(/its dump object \S+ is missing/);
    const p = await runCli(['prune', '--from', dir, ...PRUNE_HARD]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain(`+ ${intact.id}`);
    expect(p.stdout).toMatch(/newest complete backup/);
    expect(await states(dir)).toEqual({ [intact.id]: 'complete', [b.id]: 'damaged' });
  });

  it('a corrupt manifest (not JSON) → list says damaged, "not valid JSON", never "incomplete (no manifest)"', async () => {
    const dir = scratch();
    const b = await backupTo(src, dir);
    writeFileSync(file(dir, backupKeys(b.id, true).manifest), '{"format": "lms-backup/manifest@1", "id": ');
    const l = await runCli(['list', '--from', dir]);
    expect(l.stdout).toMatch(new RegExp(`${b.id} .* damaged`));
    expect(l.stdout).toMatch(/not valid JSON/);
    const r = await runCli(['restore', '--from', dir, '--backup', b.id, '--dry-run'], withKey);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/incomplete/);
    expect(r.stderr).toMatch(/is damaged: manifest unreadable/);
  });

  it('a staged file and an incomplete backup left by killed runs → prune --dry-run lists both as what it would sweep; prune removes them', async () => {
    const dir = scratch();
    const good = await backupTo(src, dir, ago(3));
    const leftover = await backupTo(src, dir, ago(2));
    rmSync(file(dir, backupKeys(leftover.id, true).manifest));
    const stagedFile = join(dir, 'db', '.tmp-0123456789ab.dump.partial');
    writeFileSync(stagedFile, 'half a dump');
    const old = ago(2);
    utimesSync(stagedFile, old, old);
    const dry = await runCli(['prune', '--from', dir, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would sweep 2 leftover/);
    expect(dry.stdout).toContain(`~ incomplete backup ${leftover.id}`);
    expect(dry.stdout).toContain(`~ staged file ${stagedFile}`);
    expect(existsSync(stagedFile)).toBe(true);
    const real = await runCli(['prune', '--from', dir]);
    expect(real.code, real.stderr).toBe(0);
    expect(existsSync(stagedFile)).toBe(false);
    expect(await states(dir)).toEqual({ [good.id]: 'complete' });
  });

  it('two backups in the same second → distinct names, neither overwritten, both complete', async () => {
    const dir = scratch();
    const at = new Date();
    const [x, y] = await Promise.all([backupTo(src, dir, at), backupTo(src, dir, at)]);
    expect(x.id).not.toBe(y.id);
    expect(await states(dir)).toEqual({ [x.id]: 'complete', [y.id]: 'complete' });
  });
});

describe('fault matrix: missing keys and wrong selections', () => {
  it('drill with no identity → exit 2 naming --identity-file and LMS_BACKUP_IDENTITY, a failed drill report and a run record, no stack trace', async () => {
    const dir = scratch();
    await backupTo(src, dir);
    const r = await runCli(['drill', '--from', dir, '--engine', 'local'], { LMS_BACKUP_IDENTITY: '' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no identity/);
    expect(r.stderr).toMatch(/--identity-file/);
    expect(r.stderr).toMatch(/LMS_BACKUP_IDENTITY/);
    expect(noStack(r.stderr)).toBe(true);
    const reports = existsSync(join(dir, 'drill_logs'))
      ? (await import('node:fs')).readdirSync(join(dir, 'drill_logs')).filter((f) => f.endsWith('.json'))
      : [];
    expect(reports).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(dir, 'drill_logs', reports[0]!), 'utf8'));
    // Not the backup failing its drill: it could not run, and the backup's state is untouched.
    expect(report.verdict).toBe('could-not-run');
    expect(report.reasons[0]).toMatch(/^could not run: /);
    expect(runRecords(dir).map((x) => [x.command, x.status])).toEqual([['drill', 'failure']]);
    const list = await runCli(['--json', 'list', '--from', dir]);
    expect(JSON.parse(list.stdout).map((b: { state: string }) => b.state)).toEqual(['complete']);
  });

  it('verify and restore --dry-run with no identity → exit 2 naming the missing input, before any download, with a run record', async () => {
    const dir = scratch();
    await backupTo(src, dir);
    for (const args of [['verify'], ['restore', '--dry-run']]) {
      const target = { ...pgEnv(src.conn), PGDATABASE: 'fault_restore_target' };
      const r = await runCli([...args, '--from', dir], { ...target, LMS_BACKUP_IDENTITY: '' });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/no identity \(private key\) was given/);
      expect(noStack(r.stderr)).toBe(true);
    }
    expect(runRecords(dir).map((x) => [x.command, x.status])).toEqual([
      ['verify', 'failure'],
      ['restore', 'failure'],
    ]);
  });

  it('list or prune on a path that does not exist → exit 2 saying so; nothing is created', async () => {
    const missing = join(scratch(), 'no-such-dir');
    for (const cmd of ['list', 'prune']) {
      const r = await runCli([cmd, '--from', missing]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/does not exist/);
      expect(existsSync(missing)).toBe(false);
    }
  });

  it('--before in the future, --before with --backup, and --rto 0 → exit 2 with the reason', async () => {
    const dir = scratch();
    const b = await backupTo(src, dir);
    const cases: [string[], RegExp][] = [
      [['verify', '--before', '2999-01-01T00:00Z'], /is in the future/],
      [['verify', '--before', '2020-01-01T00:00Z', '--backup', b.id], /both choose a backup/],
      [['drill', '--rto', '0'], /--rto 0 is zero/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli([...args, '--from', dir], withKey);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('an unknown --backup and a --before older than every backup → both exit 2 (configuration)', async () => {
    const dir = scratch();
    await backupTo(src, dir);
    const unknown = await runCli(['verify', '--from', dir, '--backup', 'lms_20000101_000000'], withKey);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/is not in/);
    const early = await runCli(['verify', '--from', dir, '--before', '2000-01-01T00:00Z'], withKey);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/no complete backup taken before/);
  });
});
