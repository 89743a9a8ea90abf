/**
 * `lms-backup check` through the bundled CLI, as a new user runs it: green on a good setup (a
 * real PostgreSQL 15, a local destination and Azurite, real age keys, the local engine), and
 * each check red, with its fix, on a setup broken in that one way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBackup } from '../../src/commands/backup.js';
import { type CheckReport, type CheckResult, runCheck } from '../../src/commands/check.js';
import { isAbandonedProbe, isProbeKey, probeKey, sweepProbes } from '../../src/commands/check-probe.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { startDockerPostgres } from '../../src/engines/docker.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { MemoryLogger, nullLogger } from '../../src/log.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { bufferSource, LocalStorage, openStorage } from '../../src/storage/index.js';
import { removeRunDirs, runDistStep } from '../action/helpers.js';
import { dockerTestMode } from '../helpers/docker.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteEmulator, startAzurite } from '../helpers/emulators.js';
import { startHttpReceiver } from '../helpers/http-receiver.js';
import { expectEndedDespiteStuckCall, hungMountUnavailable, startHungMount } from '../helpers/hung-mount.js';
import { pgEnv, query, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';
import { type SilentServer, startSilentServer } from '../helpers/tcp-fault-proxy.js';

let db: SourceDb;
let azurite: AzuriteEmulator;
const tmp = tempDir('lms-check-');
const keyA = generateIdentity();
const keyB = generateIdentity();
const local = join(tmp.path, 'backups');
const idA = join(tmp.path, 'a.txt');
const idB = join(tmp.path, 'b.txt');

beforeAll(async () => {
  db = await startSourceDb(1);
  azurite = await startAzurite();
  mkdirSync(local, { recursive: true });
  writeFileSync(idA, `${keyA.identity}\n`, { mode: 0o600 });
  writeFileSync(idB, `${keyB.identity}\n`, { mode: 0o600 });
  // A backup to decrypt the newest header of.
  await runBackup(
    {
      connection: db.conn,
      destinations: [new LocalStorage(local)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keyA.recipient] },
    },
    { logger: nullLogger },
  );
});

afterAll(async () => {
  await db?.stop();
  await azurite?.stop();
  tmp.remove();
  removeRunDirs();
});

/** A project directory with an lms-backup.yml, as the quick start has it. */
function project(yml: string): string {
  const dir = join(tmp.path, `p${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'lms-backup.yml'), yml);
  return dir;
}

function goodConfig(over: { destinations?: string[]; recipients?: string[]; identity?: string } = {}) {
  const dests = over.destinations ?? [local, azurite.url];
  return [
    'backup:',
    `  database-url: postgresql://${db.conn.user}@${db.conn.host}:${db.conn.port}/lms`,
    `  destinations: [${dests.map((d) => JSON.stringify(d)).join(', ')}]`,
    `  recipients: [${(over.recipients ?? [keyA.recipient]).join(', ')}]`,
    'drill:',
    `  identity-file: ${over.identity ?? idA}`,
    '  engine: local',
    '',
  ].join('\n');
}

const baseEnv = (): NodeJS.ProcessEnv => ({
  ...azurite.env,
  PGPASSWORD: db.conn.password ?? '',
  GITHUB_ACTIONS: '',
});

async function check(cwd: string, env: NodeJS.ProcessEnv = {}, args: string[] = []) {
  const r = await runCli(['check', '--json', ...args], { ...baseEnv(), ...env }, cwd);
  let report: CheckReport | undefined;
  try {
    report = JSON.parse(r.stdout) as CheckReport;
  } catch {
    report = undefined;
  }
  const byName = (re: RegExp): CheckResult => {
    const c = report?.checks.find((x) => re.test(x.name));
    if (!c) throw new Error(`no check ${re} in ${r.stdout}\n${r.stderr}`);
    return c;
  };
  return { ...r, report, byName };
}

function expectNoSecrets(text: string) {
  expect(text).not.toContain(keyA.identity);
  expect(text).not.toContain(keyB.identity);
  if (db.conn.password) expect(text).not.toContain(db.conn.password);
  expect(text).not.toContain(azurite.env.AZURE_STORAGE_KEY!);
}

