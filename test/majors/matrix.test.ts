import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport, Manifest } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { type DrillConfig, runDrill } from '../../src/commands/drill.js';
import { seedLms } from '../../src/commands/lms-schema.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { startDockerPostgres } from '../../src/engines/docker.js';
import { dockerRunId, RUN_ID_LABEL } from '../../src/engines/labels.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { MemoryLogger } from '../../src/log.js';
import { connect } from '../../src/postgres/client.js';
import { type PgConnection, withDatabase } from '../../src/postgres/connection.js';
import { spawnPgTool } from '../../src/postgres/exec.js';
import { findAllTools } from '../../src/postgres/tools.js';
import { openStorage } from '../../src/storage/index.js';
import { dockerTestMode, dumpFifoDirs } from '../helpers/docker.js';
import { runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

/**
 * The version matrix (issue "Majors"): sources 15 (local), 17 and 18 (containers from the
 * local images) backed up from this host, whose pg_dump is 15, so 17 and 18 go through the
 * image's pg_dump; their drills; cross-version drills; a drill with Docker unreachable; a
 * drill with no image and no registry.
 */

const keys = generateIdentity();
const dirs: { remove(): void }[] = [];
afterAll(() => {
  for (const d of dirs) d.remove();
});

const hostPgDumpMajor = Math.max(0, ...(await findAllTools('pg_dump')).map((t) => t.major));

async function backupOf(
  conn: PgConnection,
  logger = new MemoryLogger(),
  options: { env?: NodeJS.ProcessEnv } = {},
) {
  const d = tempDir('lms-majors-');
  dirs.push(d);
  const r = await runBackup(
    {
      connection: conn,
      destinations: [await openStorage(d.path)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger, ...(options.env ? { env: options.env } : {}) },
  );
  return { dir: d.path, manifest: r.manifest, logger };
}

async function drillOf(dir: string, overrides: Partial<DrillConfig> = {}): Promise<DrillReport> {
  const { report } = await runDrill(
    {
      storage: await openStorage(dir),
      selection: {},
      keys: { identities: [keys.identity] },
      engine: 'docker',
      minTables: 8,
      checks: [],
      rtoSeconds: 4 * 3600,
      rpoSeconds: 24 * 3600,
      ...overrides,
    },
    { logger: new MemoryLogger() },
  );
  return report;
}

async function dockerSource(major: number): Promise<{ server: ThrowawayPostgres; conn: PgConnection }> {
  const server = await startDockerPostgres({ image: `lms-backup/postgres:${major}`, database: 'lms' });
  const conn = withDatabase(server.connection, 'lms');
  const client = await connect(conn);
  try {
    await seedLms(client, 1);
  } finally {
    await client.end();
  }
  return { server, conn };
}

/** Docker CLI processes that run a pg tool container, seen while `during` runs. */
async function watchToolCommandLines<T>(during: () => Promise<T>): Promise<{ result: T; seen: string[] }> {
  const seen = new Set<string>();
  // Only this process's own children: the docker CLI it spawns. Another test file running at the
  // same time starts tool containers of its own (a `pg_restore --list` needs no password).
  const isOurs = (pid: string) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
  };
  const look = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (!isOurs(pid)) continue;
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        if (cmd.includes('lms-backup-tool-')) seen.add(cmd);
      } catch {
        // gone already
      }
    }
  };
  const timer = setInterval(look, 20);
  try {
    const result = await during();
    return { result, seen: [...seen] };
  } finally {
    clearInterval(timer);
  }
}

const docker = await Promise.all([
  dockerTestMode('lms-backup/postgres:15'),
  dockerTestMode('lms-backup/postgres:17'),
  dockerTestMode('lms-backup/postgres:18'),
]).then((modes) => (modes.includes('skip') ? 'skip' : 'run'));

