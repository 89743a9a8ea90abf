import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/catalog/types.js';
import { RlsFilteredError, runBackup } from '../../src/commands/backup.js';
import { type DrillConfig, runDrill } from '../../src/commands/drill.js';
import { MissingRolesError, type RestoreConfig, runRestore } from '../../src/commands/restore.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { startDockerPostgres } from '../../src/engines/docker.js';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { MemoryLogger } from '../../src/log.js';
import { connect } from '../../src/postgres/client.js';
import { type PgConnection, withDatabase } from '../../src/postgres/connection.js';
import { openStorage } from '../../src/storage/index.js';
import { dockerTestMode } from '../helpers/docker.js';
import { pgEnv, query, runCli, tempDir } from '../helpers/pg.js';

const TORTURE = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'torture.sql'), 'utf8');
const keys = generateIdentity();

let source: ThrowawayPostgres;
let src: PgConnection;
let dir: string;
let manifest: Manifest;
const cleanup: { remove(): void }[] = [];
const servers: ThrowawayPostgres[] = [];

/** Catalog facts a faithful restore must keep: owners, ACLs, policies, defaults, large objects. */
const FACTS_SQL = {
  owners: `SELECT n.nspname || '.' || c.relname AS o, pg_get_userbyid(c.relowner) AS owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('app', 'Weird Schema') ORDER BY 1`,
  // An ACL equal to the owner's default is the same grant set as none at all (pg_dump writes neither).
  acls: `SELECT n.nspname || '.' || c.relname AS o,
                coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))::text AS acl,
                (SELECT string_agg(a.attname || '=' || a.attacl::text, ';' ORDER BY a.attname)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS columns
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('app', 'Weird Schema') ORDER BY 1`,
  policies: `SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
             FROM pg_policies ORDER BY 1, 2, 3`,
  defaults: `SELECT table_schema, table_name, column_name, column_default, is_identity, is_generated,
                    generation_expression, domain_name
             FROM information_schema.columns WHERE table_schema IN ('app', 'Weird Schema') ORDER BY 1, 2, 3`,
  largeObjects: `SELECT m.oid::text, pg_get_userbyid(m.lomowner) AS owner, m.lomacl::text AS acl,
                        md5(lo_get(m.oid)) AS md5 FROM pg_largeobject_metadata m ORDER BY 1`,
  comments: `SELECT obj_description('app.customers'::regclass, 'pg_class') AS t,
                    obj_description('"Weird Schema"."Mixed Case"'::regclass, 'pg_class') AS w`,
  sequences: `SELECT last_value::text FROM app.ticket_seq`,
};

async function facts(conn: PgConnection): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [k, sql] of Object.entries(FACTS_SQL)) out[k] = await query(conn, sql);
  return out;
}

async function loadTorture(conn: PgConnection): Promise<void> {
  const c = await connect(conn);
  try {
    await c.query(TORTURE);
  } finally {
    await c.end();
  }
}

/** Backs `conn` up into a new directory (zstd/auto compression, age); returns both. */
async function backupTorture(conn: PgConnection): Promise<{ dir: string; manifest: Manifest }> {
  const d = tempDir();
  cleanup.push(d);
  const r = await runBackup(
    {
      connection: conn,
      destinations: [await openStorage(d.path)],
      prefix: 'shop',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger() },
  );
  return { dir: d.path, manifest: r.manifest };
}

beforeAll(async () => {
  source = await startLocalPostgres({ database: 'shop' });
  servers.push(source);
  src = withDatabase(source.connection, 'shop');
  await loadTorture(src);
  ({ dir, manifest } = await backupTorture(src));
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of cleanup) d.remove();
});

function restoreConfig(target: PgConnection, over: Partial<RestoreConfig> = {}): RestoreConfig {
  return {
    storage: undefined as never, // set by the caller
    selection: {},
    keys: { identities: [keys.identity] },
    target,
    safetyBackup: false,
    force: false,
    dryRun: false,
    tables: [],
    schemas: [],
    minTables: 1,
    ...over,
  };
}

const TORTURE_ROLES = ['Torture Auditor', 'torture_app', 'torture_owner', 'torture_reader'];