describe('lms-backup check', () => {
  it('a good setup: every check green from lms-backup.yml alone, exit 0, the probes gone, no secret shown', async () => {
    const dir = project(goodConfig());
    const r = await check(dir);
    expect(r.report, r.stderr).toBeDefined();
    const failed = r.report!.checks.filter((c) => !c.ok);
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.byName(/^database connection/).detail).toMatch(/PostgreSQL 15\.\d+/);
    expect(r.byName(/^read access/).skipped).toBeUndefined();
    expect(r.byName(/^roles and globals/).detail).toMatch(/\d+ role\(s\)/);
    expect(r.byName(/^pg_dump/).detail).toMatch(/pg_dump 15\.\d+ \(runs locally\)/);
    expect(r.byName(/^pg_restore/).detail).toMatch(/pg_restore 15/);
    expect(r.byName(new RegExp(`^destination ${local}`)).detail).toMatch(
      /write, read back, list, delete: ok/,
    );
    expect(r.byName(/^destination azure:/).detail).toMatch(/write, read back, list, delete: ok/);
    expect(r.byName(/^identity matches/).ok).toBe(true);
    const header = r.byName(/decrypts the newest/);
    expect(header.skipped).toBeUndefined();
    expect(header.detail).toMatch(/db\/lms_\d{8}_\d{6}\.dump\.age .*authenticated/);
    expect(r.byName(/^drill engine/).detail).toMatch(
      /engine local: PostgreSQL 15\.\d+ .*started .* and stopped/,
    );
    expect(r.byName(/^staging disk space/).ok).toBe(true);
    expect(r.byName(/^webhooks/).skipped).toBe(true);
    expect(r.byName(/^workflow permissions/).skipped).toBe(true);
    // No probe is left behind, and no backup was touched.
    const az = await openStorage(azurite.url, { env: azurite.env });
    const left: string[] = [];
    for await (const o of az.list('check/')) left.push(o.key);
    for await (const o of new LocalStorage(local).list('check/')) left.push(o.key);
    expect(left).toEqual([]);
    expect(existsSync(join(local, 'check'))).toBe(false);
    expectNoSecrets(r.stdout + r.stderr);
    // The human form: a ✓ line per check.
    const human = await runCli(['check'], baseEnv(), dir);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^✓ database connection: /m);
    expect(human.stdout).toMatch(/all checks passed/);
  });

  it('a wrong password: the connection is red with the fix, the database checks skipped, exit 1', async () => {
    const r = await check(project(goodConfig()), { PGPASSWORD: 'not-the-password' });
    expect(r.code).toBe(1);
    const c = r.byName(/^database connection/);
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/authentication failed for user/);
    expect(c.fix).toMatch(/PGPASSWORD/);
    expect(r.byName(/^read access/).skipped).toBe(true);
    expect(r.byName(/^pg_dump/).skipped).toBe(true);
    // The rest of the setup is still checked.
    expect(r.byName(new RegExp(`^destination ${local}`)).ok).toBe(true);
    expect(r.stdout + r.stderr).not.toContain('not-the-password');
    const human = await runCli(
      ['check'],
      { ...baseEnv(), PGPASSWORD: 'not-the-password' },
      project(goodConfig()),
    );
    expect(human.stdout).toMatch(/^✗ database connection: authentication failed/m);
    expect(human.stdout).toMatch(/^ {4}fix: .*PGPASSWORD/m);
  });

  it('a local destination on a mount that stopped answering: red within the bound naming it, the other still checked', async (ctx) => {
    const why = hungMountUnavailable();
    if (why) {
      if (process.env.LMS_REQUIRE_DOCKER === '1') throw new Error(`a hung mount is needed here: ${why}`);
      ctx.skip();
    }
    const mount = startHungMount(join(tmp.path, 'hung'));
    try {
      const started = Date.now();
      const r = await check(project(goodConfig({ destinations: [local, mount.path] })), {
        LMS_BACKUP_STORAGE_TIMEOUT: '2',
      });
      expect(Date.now() - started).toBeLessThan(60_000);
      expectEndedDespiteStuckCall(r, 1);
      const c = r.byName(new RegExp(`^destination ${mount.path}`));
      expect(c.ok).toBe(false);
      expect(c.detail).toMatch(/^write failed: .*stopped answering/);
      expect(r.byName(new RegExp(`^destination ${local}`)).ok).toBe(true);
    } finally {
      mount.stop();
    }
  });

  it('a read-only destination: its probe is red naming the write, exit 1', async (ctx) => {
    const ro = join(tmp.path, 'ro');
    mkdirSync(ro);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs root, as on the CI machine
    }
    try {
      const r = await check(project(goodConfig({ destinations: [ro] })));
      expect(r.code).toBe(1);
      const c = r.byName(new RegExp(`^destination ${ro}`));
      expect(c.ok).toBe(false);
      expect(c.detail).toMatch(/^write failed: .*read-only file system/i);
      expect(c.fix).toBeTruthy();
    } finally {
      execFileSync('umount', [ro], { stdio: 'ignore' });
    }
  });

  it('staging disk space short of the database: red naming the directory and both sizes', async (ctx) => {
    const small = join(tmp.path, 'small');
    mkdirSync(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small], { stdio: 'ignore' });
    } catch {
      ctx.skip(); // needs root, as on the CI machine
    }
    try {
      const r = await check(project(goodConfig({ destinations: [small] })));
      expect(r.code).toBe(1);
      expect(r.byName(new RegExp(`^destination ${small}`)).ok).toBe(true);
      const c = r.byName(/^staging disk space/);
      expect(c.ok).toBe(false);
      expect(c.detail).toMatch(new RegExp(`KiB free in ${small}, less than .* \\(the database's size\\)`));
      expect(c.fix).toMatch(/free space/);
    } finally {
      execFileSync('umount', [small], { stdio: 'ignore' });
    }
  });

  it('a storage endpoint that does not answer: red with a timeout within the bound, check does not hang', async () => {
    let silent: SilentServer | undefined;
    try {
      silent = await startSilentServer();
      const url = azurite.urlFor('', silent.port);
      const started = Date.now();
      const r = await check(project(goodConfig({ destinations: [local, url] })), {
        LMS_BACKUP_STORAGE_TIMEOUT: '3',
      });
      const took = Date.now() - started;
      expect(r.code).toBe(1);
      const c = r.byName(/^destination azure:/);
      expect(c.ok).toBe(false);
      expect(c.detail).toMatch(/^write failed: .*(time|answer|silent)/i);
      expect(c.durationMs).toBeLessThan(20_000);
      expect(took).toBeLessThan(90_000);
      expect(r.byName(new RegExp(`^destination ${local}`)).ok).toBe(true);
      expectNoSecrets(r.stdout + r.stderr);
    } finally {
      await silent?.stop();
    }
  });

  it('a recipient that does not match the identity: red with both public keys and the fix, exit 1', async () => {
    const r = await check(project(goodConfig({ identity: idB })));
    expect(r.code).toBe(1);
    const m = r.byName(/^identity matches/);
    expect(m.ok).toBe(false);
    expect(m.detail).toContain(keyB.recipient);
    expect(m.detail).toContain(keyA.recipient);
    expect(m.fix).toMatch(/age-keygen -y/);
    const h = r.byName(/decrypts the newest/);
    expect(h.ok).toBe(false);
    expect(h.detail).toMatch(/identit|recipient|stanza|decrypt/i);
    expectNoSecrets(r.stdout + r.stderr);
  });

  it('an RLS-filtered user: read access red naming the table and BYPASSRLS, exit 1', async () => {
    await query(
      withDatabase(db.conn, 'lms'),
      `CREATE TABLE IF NOT EXISTS secret_notes (id int, note text);
       ALTER TABLE secret_notes ENABLE ROW LEVEL SECURITY;
       DROP ROLE IF EXISTS lms_reader; CREATE ROLE lms_reader LOGIN PASSWORD 'reader-pw-123';
       GRANT pg_read_all_data TO lms_reader;`,
    );
    const yml = goodConfig().replace(`postgresql://${db.conn.user}@`, 'postgresql://lms_reader@');
    const r = await check(project(yml), { PGPASSWORD: 'reader-pw-123' });
    expect(r.code).toBe(1);
    const c = r.byName(/^read access/);
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/row-level security .*secret_notes/);
    expect(c.fix).toMatch(/BYPASSRLS/);
    expect(r.stdout + r.stderr).not.toContain('reader-pw-123');
    await query(withDatabase(db.conn, 'lms'), 'DROP TABLE secret_notes');
    // A user without SELECT on the tables: named, with the grant that fixes it.
    await query(
      withDatabase(db.conn, 'lms'),
      "DROP ROLE IF EXISTS lms_nobody; CREATE ROLE lms_nobody LOGIN PASSWORD 'nobody-pw-123';",
    );
    const nobody = await check(
      project(goodConfig().replace(`postgresql://${db.conn.user}@`, 'postgresql://lms_nobody@')),
      {
        PGPASSWORD: 'nobody-pw-123',
      },
    );
    const n = nobody.byName(/^read access/);
    expect(n.ok).toBe(false);
    expect(n.detail).toMatch(/user "lms_nobody" cannot read \d+ table\(s\): .*; pg_dump would fail/);
    expect(n.fix).toMatch(/GRANT pg_read_all_data TO "lms_nobody"/);
  });

  it('a drill engine that cannot start: red with every attempt and the fix, exit 1', async () => {
    // No PostgreSQL 16 server binaries exist here, and the local engine is asked for one.
    const r = await check(project(goodConfig()), {}, ['--postgres-major', '16']);
    expect(r.code).toBe(1);
    const c = r.byName(/^drill engine/);
    expect(c.ok).toBe(false);
    expect(c.detail).toMatch(/16/);
    expect(c.fix).toBeTruthy();
  });

  it('bad configuration exits 2 with the input named, before checking anything', async () => {
    const r = await runCli(['check', '--engine', 'kubernetes'], baseEnv(), project(goodConfig()));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--engine must be auto, docker or local/);
    const bad = await runCli(['check'], baseEnv(), project('backup:\n  colour: blue\n'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/backup\.colour is not an option of backup/);
  });
});

