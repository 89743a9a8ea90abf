/**
 * As a new user would: `lms-backup forget` a user (the bundled CLI, real PostgreSQL, real age keys),
 * then `lms-backup restore` a backup taken before it: the user is not there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/crypto/age.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { pgEnv, query, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
const dir = tempDir();
const keys = generateIdentity();
const env = () => ({
  ...pgEnv(src.conn),
  LMS_BACKUP_RECIPIENTS: keys.recipient,
  LMS_BACKUP_IDENTITY: keys.identity,
});

beforeAll(async () => {
  src = await startSourceDb(1);
  await query(
    src.conn,
    "INSERT INTO users (id, email, full_name, role) VALUES (900001, 'erase.me@example.org', 'Erase Me', 'student')",
  );
});
afterAll(async () => {
  await src?.stop();
  dir.remove();
});

describe('forget, then restore an older backup (CLI)', () => {
  it('the forgotten user is not in the restored database, and the output says what was replayed', async () => {
    const b = await runCli(['backup', '--to', dir.path], env());
    expect(b.code, b.stderr).toBe(0);

    const bad = await runCli(
      [
        'forget',
        '--to',
        dir.path,
        '--table',
        'public.users',
        '--key',
        'id=not-a-number',
        '--reference',
        'T-1',
      ],
      env(),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/does not parse as bigint/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);

    const f = await runCli(
      ['forget', '--to', dir.path, '--table', 'public.users', '--key', 'id=900001', '--reference', 'GDPR-7'],
      env(),
    );
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toMatch(
      /^erasure erasure_\d{8}_\d{6}_[0-9a-f]{8} recorded: 1 key\(s\) of public\.users/,
    );
    expect(f.stdout).toContain('live        not touched');
    // The live database still has the user: forget did not touch it.
    expect(await query(src.conn, 'SELECT id FROM users WHERE id = 900001')).toHaveLength(1);

    const r = await runCli(
      [
        'restore',
        '--from',
        dir.path,
        '--target-url',
        `postgresql://${src.conn.user}@${src.conn.host}:${src.conn.port}/fresh`,
      ],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /erasures +1 replayed, 1 row\(s\) removed \(\+0 by cascade\), 0 erased key\(s\) still present/,
    );
    const fresh = withDatabase(src.conn, 'fresh');
    expect(await query(fresh, "SELECT id FROM users WHERE email = 'erase.me@example.org'")).toEqual([]);
    expect(
      Number((await query<{ n: string }>(fresh, 'SELECT count(*) AS n FROM users'))[0]!.n),
    ).toBeGreaterThan(0);

    const forensic = await runCli(
      [
        'restore',
        '--from',
        dir.path,
        '--no-erasures',
        '--target-url',
        `postgresql://${src.conn.user}@${src.conn.host}:${src.conn.port}/forensic`,
      ],
      env(),
    );
    expect(forensic.code, forensic.stderr).toBe(0);
    expect(forensic.stdout).toContain('ERASURES NOT REPLAYED (--no-erasures)');
    expect(
      await query(withDatabase(src.conn, 'forensic'), 'SELECT id FROM users WHERE id = 900001'),
    ).toHaveLength(1);
  });
});