/** The manifest@2 facts every torture backup has: a globals object without passwords, the inventory. */
function expectTortureManifest(m: Manifest, backupDir: string): void {
  expect(m.format).toBe('lms-backup/manifest@2');
  expect(m.objects?.map((o) => o.role)).toEqual(['dump', 'globals']);
  const g = m.objects![1]!;
  expect(g.key).toBe(`db/${m.id}.globals.sql.age`);
  expect(readFileSync(join(backupDir, g.sidecarKey), 'utf8')).toContain(g.sha256);
  expect(m.globals?.roles).toEqual(expect.arrayContaining([...TORTURE_ROLES, 'postgres']));
  expect(m.inventory.roles?.find((r) => r.name === 'torture_reader')?.uses).toEqual(
    expect.arrayContaining(['grantee', 'policy']),
  );
  expect(m.inventory.largeObjects).toMatchObject({ count: 2 });
  expect(m.inventory.partitioned?.[0]).toMatchObject({ schema: 'app', name: 'events', rows: 500 });
  expect(m.inventory.materializedViews).toEqual([
    { schema: 'app', name: 'mood_counts', populated: true, rows: 3 },
    { schema: 'app', name: 'never_refreshed', populated: false, rows: null },
  ]);
  expect(JSON.stringify(m)).not.toContain('not-in-any-backup');
}

async function expectVerifyPasses(backupDir: string): Promise<void> {
  const r = await runVerify(
    { storage: await openStorage(backupDir), selection: {}, keys: { identities: [keys.identity] } },
    { logger: new MemoryLogger() },
  );
  expect(r.checks.filter((c) => !c.ok)).toEqual([]);
  expect(r.checks.map((c) => c.name)).toContain('globals object checksum, sidecar and decryption');
}

async function drillTorture(backupDir: string, over: Partial<DrillConfig> = {}) {
  return runDrill(
    {
      storage: await openStorage(backupDir),
      selection: {},
      keys: { identities: [keys.identity] },
      engine: 'local',
      minTables: 5,
      checks: [],
      rtoSeconds: 3600,
      rpoSeconds: 3600,
      ...over,
    },
    { logger: new MemoryLogger() },
  );
}

/** A passing drill: the roles created, owners/ACLs/policies and every inventoried kind found as expected. */
function expectFaithfulDrill(report: Awaited<ReturnType<typeof runDrill>>['report']): void {
  expect(report.reasons).toEqual([]);
  expect(report.verdict).toBe('pass');
  expect(report.restore.owners).toBe(true);
  expect(report.rolesCreated).toEqual(expect.arrayContaining(TORTURE_ROLES));
  expect(report.rolesCreated).not.toContain('postgres');
  const kinds = new Set(report.objects?.map((o) => o.kind));
  for (const k of [
    'owner',
    'privileges (ACL digest)',
    'policies',
    'row-level security',
    'materialized view',
    'sequence last value',
    'partitioned table rows',
    'large objects',
    'schema fingerprint',
  ]) {
    expect(kinds.has(k), k).toBe(true);
  }
  expect(report.objects?.filter((o) => !o.ok)).toEqual([]);
  expect(report.objects?.find((o) => o.kind === 'owner' && o.object === 'app.customers')).toMatchObject({
    expected: 'torture_owner',
    found: 'torture_owner',
  });
}

/** A full restore into `target` (which lacks the roles) is refused, exit 2, naming them; nothing changes. */
async function expectRefusedWithoutRoles(target: ThrowawayPostgres, backupDir: string): Promise<void> {
  const before = await query(target.connection, 'SELECT rolname FROM pg_roles ORDER BY 1');
  const r = await runCli(
    [
      'restore',
      '--from',
      backupDir,
      '--target-url',
      `postgresql://${target.connection.user}@${target.connection.host}:${target.connection.port}/shop`,
    ],
    { ...pgEnv(target.connection), LMS_BACKUP_IDENTITY: keys.identity },
  );
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/lacks 4 role\(s\)/);
  for (const role of TORTURE_ROLES) expect(r.stderr).toContain(role);
  expect(r.stderr).toMatch(/--create-roles/);
  expect(r.stderr).toMatch(/--no-owner/);
  expect(await query(target.connection, "SELECT 1 FROM pg_database WHERE datname = 'shop'")).toEqual([]);
  expect(await query(target.connection, 'SELECT rolname FROM pg_roles ORDER BY 1')).toEqual(before);

  const refused = await runRestore(
    { ...restoreConfig(withDatabase(target.connection, 'shop')), storage: await openStorage(backupDir) },
    { logger: new MemoryLogger() },
  ).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(MissingRolesError);
  expect((refused as MissingRolesError).missing).toEqual(TORTURE_ROLES);
  expect((refused as MissingRolesError).exitCode).toBe(2);
}

