import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DockerImageUnavailableError,
  dockerAvailable,
  RUN_ID_LABEL,
  removeLeftoverContainers,
  startDockerPostgres,
  THROWAWAY_LABEL,
} from '../../src/engines/docker.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { describeError, JobFailedError } from '../../src/errors.js';
import type { PgConnection } from '../../src/postgres/connection.js';
import { dockerTestMode, TEST_POSTGRES_IMAGE } from '../helpers/docker.js';

const mode = await dockerTestMode();
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const engineUrl = pathToFileURL(fileURLToPath(new URL('../../src/engines/docker.ts', import.meta.url))).href;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

/** Ids of containers (any state) with this label. */
function containersWith(label: string): string[] {
  const out = docker('ps', '-a', '-q', '--filter', `label=${label}`);
  return out ? out.split('\n') : [];
}

async function query<T extends pg.QueryResultRow>(conn: PgConnection, sql: string): Promise<T[]> {
  const client = new pg.Client({ ...conn });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function setting(conn: PgConnection, name: string): Promise<string> {
  const rows = await query<{ v: string }>(conn, `SELECT current_setting('${name}') AS v`);
  return rows[0]!.v;
}

/**
 * Runs a child process that starts a container through the engine, prints READY <name> and
 * then does `then`: 'wait' (until killed) or 'exit' (process.exit without stop()).
 */
function startChild(runId: string, then: 'wait' | 'exit') {
  const code = `
    const { startDockerPostgres } = await import(${JSON.stringify(engineUrl)});
    const pg = await startDockerPostgres({});
    console.log('READY ' + pg.description);
    ${then === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, LMS_BACKUP_RUN_ID: runId, TESTCONTAINERS_RYUK_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => {
      if (stdout.includes('READY')) resolve();
    });
    void exited.then(({ code }) =>
      reject(new Error(`child exited (${code}) before READY:\n${stdout}\n${stderr}`)),
    );
  });
  children.push(child);
  return { child, ready, exited, output: () => `${stdout}\n${stderr}` };
}

const children: ChildProcess[] = [];

describe.skipIf(mode === 'skip')('docker engine (real Docker)', () => {
  const runIds: string[] = [];
  const newRunId = () => {
    const id = `test-${randomBytes(6).toString('hex')}`;
    runIds.push(id);
    return id;
  };

  afterAll(async () => {
    // Whatever a failed assertion left behind.
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const id of runIds) await removeLeftoverContainers(id);
  });

  it('says Docker is available', async () => {
    expect(await dockerAvailable()).toBe(true);
  });

  it('starts PostgreSQL, serves queries, runs without durability, and stop() removes the container', async () => {
    const started = Date.now();
    const pgx = await startDockerPostgres({ major: 15 });
    const startMs = Date.now() - started;
    let stopped = false;
    try {
      expect(pgx.engine).toBe('docker');
      expect(pgx.major).toBe(15);
      expect(pgx.serverVersion).toMatch(/^15\.\d+$/);
      expect(pgx.description).toMatch(new RegExp(`^docker ${TEST_POSTGRES_IMAGE} \\([0-9a-f]{12}\\)$`));
      const conn = pgx.connection;
      expect(conn).toMatchObject({ host: '127.0.0.1', user: 'postgres', database: 'postgres' });
      expect(conn.password).toMatch(/^[\w-]{32}$/);

      await query(conn, 'CREATE TABLE t (id int PRIMARY KEY, name text)');
      await query(conn, "INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g");
      const rows = await query<{ n: string }>(conn, 'SELECT count(*) AS n FROM t');
      expect(rows[0]!.n).toBe('1000');

      expect(await setting(conn, 'fsync')).toBe('off');
      expect(await setting(conn, 'full_page_writes')).toBe('off');
      expect(await setting(conn, 'synchronous_commit')).toBe('off');

      const id = pgx.description.match(/\(([0-9a-f]{12})\)/)![1]!;
      const inspect = JSON.parse(docker('inspect', id))[0];
      // Labelled for sweeping, published on loopback only, no password in the health check.
      expect(inspect.Config.Labels[THROWAWAY_LABEL]).toBe('true');
      expect(inspect.Config.Labels[RUN_ID_LABEL]).toBeTruthy();
      expect(inspect.HostConfig.PortBindings['5432/tcp'][0].HostIp).toBe('127.0.0.1');
      expect(JSON.stringify(inspect.Config.Healthcheck)).not.toContain(conn.password);
      // No health check runs a process in the container: readiness was asked from here.
      expect(inspect.Config.Healthcheck.Test).toEqual(['NONE']);
      // A throwaway's initdb does not sync its files (the entrypoint passes this on to initdb).
      expect(inspect.Config.Env).toContain('POSTGRES_INITDB_ARGS=--no-sync');
      expect(inspect.State.Health).toBeUndefined();
      expect(containersWith(`${RUN_ID_LABEL}=${inspect.Config.Labels[RUN_ID_LABEL]}`)).toHaveLength(1);

      const since = String(Math.floor(Date.now() / 1000) - 1);
      await pgx.stop();
      stopped = true;
      expect(docker('ps', '-a', '-q', '--filter', `id=${id}`)).toBe('');
      // The server's files were deleted in the running container, then it was removed: its
      // unmount had none of them left to write to disk.
      const events = docker(
        'events',
        '--since',
        since,
        '--until',
        String(Math.ceil(Date.now() / 1000) + 1),
        '--filter',
        `container=${inspect.Id}`,
        '--format',
        '{{.Action}}',
      ).split('\n');
      const deleted = events.indexOf('exec_start: rm -rf -- /var/lib/postgresql/data');
      expect(deleted, events.join(', ')).toBeGreaterThanOrEqual(0);
      expect(events.indexOf('destroy')).toBeGreaterThan(deleted);
      await pgx.stop(); // idempotent
      console.log(`docker engine: container ready in ${startMs} ms`);
    } finally {
      if (!stopped) await pgx.stop();
    }
  });

  it('keeps durability on with durable: true and creates the extra database', async () => {
    let pgx: ThrowawayPostgres | undefined;
    try {
      pgx = await startDockerPostgres({ durable: true, database: 'app' });
      expect(await setting(pgx.connection, 'fsync')).toBe('on');
      expect(await setting(pgx.connection, 'full_page_writes')).toBe('on');
      expect(await setting(pgx.connection, 'synchronous_commit')).toBe('on');
      const dbs = await query<{ datname: string }>(pgx.connection, 'SELECT datname FROM pg_database');
      expect(dbs.map((d) => d.datname)).toContain('app');
      const rows = await query<{ db: string }>(
        { ...pgx.connection, database: 'app' },
        'SELECT current_database() AS db',
      );
      expect(rows[0]!.db).toBe('app');
      const id = pgx.description.match(/\(([0-9a-f]{12})\)/)![1]!;
      const env: string[] = JSON.parse(docker('inspect', id))[0].Config.Env;
      expect(env.filter((e) => e.startsWith('POSTGRES_INITDB_ARGS='))).toEqual([]);
    } finally {
      await pgx?.stop();
    }
  });

  it('leaves no container behind when its process gets SIGTERM', async () => {
    const runId = newRunId();
    const c = startChild(runId, 'wait');
    await c.ready;
    expect(containersWith(`${RUN_ID_LABEL}=${runId}`)).toHaveLength(1);
    c.child.kill('SIGTERM');
    const { code } = await c.exited;
    expect(code, c.output()).toBe(143);
    expect(c.output()).toContain('SIGTERM received, tearing down 1 resource(s)');
    expect(containersWith(`${RUN_ID_LABEL}=${runId}`)).toEqual([]);
  });

  it('leaves no container behind when its process exits without stop()', async () => {
    const runId = newRunId();
    const c = startChild(runId, 'exit');
    await c.ready;
    const { code } = await c.exited;
    expect(code, c.output()).toBe(0);
    expect(containersWith(`${RUN_ID_LABEL}=${runId}`)).toEqual([]);
  });

  it('removeLeftoverContainers removes the containers of one run, in any state', async () => {
    const runId = newRunId();
    const other = newRunId();
    const create = (id: string) =>
      docker(
        'create',
        '--label',
        `${THROWAWAY_LABEL}=true`,
        '--label',
        `${RUN_ID_LABEL}=${id}`,
        TEST_POSTGRES_IMAGE,
      );
    create(runId);
    create(runId);
    create(other);
    expect(await removeLeftoverContainers(runId)).toBe(2);
    expect(containersWith(`${RUN_ID_LABEL}=${runId}`)).toEqual([]);
    expect(containersWith(`${RUN_ID_LABEL}=${other}`)).toHaveLength(1);
    expect(await removeLeftoverContainers(other)).toBe(1);
  });

  it('fails clearly when the image is missing and cannot be pulled', async () => {
    const image = `lms-backup-test/missing-${randomBytes(4).toString('hex')}:1`;
    const error = await startDockerPostgres({ image }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerImageUnavailableError);
    const e = error as DockerImageUnavailableError;
    expect(e.exitCode).toBe(2);
    expect(e.image).toBe(image);
    expect(describeError(e)).toContain(image);
    expect(describeError(e)).toContain('scripts/build-postgres-image.sh');
    expect(docker('ps', '-a', '-q', '--filter', `ancestor=${image}`)).toBe('');
  });

  it('fails fast, with the log lines, when the container exits before it is ready', async () => {
    // An image whose entrypoint fails: initdb rejects its extra argument (the engine keeps the
    // image's POSTGRES_INITDB_ARGS and adds its own --no-sync after them).
    const image = `lms-backup-test/broken-${randomBytes(4).toString('hex')}:1`;
    execFileSync('docker', ['build', '-q', '-t', image, '-'], {
      input: `FROM ${TEST_POSTGRES_IMAGE}\nENV POSTGRES_INITDB_ARGS=--no-such-initdb-option\n`,
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    try {
      const started = Date.now();
      const error = await startDockerPostgres({ image }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(error).toBeInstanceOf(JobFailedError);
      const message = describeError(error);
      expect(message).toContain('exited');
      expect(message).toContain('no-such-initdb-option');
      expect(docker('ps', '-a', '-q', '--filter', `ancestor=${image}`)).toBe('');
    } finally {
      docker('rmi', '-f', image);
    }
  });
});
