/**
 * Compose mode for real: a docker-compose (v1, the one installed here) project whose PostgreSQL
 * 17 service publishes no port, backed up, drilled and restored through compose. The database
 * asks for a password on TCP inside its container too (scram-sha-256), so the credentials read
 * from the service's environment are what lets the snapshot session and pg_dump in.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, Manifest } from '../../src/catalog/types.js';
import { runRestore } from '../../src/commands/restore.js';
import { Problems } from '../../src/config.js';
import { MemoryLogger } from '../../src/log.js';
import { NO_MASK, restoreSettings } from '../../src/options/settings.js';
import type { OptionName } from '../../src/options/spec.js';
import { OptionValues } from '../../src/options/values.js';
import { type ComposeProject, composeAvailable, startComposeProject } from '../helpers/compose.js';
import { runCli, tempDir } from '../helpers/pg.js';

const exec = promisify(execFile);

const YAML = `
version: "3.8"
services:
  db:
    image: lms-backup/postgres:17
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: "{password}"
      POSTGRES_DB: shop
      POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256"
  web:
    image: lms-backup/postgres:15
    entrypoint: ["sleep", "infinity"]
  restored:
    image: lms-backup/postgres:17
    profiles: ["restore"]
    environment:
      POSTGRES_USER: shop
      POSTGRES_PASSWORD: "{password}"
      POSTGRES_DB: shop
`;

/** No PG* variable of the host leaks into the run: credentials must come from the service. */
const NO_PG = { PGHOST: '', PGPORT: '', PGUSER: '', PGDATABASE: '', PGPASSWORD: '', DATABASE_URL: '' };

const available = await composeAvailable();
let project: ComposeProject;
const dest = tempDir('lms-compose-dest-');

/** Every command line on this machine seen while `during` runs that holds `secret`. */
async function argvHolding<T>(
  secret: string,
  during: () => Promise<T>,
): Promise<{ result: T; leaks: string[] }> {
  const leaks = new Set<string>();
  let lines = 0;
  const look = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        if (cmd.includes('--network container:')) lines++;
        if (cmd.includes(secret)) leaks.add(cmd);
      } catch {
        // gone already
      }
    }
  };
  const timer = setInterval(look, 20);
  try {
    const result = await during();
    expect(lines, 'the sampler saw the sidecar command lines').toBeGreaterThan(0);
    return { result, leaks: [...leaks] };
  } finally {
    clearInterval(timer);
  }
}