/** `--create-roles` into `target`: the roles NOLOGIN without passwords, every catalog fact as in `from`. */
async function expectCreateRolesRestore(
  target: ThrowawayPostgres,
  backupDir: string,
  from: PgConnection,
): Promise<void> {
  const into = withDatabase(target.connection, 'shop');
  const r = await runRestore(
    { ...restoreConfig(into, { createRoles: true }), storage: await openStorage(backupDir) },
    { logger: new MemoryLogger() },
  );
  expect(r.reasons).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.createdRoles).toEqual(TORTURE_ROLES);
  expect(r.objects?.length).toBeGreaterThan(20);
  expect(r.objects?.filter((o) => !o.ok)).toEqual([]);
  // Created NOLOGIN and without a password, with the backup's other attributes and memberships.
  const [app] = await query<{ rolcanlogin: boolean; rolconnlimit: number; pw: boolean }>(
    target.connection,
    "SELECT rolcanlogin, rolconnlimit, rolpassword IS NOT NULL AS pw FROM pg_authid WHERE rolname = 'torture_app'",
  );
  expect(app).toEqual({ rolcanlogin: false, rolconnlimit: 7, pw: false });
  expect(
    await query(
      target.connection,
      "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = 'torture_app'",
    ),
  ).toEqual([{ rolname: 'torture_reader' }]);
  const restored = await facts(into);
  expect(restored).toEqual(await facts(from));
  const owners = restored.owners as { o: string; owner: string }[];
  expect(owners.find((o) => o.o === 'app.customers')?.owner).toBe('torture_owner');
  expect(restored.largeObjects).toHaveLength(2);
}

/**
 * Deletes half of "Weird Schema"."Mixed Case" on the live `server` (database shop), then restores that
 * table (a domain, a sequence, a mixed-case schema) from the backup into a side database, in both
 * spellings: its rows, default, sequence value and domain come back; nothing else has rows.
 */
async function expectSelectiveRestore(server: ThrowawayPostgres, backupDir: string): Promise<void> {
  const live = withDatabase(server.connection, 'shop');
  await query(live, `DELETE FROM "Weird Schema"."Mixed Case" WHERE ticket % 2 = 0`);
  for (const spelling of ['"Weird Schema"."Mixed Case"', 'Weird Schema.Mixed Case']) {
    const r = await runRestore(
      { ...restoreConfig(live, { tables: [spelling] }), storage: await openStorage(backupDir) },
      {
        logger: new MemoryLogger(),
        now: () => new Date(Date.now() + (spelling.startsWith('"') ? 0 : 2000)),
      },
    );
    expect(r.reasons, spelling).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.plan.selectedTables).toEqual(['Weird Schema.Mixed Case']);
    const side = withDatabase(server.connection, r.plan.sideDatabase!);
    const rows = await query<{ n: string; s: string }>(
      side,
      `SELECT count(*) AS n, sum("Größe")::text AS s FROM "Weird Schema"."Mixed Case"`,
    );
    expect(rows).toEqual([{ n: '75', s: '712.50' }]); // 0.25 * (1 + … + 75)
    // Its default still draws from the sequence, at the backed-up value; the domain still checks.
    const [d] = await query<{ d: string }>(
      side,
      `SELECT column_default AS d FROM information_schema.columns WHERE table_name = 'Mixed Case' AND column_name = 'ticket'`,
    );
    expect(d!.d).toBe("nextval('app.ticket_seq'::regclass)");
    const [next] = await query<{ t: string }>(
      side,
      `INSERT INTO "Weird Schema"."Mixed Case" ("Größe") VALUES (1) RETURNING ticket::text AS t`,
    );
    expect(Number(next!.t)).toBe(1075);
    await expect(
      query(side, `INSERT INTO "Weird Schema"."Mixed Case" ("Größe") VALUES (-1)`),
    ).rejects.toThrow(/violates check constraint/);
    // Only the chosen table has rows; the live table is untouched.
    const [other] = await query<{ n: string }>(side, 'SELECT count(*) AS n FROM app."order"');
    expect(other!.n).toBe('0');
    const [still] = await query<{ n: string }>(live, 'SELECT count(*) AS n FROM "Weird Schema"."Mixed Case"');
    expect(Number(still!.n)).toBeLessThan(75);
  }
}

