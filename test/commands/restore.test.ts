import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/commands/backup.js';
import { runRestore } from '../../src/commands/restore.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { MemoryLogger } from '../../src/log.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { openStorage } from '../../src/storage/index.js';
import { pgEnv, query, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
let dir: string;
let backupId: string;
const keys = generateIdentity();
const cleanup: { remove(): void }[] = [];

beforeAll(async () => {
  src = await startSourceDb(1);
  const d = tempDir();
  cleanup.push(d);
  dir = d.path;
  const r = await runBackup(
    {
      connection: src.conn,
      destinations: [await openStorage(dir)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger() },
  );
  backupId = r.id;
});
afterAll(async () => {
  await src?.stop();
  for (const d of cleanup) d.remove();
});

const env = () => ({ ...pgEnv(src.conn), LMS_BACKUP_IDENTITY: keys.identity });
const snapshot = async (db: string) =>
  query<{ n: string; s: string }>(
    withDatabase(src.conn, db),
    'SELECT count(*) AS n, coalesce(sum(hashtext(email)), 0)::text AS s FROM users',
  );

describe('verify', () => {
  it('passes on a good backup with no database involved', async () => {
    const r = await runVerify(
      { storage: await openStorage(dir), selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    expect(r.backupId).toBe(backupId);
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([
      ['stored object present with the manifest size', true],
      ['sidecar agrees with the manifest', true],
      ['stored SHA-256 matches the manifest', true],
      ['decryption authenticates', true],
      ['pg_restore --list reads the archive', true],
      ['every manifest table is in the archive', true],
      ['globals object checksum, sidecar and decryption', true],
    ]);
    expect(r.ok).toBe(true);
  });

  it('fails (exit 1) on a corrupted stored object', async () => {
    const d = tempDir();
    cleanup.push(d);
    for (const sub of ['db']) {
      const { cpSync } = await import('node:fs');
      cpSync(join(dir, sub), join(d.path, sub), { recursive: true });
    }
    const obj = join(d.path, 'db', `${backupId}.dump.age`);
    const bytes = readFileSync(obj);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(obj, bytes);
    const r = await runCli(['verify', '--from', d.path], env());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAILED stored SHA-256 matches the manifest/);
  });
});

describe('restore', () => {
  it('restores into an empty (new) database and passes the validations', async () => {
    const r = await runRestore(
      {
        storage: await openStorage(dir),
        selection: {},
        keys: { identities: [keys.identity] },
        target: withDatabase(src.conn, 'restored_empty'),
        safetyBackup: true,
        force: false,
        dryRun: false,
        tables: [],
        schemas: [],
        minTables: 8,
      },
      { logger: new MemoryLogger() },
    );
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.safetyBackup).toBeUndefined(); // nothing to protect in an empty target
    expect(r.validation?.tables.every((t) => t.ok)).toBe(true);
    expect(await snapshot('restored_empty')).toEqual(await snapshot('lms'));
  });

  it('refuses a non-empty target without --confirm, and with a wrong name (exit 2)', async () => {
    const before = await snapshot('lms');
    const none = await runCli(['restore', '--from', dir], env());
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/refusing to restore over "lms": it holds 10 table\(s\)/);
    expect(none.stderr).toMatch(/--confirm lms/);
    const wrong = await runCli(['restore', '--from', dir, '--confirm', 'lms_prod'], env());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--confirm "lms_prod" does not name the target database "lms"/);
    expect(await snapshot('lms')).toEqual(before);
  });

  it('--dry-run prints the plan and the archive contents and changes nothing', async () => {
    const before = await snapshot('lms');
    const r = await runCli(['restore', '--from', dir, '--dry-run', '--confirm', 'lms'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Restore plan \(dry run: nothing changed\)/);
    expect(r.stdout).toMatch(/checksum +ok; decryption ok/);
    expect(r.stdout).toMatch(/TABLE DATA/);
    expect(r.stdout).not.toContain(src.conn.password!);
    expect(await snapshot('lms')).toEqual(before);
    expect(readdirSync(join(dir, 'db')).some((f) => f.startsWith('pre-restore'))).toBe(false);
  });

  it('with the exact name: takes a safety backup, restores over the target, validates', async () => {
    // Damage the live data, as an incident would.
    const live = withDatabase(src.conn, 'lms');
    const before = await snapshot('lms');
    await query(live, 'DELETE FROM grades; DELETE FROM submissions WHERE id % 2 = 0');
    const r = await runCli(['--json', 'restore', '--from', dir, '--confirm', 'lms'], env());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; safetyBackup: { id: string } };
    expect(out.ok).toBe(true);
    expect(out.safetyBackup.id).toMatch(/^pre-restore_/);
    expect(readdirSync(join(dir, 'db'))).toContain(`${out.safetyBackup.id}.manifest.json`);
    expect(await snapshot('lms')).toEqual(before);
    const [g] = await query<{ n: string }>(live, 'SELECT count(*) AS n FROM grades');
    expect(Number(g!.n)).toBeGreaterThan(0);
  });

  it('selective restore puts one table in a side database; the live table stays as it was', async () => {
    const live = withDatabase(src.conn, 'lms');
    await query(live, "DELETE FROM forum_posts WHERE body LIKE 'Post 1%'");
    const [after] = await query<{ n: string }>(live, 'SELECT count(*) AS n FROM forum_posts');
    const r = await runRestore(
      {
        storage: await openStorage(dir),
        selection: { name: backupId },
        keys: { identities: [keys.identity] },
        target: live,
        safetyBackup: true,
        force: false,
        dryRun: false,
        tables: ['public.forum_posts'],
        schemas: [],
        minTables: 8,
      },
      { logger: new MemoryLogger() },
    );
    expect(r.reasons).toEqual([]);
    expect(r.plan.mode).toBe('selective');
    const side = r.plan.sideDatabase!;
    expect(side).toMatch(/^lms_restored_/);
    const [restored] = await query<{ n: string }>(
      withDatabase(src.conn, side),
      'SELECT count(*) AS n FROM forum_posts',
    );
    expect(Number(restored!.n)).toBe(1000);
    const [still] = await query<{ n: string }>(live, 'SELECT count(*) AS n FROM forum_posts');
    expect(still!.n).toBe(after!.n);
    expect(Number(still!.n)).toBeLessThan(1000);
    expect(r.nextSteps.join('\n')).toMatch(/live tables were not touched/);
  });
});
