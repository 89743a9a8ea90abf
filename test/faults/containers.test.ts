/**
 * Fault matrix: a pg_dump in a container (a PostgreSQL 17 server, this host's pg_dump 15) whose
 * Docker engine behaves otherwise than the one the FIFO path expects (src/postgres/output-fifo.ts):
 * a container that never starts, an engine that runs it as another user, an engine that sees
 * another file system at the FIFO's path. Each is made at the docker CLI's seam (a `docker` on
 * PATH that changes the `run` before the real CLI gets it); the engine, the images, pg_dump and
 * the server are real.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedLms } from '../../src/commands/lms-schema.js';
import { startDockerPostgres } from '../../src/engines/docker.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { connect } from '../../src/postgres/client.js';
import { type PgConnection, withDatabase } from '../../src/postgres/connection.js';
import { dockerTestMode, dumpFifoDirs, withDockerShim } from '../helpers/docker.js';
import { type CliRun, runCli } from '../helpers/pg.js';
import { noStack, removeScratch, runRecords, scratch } from './helpers.js';

const docker = await dockerTestMode('lms-backup/postgres:17');

let server: ThrowawayPostgres | undefined;
let conn: PgConnection;

beforeAll(async () => {
  if (docker === 'skip') return;
  server = await startDockerPostgres({ image: 'lms-backup/postgres:17', database: 'lms' });
  conn = withDatabase(server.connection, 'lms');
  const client = await connect(conn);
  try {
    await seedLms(client, 1);
  } finally {
    await client.end();
  }
});
afterAll(async () => {
  await server?.stop();
  removeScratch();
});

/** `lms-backup backup` of the 17 server into `dir` through a docker CLI changed by `script`. */
function backupThrough(script: string, dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return withDockerShim(script, (PATH) =>
    runCli(['backup', '--to', dir, '--no-encryption', '--json', ...extra], {
      PATH,
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${conn.port}/lms`,
      PGPASSWORD: conn.password!,
      ...env,
    }),
  );
}

/** The dump's container fails to start: the engine refuses it before pg_dump runs. */
const NEVER_STARTS =
  'case " $* " in *"/lms-dump-"*) echo "docker: Error response from daemon: injected start failure." >&2; exit 125;; esac';
/** The engine runs the container as another user (rootless, user namespaces). */
const OTHER_USER =
  'if [ "$1" = run ]; then for a do shift; [ "$prev" = --user ] && a=4242:4242; set -- "$@" "$a"; prev=$a; done; fi';

function dumpsIn(dir: string): string[] {
  return existsSync(join(dir, 'db')) ? readdirSync(join(dir, 'db')).filter((f) => f.includes('.dump')) : [];
}

async function expectNeverStarts(compression: string): Promise<void> {
  const dir = scratch();
  const before = dumpFifoDirs();
  const started = Date.now();
  const r: CliRun = await backupThrough(NEVER_STARTS, dir, ['--compression', compression]);
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).toMatch(
    /pg_dump exited with code 125: docker: Error response from daemon: injected start failure/,
  );
  expect(noStack(r.stderr)).toBe(true);
  // A reader left waiting for the FIFO's writer would hold the process past its exit.
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(dumpFifoDirs()).toEqual(before);
  expect(dumpsIn(dir)).toEqual([]);
  expect(runRecords(dir).map((x) => x.status)).toEqual(['failure']);
}

describe.skipIf(docker === 'skip')("fault matrix: a container pg_dump's engine", () => {
  it("the dump container never starts, zstd waiting on the FIFO → exit 1 with the engine's error at once; no FIFO left, nothing kept, a failure record", async () => {
    await expectNeverStarts('auto');
  });

  it("the dump container never starts, Node waiting on the FIFO (gzip:1) → exit 1 with the engine's error at once, the process ends; no FIFO left, nothing kept", async () => {
    await expectNeverStarts('gzip:1');
  });

  it('the engine runs the container as another user (user namespaces) → exit 1: pg_dump cannot open the FIFO, the hint names LMS_DUMP_FIFO=none, with which the backup is made', async () => {
    const dir = scratch();
    const failed = await backupThrough(OTHER_USER, dir);
    expect(failed.code, failed.stderr).toBe(1);
    // The image's sh (or pg_dump, given the FIFO as its --file) cannot open it.
    expect(failed.stderr).toMatch(/(cannot create|could not open output file) .*Permission denied/);
    expect(failed.stderr).toMatch(/set LMS_DUMP_FIFO=none/);
    expect(noStack(failed.stderr)).toBe(true);
    expect(dumpsIn(dir)).toEqual([]);
    const made = await backupThrough(OTHER_USER, dir, [], { LMS_DUMP_FIFO: 'none' });
    expect(made.code, made.stderr).toBe(0);
    expect(dumpsIn(dir).length).toBeGreaterThan(0);
    expect(runRecords(dir).map((x) => x.status)).toEqual(['failure', 'success']);
  });

  it('the engine sees another file system at the FIFO path (snap-confined Docker) → exit 1: pg_dump ended cleanly but nothing came through, said so with LMS_DUMP_FIFO=none; nothing kept', async () => {
    const elsewhere = scratch();
    const dir = scratch();
    // The engine mounts a directory of its own (empty) where this host has the FIFO's.
    const otherView = `if [ "$1" = run ]; then for a do shift; case "$a" in */lms-dump-*:*) a="${elsewhere}:\${a#*:}";; esac; set -- "$@" "$a"; done; fi`;
    const r = await backupThrough(otherView, dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /ended cleanly but wrote nothing into this host's FIFO .*the Docker engine sees another file system at that path/,
    );
    expect(r.stderr).toMatch(/LMS_DUMP_FIFO=none/);
    expect(noStack(r.stderr)).toBe(true);
    // pg_dump wrote its archive there, on the engine's side.
    expect(readdirSync(elsewhere)).toEqual(['archive']);
    expect(dumpsIn(dir)).toEqual([]);
    expect(runRecords(dir).map((x) => x.status)).toEqual(['failure']);
  });
});