describe('fidelity: a torture schema (PostgreSQL 15, local engine)', () => {
  it('backs up the globals as a second object, listed in a manifest@2, never with a password', async () => {
    expectTortureManifest(manifest, dir);
    expect(manifest.tool.pgDump?.where).toBe('local');
  });

  it('verify passes, the globals included', async () => {
    await expectVerifyPasses(dir);
  });

  it('a drill creates the roles, restores with owners and privileges, and every object matches', async () => {
    const { report, markdown } = await drillTorture(dir);
    expectFaithfulDrill(report);
    expect(markdown).toMatch(/### Owners, privileges, policies and other objects/);
  });

  it('a full restore into a server without the roles is refused (exit 2), naming every missing role; nothing changes', async () => {
    const target = await startLocalPostgres();
    servers.push(target);
    await expectRefusedWithoutRoles(target, dir);
  });

  it('--create-roles restores owners, ACLs, policies, defaults, comments and large objects as they were', async () => {
    const target = await startLocalPostgres();
    servers.push(target);
    await expectCreateRolesRestore(target, dir, src);
  });

  it('a selective restore of a table needing a domain, a sequence and a mixed-case schema brings back its rows', async () => {
    await expectSelectiveRestore(source, dir);
  });

  it('a partitioned parent means its partitions; --schema takes every table of a schema', async () => {
    const live = withDatabase(source.connection, 'shop');
    const r = await runRestore(
      { ...restoreConfig(live, { tables: ['app.events'] }), storage: await openStorage(dir) },
      { logger: new MemoryLogger(), now: () => new Date(Date.now() + 4000) },
    );
    expect(r.reasons).toEqual([]);
    expect(r.plan.selectedTables).toEqual(['app.events_2024', 'app.events_2025']);
    const [n] = await query<{ n: string }>(
      withDatabase(source.connection, r.plan.sideDatabase!),
      'SELECT count(*) AS n FROM app.events',
    );
    expect(n!.n).toBe('500');
    const bySchema = await runRestore(
      { ...restoreConfig(live, { schemas: ['"Weird Schema"'] }), storage: await openStorage(dir) },
      { logger: new MemoryLogger(), now: () => new Date(Date.now() + 6000) },
    );
    expect(bySchema.reasons).toEqual([]);
    expect(bySchema.plan.selectedTables).toEqual(['Weird Schema.Mixed Case']);
  });

  it('the runbook works without the tool: age -d the globals into psql, then pg_restore with owners', async () => {
    const target = await startLocalPostgres();
    servers.push(target);
    const work = tempDir();
    cleanup.push(work);
    const idFile = join(work.path, 'key.txt');
    writeFileSync(idFile, `${keys.identity}\n`, { mode: 0o600 });
    const env = { ...process.env, ...pgEnv(target.connection) };
    const globals = execFileSync('age', ['-d', '-i', idFile, join(dir, manifest.objects![1]!.key)]);
    const applied = spawnSync('psql', ['-v', 'ON_ERROR_STOP=0', '-q', '--dbname', 'postgres'], {
      input: globals,
      env,
    });
    expect(applied.status, applied.stderr.toString()).toBe(0);
    // The only error: the bootstrap superuser exists already.
    expect(applied.stderr.toString().trim().split('\n')).toEqual(['ERROR:  role "postgres" already exists']);
    const dump = join(work.path, 'shop.dump');
    // age -d, then zstd -d (auto compresses outside the archive), then pg_restore.
    expect(manifest.dump.outerCompression).toBe('zstd:1');
    execFileSync('age', ['-d', '-i', idFile, '-o', `${dump}.zst`, join(dir, manifest.object.key)]);
    execFileSync('zstd', ['-q', '-d', `${dump}.zst`, '-o', dump]);
    const restored = spawnSync('pg_restore', ['--create', '--exit-on-error', '--dbname', 'postgres', dump], {
      env,
    });
    expect(restored.status, restored.stderr.toString()).toBe(0);
    const into = withDatabase(target.connection, 'shop');
    expect(await facts(into)).toEqual(await facts(src));
    const [app] = await query<{ rolcanlogin: boolean; cfg: string[] }>(
      target.connection,
      "SELECT rolcanlogin, (SELECT setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid) AS cfg FROM pg_roles r WHERE rolname = 'torture_app'",
    );
    expect(app).toEqual({ rolcanlogin: true, cfg: ['search_path=app, public', 'statement_timeout=5min'] });
  });

  it('a --table that is not in the backup fails before anything is created (exit 2)', async () => {
    const live = withDatabase(source.connection, 'shop');
    const dbs = await query(source.connection, 'SELECT datname FROM pg_database ORDER BY 1');
    const e = await runRestore(
      { ...restoreConfig(live, { tables: ['app.no_such_table'] }), storage: await openStorage(dir) },
      { logger: new MemoryLogger() },
    ).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/--table "app.no_such_table" is not a table in backup/);
    expect((e as { exitCode: number }).exitCode).toBe(2);
    expect(await query(source.connection, 'SELECT datname FROM pg_database ORDER BY 1')).toEqual(dbs);
  });

  it('the dry run names kinds right for names with spaces', async () => {
    const target = await startLocalPostgres();
    servers.push(target);
    const r = await runRestore(
      {
        ...restoreConfig(withDatabase(target.connection, 'shop'), { dryRun: true }),
        storage: await openStorage(dir),
      },
      { logger: new MemoryLogger() },
    );
    expect(r.ok).toBe(true);
    expect(r.plan.toc['TABLE DATA']).toBe(7);
    expect(Object.keys(r.plan.toc).some((k) => k.includes('Weird'))).toBe(false);
    expect(r.plan.missingRoles).toHaveLength(4);
  });

  it('--no-owner --no-privileges on the CLI still need the roles named in policies', async () => {
    const target = await startLocalPostgres();
    servers.push(target);
    const url = `postgresql://postgres@127.0.0.1:${target.connection.port}/shop`;
    const env = { ...pgEnv(target.connection), LMS_BACKUP_IDENTITY: keys.identity };
    const plan = await runCli(
      ['restore', '--from', dir, '--target-url', url, '--dry-run', '--no-owner', '--no-privileges'],
      env,
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      'keeps         no owners (--no-owner), no privileges (--no-privileges); target lacks role(s) Torture Auditor, torture_reader',
    );
    const refused = await runCli(
      ['restore', '--from', dir, '--target-url', url, '--no-owner', '--no-privileges'],
      env,
    );
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/lacks 2 role\(s\) .*: Torture Auditor, torture_reader/);
    expect(refused.stderr).toMatch(/roles named in row-level security policies are needed either way/);
    const done = await runCli(
      [
        'restore',
        '--from',
        dir,
        '--target-url',
        url,
        '--create-roles',
        '--no-owner',
        '--no-privileges',
        '--min-tables',
        '1',
      ],
      env,
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('roles created Torture Auditor, torture_reader (NOLOGIN, no passwords)');
    const [owner] = await query<{ o: string }>(
      withDatabase(target.connection, 'shop'),
      "SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'customers'",
    );
    expect(owner!.o).toBe('postgres');
    const [acl] = await query<{ a: string | null }>(
      withDatabase(target.connection, 'shop'),
      "SELECT relacl::text AS a FROM pg_class WHERE relname = 'customers'",
    );
    expect(acl!.a).toBeNull();
  });

  it('a selective restore that fails drops its side database and says so', async () => {
    await query(
      src,
      `CREATE TABLE app.z_ref (id int);
       CREATE FUNCTION app.ref_ok(x int) RETURNS boolean LANGUAGE sql
         AS 'SELECT x / (SELECT count(*)::int FROM app.z_ref) >= 0';
       CREATE TABLE app.a_checked (x int CHECK (app.ref_ok(x)));
       INSERT INTO app.z_ref VALUES (1);
       INSERT INTO app.a_checked VALUES (5);`,
    );
    const d = tempDir();
    cleanup.push(d);
    try {
      await runBackup(
        {
          connection: src,
          destinations: [await openStorage(d.path)],
          prefix: 'shop',
          compression: 'auto',
          encryption: { mode: 'age', recipients: [keys.recipient] },
        },
        { logger: new MemoryLogger() },
      );
    } finally {
      await query(src, 'DROP TABLE app.a_checked; DROP FUNCTION app.ref_ok; DROP TABLE app.z_ref');
    }
    // Only a_checked's rows come back: its CHECK then divides by an empty z_ref.
    const r = await runRestore(
      { ...restoreConfig(src, { tables: ['app.a_checked'] }), storage: await openStorage(d.path) },
      { logger: new MemoryLogger(), now: () => new Date(Date.now() + 8000) },
    );
    expect(r.ok).toBe(false);
    expect(r.restored).toBe(false);
    expect(r.reasons[0]).toMatch(
      new RegExp(
        `^the selective restore failed in step "data of the chosen tables"; the side database ${r.plan.sideDatabase} was dropped; first error: .*division by zero`,
      ),
    );
    expect(r.nextSteps.join('\n')).not.toMatch(/restored rows are in/);
    expect(
      await query(source.connection, `SELECT 1 FROM pg_database WHERE datname = '${r.plan.sideDatabase}'`),
    ).toEqual([]);
  });

  it('a backup by a role that row-level security filters fails first, saying what to grant', async () => {
    await query(
      src,
      `CREATE ROLE torture_backup LOGIN PASSWORD 'pw-for-test'; GRANT USAGE ON SCHEMA app, "Weird Schema" TO torture_backup;
       GRANT SELECT ON ALL TABLES IN SCHEMA app, "Weird Schema" TO torture_backup;
       GRANT SELECT ON ALL SEQUENCES IN SCHEMA app, "Weird Schema" TO torture_backup;`,
    );
    const d = tempDir();
    cleanup.push(d);
    const e = await runBackup(
      {
        connection: { ...src, user: 'torture_backup', password: 'pw-for-test' },
        destinations: [await openStorage(d.path)],
        prefix: 'shop',
        compression: 'auto',
        encryption: { mode: 'age', recipients: [keys.recipient] },
      },
      { logger: new MemoryLogger() },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RlsFilteredError);
    expect((e as RlsFilteredError).message).toMatch(
      /row-level security filters what user "torture_backup" sees in 1 table\(s\): app\.secrets/,
    );
    expect((e as RlsFilteredError).hint).toMatch(/BYPASSRLS/);
  });
});