describe.skipIf(!available)('compose mode (docker-compose v1, PostgreSQL 17, no published port)', () => {
  let manifest: Manifest;

  beforeAll(async () => {
    project = await startComposeProject(YAML, ['db', 'web'], ['db']);
    await project.psql(
      'db',
      'shop',
      `CREATE TABLE orders (id bigserial PRIMARY KEY, note text);
       INSERT INTO orders (note) SELECT md5(i::text) FROM generate_series(1, 200000) i;
       CREATE TABLE customers (id int PRIMARY KEY, name text);
       INSERT INTO customers SELECT i, 'c' || i FROM generate_series(1, 321) i;`,
    );
  }, 240_000);
  afterAll(async () => {
    await project?.down();
    dest.remove();
  }, 120_000);

  it('the database service publishes no port to the host', async () => {
    const id = (await project.compose(['ps', '-q', 'db'])).stdout.trim();
    const { stdout } = await exec('docker', ['inspect', '--format', '{{json .NetworkSettings.Ports}}', id]);
    expect(JSON.parse(stdout)).toEqual({ '5432/tcp': null });
  });

  it('backs up through compose with the service credentials, consistent under writes, no secret in any argv', async () => {
    const started = await project.psql('db', 'shop', 'SELECT pg_postmaster_start_time()');
    // Rows keep arriving while the backup runs: the counts must be those of the dump's snapshot.
    const writer = project.psql(
      'db',
      'shop',
      `DO $$ BEGIN FOR i IN 1..150 LOOP INSERT INTO orders (note) VALUES ('late'); COMMIT; PERFORM pg_sleep(0.02); END LOOP; END $$;`,
    );
    const { result: r, leaks } = await argvHolding(project.password, () =>
      runCli(
        [
          '--json',
          'backup',
          '--compose-file',
          project.file,
          '--compose-project',
          project.name,
          '--to',
          dest.path,
          '--no-encryption',
        ],
        NO_PG,
      ),
    );
    await writer;
    expect(r.stderr).not.toContain(project.password);
    expect(r.code, r.stderr).toBe(0);
    expect(leaks).toEqual([]);
    manifest = JSON.parse(r.stdout).manifest as Manifest;
    expect(manifest.tool.pgDump).toEqual({
      version: manifest.tool.pgDumpVersion,
      where: 'compose',
      compose: { service: 'db', project: project.name },
    });
    expect(manifest.tool.pgDumpVersion).toMatch(/^17\./);
    expect(manifest.source).toMatchObject({ database: 'shop', user: 'shop' });
    expect(manifest.source.serverVersion).toMatch(/^17\./);
    expect(r.stderr).toContain(`compose mode: service db of compose project ${project.name}`);
    const orders = manifest.inventory.tables.find((t) => t.name === 'orders')!;
    const customers = manifest.inventory.tables.find((t) => t.name === 'customers')!;
    expect(customers.rows).toBe(321);
    expect(orders.rows).toBeGreaterThanOrEqual(200000);
    expect(orders.rows).toBeLessThanOrEqual(200150);
    // The bridged session ended with the run: no lms-backup session is left in the server.
    expect(
      await project.psql(
        'db',
        'shop',
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lms-backup'",
      ),
    ).toBe('0');
    // The database never restarted (a process ending by a signal inside its container would make it).
    expect(await project.psql('db', 'shop', 'SELECT pg_postmaster_start_time()')).toBe(started);
  }, 240_000);

  it('drills the compose backup green: the restored counts are the snapshot counts', async () => {
    expect(manifest).toBeDefined();
    const r = await runCli(
      ['--json', 'drill', '--from', dest.path, '--engine', 'docker', '--min-tables', '2'],
      NO_PG,
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    const orders = report.tables.find((t) => t.name === 'orders')!;
    expect(orders).toMatchObject({
      expected: manifest.inventory.tables.find((t) => t.name === 'orders')!.rows,
      ok: true,
    });
    expect(orders.found).toBe(orders.expected);
  }, 300_000);

  it('restores into a compose service of a profile, through compose, and the rows are there', async () => {
    expect(manifest).toBeDefined();
    await project.compose(['--profile', 'restore', 'up', '-d', 'restored']);
    await waitReady(project, 'restored');
    const logger = new MemoryLogger();
    const config = await restoreSettings(
      values('restore', {
        from: [dest.path],
        'compose-file': [project.file],
        'compose-project': project.name,
        'compose-profile': ['restore'],
        'compose-service': 'restored',
        'min-tables': '2',
      }),
      { env: { ...process.env, ...NO_PG }, logger, mask: NO_MASK, requireConnection: false },
    );
    const result = await runRestore(config, { logger });
    expect(result.reasons).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.plan.target).toBe(`compose://${project.name}/restored/shop (user shop)`);
    expect(await project.psql('restored', 'shop', 'SELECT count(*) FROM orders')).toBe(
      String(manifest.inventory.tables.find((t) => t.name === 'orders')!.rows),
    );
    expect(await project.psql('restored', 'shop', 'SELECT count(*) FROM customers')).toBe('321');
    expect(logger.text()).toMatch(/pg_restore|restor/);
  }, 300_000);

  it('a service that is not running fails the run (exit 1) with how to start it', async () => {
    await project.compose(['--profile', 'restore', 'stop', 'restored']);
    const r = await runCli(
      [
        'backup',
        '--compose-file',
        project.file,
        '--compose-project',
        project.name,
        '--compose-service',
        'restored',
        '--to',
        dest.path,
        '--no-encryption',
      ],
      NO_PG,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/service restored of compose project \S+ is not running/);
    expect(r.stderr).toContain('up -d restored');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('a service that is not in the project is a configuration error (exit 2) naming the input', async () => {
    const r = await runCli(
      [
        'backup',
        '--compose-file',
        project.file,
        '--compose-project',
        project.name,
        '--compose-service',
        'dbb',
        '--to',
        dest.path,
        '--no-encryption',
      ],
      NO_PG,
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      '--compose-service "dbb" is not a service of this compose project (services: db, restored, web)',
    );
  }, 120_000);
});

function values(command: 'restore', direct: Partial<Record<OptionName, string | string[]>>): OptionValues {
  return new OptionValues({
    command,
    direct: (n) => {
      const raw = direct[n];
      return raw === undefined ? undefined : { raw, name: `--${n}`, origin: 'flag' };
    },
    env: {},
    surface: 'cli',
    problems: new Problems(),
  });
}

async function waitReady(p: ComposeProject, service: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await p.compose(['exec', '-T', service, 'pg_isready', '-h', '127.0.0.1', '-q']).then(
      () => true,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${service} did not become ready`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