describe('check: pg_dump for a newer server', () => {
  let pg17: ThrowawayPostgres | undefined;
  let mode: 'run' | 'skip' = 'skip';
  beforeAll(async () => {
    mode = await dockerTestMode('lms-backup/postgres:17');
    if (mode === 'run') pg17 = await startDockerPostgres({ major: 17, image: 'lms-backup/postgres:17' });
  });
  afterAll(async () => {
    await pg17?.stop();
  });

  it('a 17 server with only pg_dump 15 on the host and no tool image allowed: pg_dump red with the fix', async (ctx) => {
    if (mode === 'skip' || !pg17) return ctx.skip();
    const c = pg17.connection;
    const dir = project(
      goodConfig({ destinations: [local] }).replace(
        /database-url: .*/,
        `database-url: postgresql://${c.user}@${c.host}:${c.port}/${c.database}`,
      ),
    );
    const r = await check(dir, { ...pgEnv(c), LMS_PG_TOOLS: 'local' });
    expect(r.code).toBe(1);
    expect(r.byName(/^database connection/).detail).toMatch(/PostgreSQL 17/);
    const dump = r.byName(/^pg_dump/);
    expect(dump.ok).toBe(false);
    expect(dump.detail).toMatch(/pg_dump 15\.\d+ .*cannot dump a PostgreSQL 17/);
    expect(dump.fix).toMatch(/postgresql-client-17/);
    expect(r.byName(/^pg_restore/).skipped).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(c.password ?? '\u0000');
  });

  it("the same server with tool images allowed: pg_dump 17 runs in a container from the major's image; the docker engine starts", async (ctx) => {
    if (mode === 'skip' || !pg17) return ctx.skip();
    const c = pg17.connection;
    const dir = project(
      goodConfig({ destinations: [local] })
        .replace(/database-url: .*/, `database-url: postgresql://${c.user}@${c.host}:${c.port}/${c.database}`)
        .replace('engine: local', 'engine: docker'),
    );
    const r = await check(dir, { ...pgEnv(c) }, ['--image', 'lms-backup/postgres:15']);
    const dump = r.byName(/^pg_dump/);
    expect(dump.ok, dump.detail).toBe(true);
    expect(dump.detail).toMatch(/pg_dump 17\.\d+ .*\(runs in a container from lms-backup\/postgres:17\)/);
    expect(r.byName(/^pg_restore/).detail).toMatch(/pg_restore 17\.\d+/);
    const engine = r.byName(/^drill engine/);
    expect(engine.ok, engine.detail).toBe(true);
    expect(engine.detail).toMatch(
      /engine docker: PostgreSQL 15\.\d+ .*lms-backup\/postgres:15.*started .* and stopped/,
    );
    expect(r.code, JSON.stringify(r.report?.checks.filter((x) => !x.ok))).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(c.password ?? '\u0000');
  });
});