// The same backup (PostgreSQL 15) drilled into newer majors on the docker engine: roles, owners,
// grants, policies and every object must survive the major upgrade too. Skipped only when the
// image is absent and LMS_REQUIRE_DOCKER is not set.
for (const major of [17, 18]) {
  const image = `lms-backup/postgres:${major}`;
  const mode = await dockerTestMode(image);
  describe.skipIf(mode === 'skip')(
    `fidelity: the torture backup drilled into PostgreSQL ${major} (docker)`,
    () => {
      it('creates the roles, restores with owners and privileges, and every object matches', async () => {
        const { report } = await runDrill(
          {
            storage: await openStorage(dir),
            selection: {},
            keys: { identities: [keys.identity] },
            engine: 'docker',
            postgresMajor: major,
            image,
            minTables: 5,
            checks: [],
            rtoSeconds: 3600,
            rpoSeconds: 3600,
          },
          { logger: new MemoryLogger() },
        );
        expect(report.reasons).toEqual([]);
        expect(report.verdict).toBe('pass');
        expect(report.engine.kind).toBe('docker');
        expect(report.engine.serverVersion).toMatch(new RegExp(`^${major}\\.`));
        expect(report.rolesCreated).toEqual(
          expect.arrayContaining(['Torture Auditor', 'torture_app', 'torture_owner', 'torture_reader']),
        );
        expect(report.objects?.filter((o) => !o.ok)).toEqual([]);
        expect(report.objects?.some((o) => o.kind === 'policies')).toBe(true);
      });
    },
  );
}