describe.skipIf(docker === 'skip')('version matrix (host pg_dump 15; 17 and 18 through their images)', () => {
  let src15: SourceDb;
  let src17: { server: ThrowawayPostgres; conn: PgConnection };
  let src18: { server: ThrowawayPostgres; conn: PgConnection };
  let b15: Awaited<ReturnType<typeof backupOf>>;
  let b17: Awaited<ReturnType<typeof backupOf>>;

  beforeAll(async () => {
    [src15, src17, src18] = await Promise.all([startSourceDb(1), dockerSource(17), dockerSource(18)]);
  });
  afterAll(async () => {
    await Promise.allSettled([src15?.stop(), src17?.server.stop(), src18?.server.stop()]);
  });

  it('runs where the host pg_dump is older than 17', () => {
    expect(hostPgDumpMajor).toBeLessThan(17);
  });

  it('backs up a 15 server with the local pg_dump and drills it in postgres:15', async () => {
    b15 = await backupOf(src15.conn);
    expect(b15.manifest.tool.pgDump).toEqual({ version: b15.manifest.tool.pgDumpVersion, where: 'local' });
    const report = await drillOf(b15.dir, { engine: 'auto' });
    expect(report.reasons).toEqual([]);
    expect(report.engine.kind).toBe('docker');
    expect(report.engine.requested).toBe('auto');
    expect(report.engine.serverVersion).toMatch(/^15\./);
  });

  it('backs up a 17 server through the image pg_dump 17 (zstd), no password in any argv, and drills it', async () => {
    const password = src17.conn.password!;
    const { result, seen } = await watchToolCommandLines(() => backupOf(src17.conn));
    b17 = result;
    const m: Manifest = b17.manifest;
    expect(m.source.serverVersion).toMatch(/^17\./);
    expect(m.tool.pgDumpVersion).toMatch(/^17\./);
    expect(m.tool.pgDump).toEqual({
      version: m.tool.pgDumpVersion,
      where: 'container',
      image: 'lms-backup/postgres:17',
    });
    // auto: the archive -Z0 from the image's pg_dump, zstd:1 outside it (the host's zstd).
    expect(m.dump.compression).toBe('none');
    expect(m.dump.outerCompression).toBe('zstd:1');
    // Every docker CLI line of the tool container (run, and the rm of its teardown) is free of
    // the password; the run line passes it by name only.
    const runs = seen.filter((cmd) => / run /.test(cmd));
    expect(runs.length, 'the docker CLI running pg_dump was seen').toBeGreaterThan(0);
    for (const cmd of runs) expect(cmd).toContain('-e PGPASSWORD');
    // The engine copies none of the dump into a container log on its disk.
    for (const cmd of runs) expect(cmd).toContain('--log-driver none');
    for (const cmd of seen) expect(cmd).not.toContain(password);
    const report = await drillOf(b17.dir, { engine: 'auto' });
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.engine.serverVersion).toMatch(/^17\./);
    // pg_restore 15 cannot read a pg_dump 17 archive: the image's ran.
    expect(report.tools?.pgRestore).toMatchObject({
      where: 'container',
      version: expect.stringMatching(/^17\./),
    });
  });

  it("a container's pg_dump writes into a FIFO of this host, not its stdout: in 1 MiB writes through the image's sh and stdbuf, else as its --file; with LMS_DUMP_FIFO=none through its stdout; the same data each way, no FIFO left", async () => {
    const before = dumpFifoDirs();
    const dumpRun = (seen: string[]) =>
      seen.find((cmd) => / run /.test(cmd) && cmd.includes('--format=custom'));
    // Our image has sh and coreutils' stdbuf: pg_dump's stdout is redirected into the FIFO.
    const buffered = await watchToolCommandLines(() => backupOf(src17.conn));
    const run = dumpRun(buffered.seen);
    const fifo = /lms-backup-tool (\/\S+)\/archive stdbuf -o1M pg_dump --format=custom /.exec(run ?? '');
    expect(fifo, run).not.toBeNull();
    expect(run).toContain('--entrypoint sh ');
    expect(run).not.toContain('--file=');
    // The FIFO's directory is mounted at the same path; it is gone once the backup is made.
    expect(run).toContain(` -v ${fifo![1]}:${fifo![1]} `);
    // An image with neither: pg_dump opens the FIFO as its --file.
    const bare = 'lms-backup-test/postgres-no-sh:17';
    execFileSync('docker', ['build', '-q', '-t', bare, '-'], {
      input:
        'FROM lms-backup/postgres:17\nRUN ["/usr/bin/rm", "-f", "/usr/bin/sh", "/usr/bin/dash", "/usr/bin/stdbuf"]\n',
    });
    try {
      const plain = await watchToolCommandLines(() =>
        backupOf(src17.conn, new MemoryLogger(), { env: { ...process.env, LMS_PG_TOOL_IMAGE: bare } }),
      );
      const plainRun = dumpRun(plain.seen);
      expect(plainRun).toMatch(/ --entrypoint pg_dump .* --no-sync --file=\/\S+\/archive/);
      const viaStdout = await watchToolCommandLines(() =>
        backupOf(src17.conn, new MemoryLogger(), { env: { ...process.env, LMS_DUMP_FIFO: 'none' } }),
      );
      const stdoutRun = dumpRun(viaStdout.seen);
      expect(stdoutRun).toContain('--entrypoint pg_dump ');
      expect(stdoutRun).not.toMatch(/--file=|lms-dump-/);
      expect(dumpFifoDirs()).toEqual(before);
      const rows = (m: Manifest) => m.inventory.tables.map((t) => `${t.schema}.${t.name}=${t.rows}`);
      for (const other of [plain, viaStdout]) {
        expect(rows(other.result.manifest)).toEqual(rows(buffered.result.manifest));
        // Within the few bytes of a snapshot name and a timestamp: the same archive each way.
        expect(Math.abs(other.result.manifest.dump.bytes - buffered.result.manifest.dump.bytes)).toBeLessThan(
          200,
        );
      }
      expect(buffered.result.manifest.dump.bytes).toBeGreaterThan(100_000);
      expect((await drillOf(buffered.result.dir)).verdict).toBe('pass');
      expect((await drillOf(plain.result.dir)).verdict).toBe('pass');
    } finally {
      execFileSync('docker', ['rmi', '-f', bare], { stdio: 'ignore' });
    }
  });

  it('backs up an 18 server through the image pg_dump 18 and drills it', async () => {
    const b18 = await backupOf(src18.conn);
    expect(b18.manifest.tool.pgDump).toMatchObject({
      where: 'container',
      version: expect.stringMatching(/^18\./),
    });
    expect(b18.manifest.dump.compression).toBe('none');
    expect(b18.manifest.dump.outerCompression).toBe('zstd:1');
    const report = await drillOf(b18.dir);
    expect(report.reasons).toEqual([]);
    expect(report.engine.serverVersion).toMatch(/^18\./);
    expect(report.tables.length).toBeGreaterThanOrEqual(8);
    expect(report.tables.every((t) => t.ok)).toBe(true);
  });

  it('verifies the 17 backup (pg_restore --list from the image) and restores it into the 18 server', async () => {
    const v = await runVerify(
      { storage: await openStorage(b17.dir), selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    const r = await runCli(
      [
        'restore',
        '--from',
        b17.dir,
        '--target-url',
        `postgresql://postgres@127.0.0.1:${src18.conn.port}/restored17`,
        '--json',
      ],
      { PGPASSWORD: src18.conn.password!, LMS_BACKUP_IDENTITY: keys.identity },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain(src18.conn.password!);
    const client = await connect(withDatabase(src18.conn, 'restored17'));
    try {
      const users = await client.query<{ n: string }>('SELECT count(*) AS n FROM users');
      const expected = b17.manifest.inventory.tables.find((t) => t.name === 'users')!.rows;
      expect(Number(users.rows[0]!.n)).toBe(expected);
    } finally {
      await client.end();
    }
  });

  it.each([17, 18])('drills the 15 backup into PostgreSQL %i', async (major) => {
    const report = await drillOf(b15.dir, { postgresMajor: major });
    expect(report.reasons).toEqual([]);
    expect(report.engine.serverVersion).toMatch(new RegExp(`^${major}\\.`));
  });

  it('drills the 17 backup into PostgreSQL 18', async () => {
    const report = await drillOf(b17.dir, { postgresMajor: 18 });
    expect(report.reasons).toEqual([]);
    expect(report.engine.serverVersion).toMatch(/^18\./);
  });

  it('with Docker unreachable, auto drills the 15 backup on local binaries and says why', async () => {
    const r = await runCli(['drill', '--from', b15.dir, '--engine', 'auto', '--json'], {
      DOCKER_HOST: 'unix:///nonexistent/lms-majors-docker.sock',
      LMS_BACKUP_IDENTITY: keys.identity,
    });
    expect(r.code, r.stderr).toBe(0);
    const report = latestReport(b15.dir);
    expect(report.verdict).toBe('pass');
    expect(report.engine.kind).toBe('local');
    expect(report.engine.fallbacks?.[0]).toMatch(/^Docker: no Docker engine answers/);
    expect(r.stderr).toMatch(/falling back to local PostgreSQL binaries/);
    const md = readFileSync(join(b15.dir, 'drill_logs', `${report.id}.md`), 'utf8');
    expect(md).toMatch(/local engine \(chosen by auto\)/);
    expect(md).toMatch(/passed over: Docker: no Docker engine answers/);
  });

  it('with Docker unreachable, a 17 backup cannot get pg_dump 17: one error listing what was tried', async () => {
    const r = await runCli(['backup', '--to', tempDirPath(), '--no-encryption', '--json'], {
      DOCKER_HOST: 'unix:///nonexistent/lms-majors-docker.sock',
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${src17.conn.port}/lms`,
      PGPASSWORD: src17.conn.password!,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no pg_dump of major 17 or newer for a PostgreSQL 17\.\d+ server; tried:/);
    expect(r.stderr).toMatch(/local binaries: pg_dump 15\.\d+/);
    expect(r.stderr).toMatch(/container: no Docker engine answers/);
    expect(r.stderr).toMatch(/LMS_PG_TOOL_IMAGE/);
    expect(r.stderr).not.toContain(src17.conn.password!);
  });

  it('with the reaper image unavailable, auto recognises the Ryuk failure and falls back to local', async () => {
    const r = await runCli(['drill', '--from', b15.dir, '--engine', 'auto', '--json'], {
      TESTCONTAINERS_RYUK_DISABLED: 'false',
      RYUK_CONTAINER_IMAGE: 'lms-majors-test/no-such-ryuk:0',
      LMS_BACKUP_IDENTITY: keys.identity,
    });
    expect(r.code, r.stderr).toBe(0);
    const report = latestReport(b15.dir);
    expect(report.engine.kind).toBe('local');
    expect(report.engine.fallbacks?.[0]).toMatch(
      /reaper \(Ryuk, image lms-majors-test\/no-such-ryuk:0\) could not start/,
    );
    expect(report.engine.fallbacks?.[0]).toMatch(/TESTCONTAINERS_RYUK_DISABLED=true/);
  });

  it('with no image and no registry, the drill could not run: clearly (exit 1), with a record', async () => {
    const r = await runCli(
      ['drill', '--from', b15.dir, '--engine', 'docker', '--image', 'lms-majors-test/absent:15', '--json'],
      { LMS_BACKUP_IDENTITY: keys.identity },
    );
    expect(r.code, r.stderr).toBe(1);
    const report = latestReport(b15.dir);
    expect(report.verdict).toBe('could-not-run');
    expect(report.engine.kind).toBe('none');
    expect(report.reasons.join('\n')).toMatch(
      /no throwaway PostgreSQL 15 started, so nothing was restored: docker image "lms-majors-test\/absent:15" is not available locally and could not be pulled/,
    );
    const md = readFileSync(join(b15.dir, 'drill_logs', `${report.id}.md`), 'utf8');
    expect(md).toMatch(/Throwaway server: \*\*none started\*\*/);
    expect(md).toMatch(/not run: no throwaway server started/);
    expect(md).not.toMatch(/0 error\(s\), shown below/);
    expect(md).not.toMatch(/✅ \| 0\/0/);
    const runs = readdirSync(join(b15.dir, 'runs'), { recursive: true }).map(String);
    const drillRuns = runs.filter((f) => f.includes('drill') && f.endsWith('.json'));
    const records = drillRuns.map((f) => JSON.parse(readFileSync(join(b15.dir, 'runs', f), 'utf8')));
    expect(records.some((rec) => rec.status === 'failure')).toBe(true);
  });
});

describe.skipIf(docker === 'skip')('a pg tool container', () => {
  it('is removed when its docker CLI is killed', async () => {
    const tool = { path: 'sleep', version: '15', major: 15, image: 'lms-backup/postgres:15' };
    const child = spawnPgTool(tool, ['60'], { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
    const filter = [
      '--filter',
      `label=${RUN_ID_LABEL}=${dockerRunId()}`,
      '--filter',
      'name=lms-backup-tool-',
    ];
    const listed = () =>
      execFileSync('docker', ['ps', '-aq', ...filter])
        .toString()
        .trim();
    for (let i = 0; i < 100 && listed() === ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(listed(), 'the container started').not.toBe('');
    const closed = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGKILL');
    await closed;
    for (let i = 0; i < 100 && listed() !== ''; i++) await new Promise((r) => setTimeout(r, 100));
    expect(listed()).toBe('');
  });
});

function tempDirPath(): string {
  const d = tempDir('lms-majors-');
  dirs.push(d);
  return d.path;
}

function latestReport(dir: string): DrillReport {
  const files = readdirSync(join(dir, 'drill_logs'))
    .filter((f) => f.endsWith('.json'))
    .sort();
  return JSON.parse(readFileSync(join(dir, 'drill_logs', files[files.length - 1]!), 'utf8')) as DrillReport;
}