describe('check probes', () => {
  it('are never backups, and prune sweeps one a killed check left (its writer gone)', async () => {
    const key = probeKey();
    expect(isProbeKey(key)).toBe(true);
    expect(key.startsWith('check/')).toBe(true);
    expect(isProbeKey('db/lms_20240101_000000.dump.age')).toBe(false);
    const dir = join(tmp.path, 'sweep');
    mkdirSync(dir);
    const s = new LocalStorage(dir);
    // A probe of this host's pid 2^22+1 (no such process), and one of a live process (ours).
    const dead = key.replace(/_pid\d+_/, '_pid4194305_');
    await s.put(dead, bufferSource('x'));
    await s.put(key, bufferSource('y'));
    expect(isAbandonedProbe(dead, new Date(), new Date(0))).toBe(true);
    expect(isAbandonedProbe(key, new Date(), new Date(0))).toBe(false);
    const r = await runCli(['prune', '--from', dir, '--json'], {});
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sweep).toEqual([
      expect.objectContaining({ kind: 'check probe', name: dead }),
    ]);
    expect(await s.head(dead)).toBeNull();
    expect(await s.head(key)).not.toBeNull();
    expect(await sweepProbes(s, new Date(), true)).toEqual([]);
  });
});

describe('the check sub-action', () => {
  const inputs = (identity: string) => ({
    'database-url': `postgresql://${db.conn.user}@${db.conn.host}:${db.conn.port}/lms`,
    destinations: `${local}\n${azurite.url}`,
    recipients: keyA.recipient,
    identity,
    engine: 'local',
  });

  it('green: outputs ok, a summary table of every check, the identity masked and never shown', async () => {
    const r = await runDistStep(process.execPath, 'check', {
      inputs: inputs(keyA.identity),
      env: { ...azurite.env, PGPASSWORD: db.conn.password ?? '' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.ok).toBe('true');
    expect(r.outputs['failed-checks']).toBe('');
    expect(r.summary).toMatch(/Setup checked: every check passed/);
    expect(r.summary).toMatch(/\| identity decrypts the newest backup's header \| ✅ \|/);
    // In a workflow the permissions check runs, and says what it could not know.
    expect(r.summary).toMatch(/workflow permissions \| ✅ \| .*not checkable/);
    expect(r.stdout).toContain(`::add-mask::${keyA.identity}`);
    expectNoSecrets(r.visibleStdout + r.stderr + r.summary);
  });

  it('red: a recipient that does not match the identity fails the step, naming the check and the fix', async () => {
    const r = await runDistStep(process.execPath, 'check', {
      inputs: inputs(keyB.identity),
      env: { ...azurite.env, PGPASSWORD: db.conn.password ?? '' },
    });
    expect(r.code).toBe(1);
    expect(r.outputs.ok).toBe('false');
    expect(r.outputs['failed-checks']).toContain('identity matches a recipient');
    expect(r.errors.join('\n')).toMatch(
      /check\(s\) failed:[\s\S]*identity matches a recipient[\s\S]*age-keygen -y/,
    );
    expect(r.summary).toMatch(/❌ Setup checked: \d+ check\(s\) failed/);
    expectNoSecrets(r.visibleStdout + r.stderr + r.summary);
  });
});

describe('check in process', () => {
  const names = {
    recipients: 'recipients',
    recipientsFile: 'recipients-file',
    passphrase: 'passphrase',
    noEncryption: 'encryption: false',
  };

  it('a check that does not finish is red with a timeout (here: a tool resolver that never answers), and check goes on', async () => {
    const logger = new MemoryLogger();
    const started = Date.now();
    const report = await runCheck(
      {
        connection: db.conn,
        destinations: [new LocalStorage(local)],
        encryption: { recipients: ['age1-not-a-key'], noEncryption: false, names },
        keys: { identities: [] },
        engine: 'local',
        notifiers: [],
      },
      {
        logger,
        resolveTool: () => new Promise(() => {}),
        bounds: { tools: 500, engine: 60_000 },
      },
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    const dump = report.checks.find((c) => c.name === 'pg_dump for the server')!;
    expect(dump.ok).toBe(false);
    expect(dump.detail).toBe('pg_dump for the server did not finish within 0.5 s');
    expect(report.checks.find((c) => c.name === 'pg_restore for its archives')!.skipped).toBe(true);
    // A recipient with a typo is a red line with its fix, not a refused configuration.
    const rec = report.checks.find((c) => c.name === 'encryption recipients')!;
    expect(rec.ok).toBe(false);
    expect(rec.detail).toMatch(/age1-not-a-key|Bech32|recipient/i);
    expect(rec.fix).toBeTruthy();
    // Everything after them still ran.
    expect(report.checks.find((c) => c.name === 'drill engine')!.ok).toBe(true);
    expect(report.ok).toBe(false);
    expect(report.failed).toBe(2);
  });

  it('webhooks: reached with HEAD (GET when HEAD is refused), nothing posted; a deleted one is red; the URLs never shown', async () => {
    const rx = await startHttpReceiver();
    try {
      rx.script('/hooks/T0KEN-secret-123', { status: 200 });
      rx.script('/ping/HB-secret-456', { status: 405 }, { status: 200 });
      rx.script('/gone/SL-secret-789', { status: 404 });
      const report = await runCheck(
        {
          connection: db.conn,
          destinations: [new LocalStorage(local)],
          encryption: { recipients: [keyA.recipient], noEncryption: false, names },
          keys: { identities: [] },
          engine: 'local',
          notifiers: [
            { kind: 'webhook', url: `${rx.url}/hooks/T0KEN-secret-123` },
            { kind: 'heartbeat', url: `${rx.url}/ping/HB-secret-456` },
            { kind: 'slack', url: `${rx.url}/gone/SL-secret-789` },
          ],
        },
        { logger: nullLogger },
      );
      const hooks = report.checks.filter((c) => c.name.startsWith('webhook '));
      expect(hooks.map((c) => c.ok)).toEqual([true, true, false]);
      expect(hooks[0]!.detail).toMatch(/answered HTTP 200 \(reachable; no message was posted\)/);
      expect(hooks[2]!.detail).toMatch(/HTTP 404: the webhook may have been deleted/);
      expect(rx.requests.map((q) => q.method)).toEqual(['HEAD', 'HEAD', 'GET', 'HEAD']);
      expect(rx.requests.every((q) => q.body === '')).toBe(true);
      const text = JSON.stringify(report);
      for (const secret of ['T0KEN-secret-123', 'HB-secret-456', 'SL-secret-789'])
        expect(text).not.toContain(secret);
    } finally {
      await rx.close();
    }
  });

  it('in a workflow: a cloud destination without credentials needs id-token: write; what cannot be known is said', async () => {
    const az = await openStorage(azurite.url, { env: azurite.env });
    const run = (env: NodeJS.ProcessEnv) =>
      runCheck(
        {
          connection: db.conn,
          destinations: [az],
          encryption: { recipients: [keyA.recipient], noEncryption: false, names },
          keys: { identities: [] },
          engine: 'local',
          notifiers: [],
        },
        { logger: nullLogger, env: { ...process.env, GITHUB_ACTIONS: 'true', ...env } },
      ).then((r) => r.checks.find((c) => c.name === 'workflow permissions')!);
    const without = await run({});
    expect(without.ok).toBe(false);
    expect(without.detail).toMatch(/cannot request an OIDC token/);
    expect(without.detail).toMatch(/not checkable: the GITHUB_TOKEN scopes/);
    expect(without.fix).toMatch(/id-token: write/);
    const withOidc = await run({ ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token' });
    expect(withOidc.ok).toBe(true);
    expect(withOidc.detail).toMatch(/id-token: write granted/);
    expect(withOidc.detail).toMatch(/artifact upload: this step gets no ACTIONS_RUNTIME_TOKEN/);
  });

  it('an Azure SAS token: its expiry is shown, the token never', async () => {
    const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
    const expiresOn = new Date(Date.now() + 10 * 86_400_000 + 3_600_000);
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn,
        permissions: AccountSASPermissions.parse('rwdlac'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('b').toString(),
      },
      cred,
    ).toString();
    const r = await runCli(
      ['check', '--json', '--destinations', azurite.url],
      { PGPASSWORD: db.conn.password ?? '', AZURE_STORAGE_SAS_TOKEN: sas, GITHUB_ACTIONS: '' },
      project(goodConfig()),
    );
    const report = JSON.parse(r.stdout) as CheckReport;
    const c = report.checks.find((x) => x.name.startsWith('destination azure:'))!;
    expect(c.ok, c.detail).toBe(true);
    expect(c.detail).toMatch(/the SAS token expires \d{4}-\d\d-\d\dT.* \(in 10 day\(s\)\)/);
    const sig = new URLSearchParams(sas).get('sig')!;
    expect(r.stdout + r.stderr).not.toContain(sig);
    expect(r.stdout + r.stderr).not.toContain(encodeURIComponent(sig));
  });
});