// The same chain with the source on PostgreSQL 17 and 18 in containers: this host's pg_dump is 15,
// so the backup runs the image's pg_dump of the source's major; drill, refused restore, restore
// with --create-roles and a selective restore all run against that major. Skipped only when the
// image is absent and LMS_REQUIRE_DOCKER is not set.
const sourceModes = await Promise.all(
  [17, 18].map(async (major) => ({ major, mode: await dockerTestMode(`lms-backup/postgres:${major}`) })),
);
for (const { major, mode } of sourceModes) {
  describe.skipIf(mode === 'skip')(
    `fidelity: a torture schema with the source on PostgreSQL ${major} (docker)`,
    () => {
      const image = `lms-backup/postgres:${major}`;
      let live: ThrowawayPostgres;
      let from: PgConnection;
      let b: { dir: string; manifest: Manifest };
      // Started with the source, in parallel: two fresh servers of the same major for the full restores.
      let refusedTarget: ThrowawayPostgres;
      let rolesTarget: ThrowawayPostgres;
      const mine: ThrowawayPostgres[] = [];
      // This major's containers go as soon as its tests are done.
      afterAll(async () => {
        await Promise.allSettled(mine.map((s) => s.stop()));
      });

      beforeAll(async () => {
        const started = await Promise.allSettled([
          startDockerPostgres({ image, database: 'shop' }),
          startDockerPostgres({ image }),
          startDockerPostgres({ image }),
        ]);
        for (const s of started) if (s.status === 'fulfilled') mine.push(s.value);
        for (const s of started) if (s.status === 'rejected') throw s.reason;
        [live, refusedTarget, rolesTarget] = started.map(
          (s) => (s as PromiseFulfilledResult<ThrowawayPostgres>).value,
        ) as [ThrowawayPostgres, ThrowawayPostgres, ThrowawayPostgres];
        from = withDatabase(live.connection, 'shop');
        await loadTorture(from);
        b = await backupTorture(from);
      });

      it(`backs up through the image's pg_dump ${major} (zstd), the globals in a manifest@2`, () => {
        const m = b.manifest;
        expect(m.source.serverVersion).toMatch(new RegExp(`^${major}\\.`));
        expect(m.tool.pgDump).toEqual({
          version: expect.stringMatching(new RegExp(`^${major}\\.`)),
          where: 'container',
          image,
        });
        // auto: the image's pg_dump writes -Z0, zstd compresses outside the archive.
        expect(m.dump.compression).toBe('none');
        expect(m.dump.outerCompression).toMatch(/^zstd/);
        expectTortureManifest(m, b.dir);
      });

      it('verify passes, the globals included', async () => {
        await expectVerifyPasses(b.dir);
      });

      it(`a docker drill into PostgreSQL ${major} creates the roles and every object matches`, async () => {
        const { report } = await drillTorture(b.dir, { engine: 'docker', postgresMajor: major, image });
        expect(report.engine.kind).toBe('docker');
        expect(report.engine.serverVersion).toMatch(new RegExp(`^${major}\\.`));
        expectFaithfulDrill(report);
      });

      it('a full restore into a server without the roles is refused (exit 2), naming every missing role', async () => {
        await expectRefusedWithoutRoles(refusedTarget, b.dir);
      });

      it('--create-roles restores owners, ACLs, policies, defaults, comments and large objects as they were', async () => {
        await expectCreateRolesRestore(rolesTarget, b.dir, from);
      });

      it('a selective restore of the table needing a domain, a sequence and a mixed-case schema', async () => {
        await expectSelectiveRestore(live, b.dir);
      });
    },
  );
}
