/**
 * As a new user would: `lms-backup forget` a user (the bundled CLI, real PostgreSQL, real age keys),
 * then `lms-backup restore` a backup taken before it: the user is not there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/crypto/age.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { removeRunDirs, runDistStep } from '../action/helpers.js';
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
  removeRunDirs();
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
    expect(bad.code, bad.stderr).toBe(2);
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

describe('the forget action step', () => {
  it('records the erasure, applies it to the live database with apply: true, and sets its outputs', async () => {
    await query(
      src.conn,
      "INSERT INTO users (id, email, full_name, role) VALUES (900002, 'also.me@example.org', 'Also Me', 'student')",
    );
    const url = `postgresql://${src.conn.user}@${src.conn.host}:${src.conn.port}/${src.conn.database}`;
    const run = await runDistStep(process.execPath, 'forget', {
      inputs: {
        'database-url': url,
        destinations: dir.path,
        tables: 'public.users',
        keys: 'email=also.me@example.org',
        reference: 'GDPR-8',
        recipients: keys.recipient,
        apply: 'true',
      },
      env: { PGPASSWORD: src.conn.password ?? '' },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs['erasure-id']).toMatch(/^erasure_\d{8}_\d{6}_[0-9a-f]{8}$/);
    expect(run.outputs.keys).toBe('1');
    expect(run.outputs['rows-removed']).toBe('1');
    expect(run.summary).toContain('Applied in the live database: 1 row(s) removed');
    expect(await query(src.conn, 'SELECT id FROM users WHERE id = 900002')).toEqual([]);
    // The key's value (personal data) is in no log, summary or output.
    expect(run.stdout + run.stderr + run.summary).not.toContain('also.me@example.org');

    const refused = await runDistStep(process.execPath, 'forget', {
      inputs: { destinations: dir.path, tables: 'public.users', keys: 'id=1', recipients: keys.recipient },
    });
    expect(refused.code).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/reference is required/);
  });
});
