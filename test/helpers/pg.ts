import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedLms } from '../../src/commands/lms-schema.js';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { StartOptions, ThrowawayPostgres } from '../../src/engines/types.js';
import { connect } from '../../src/postgres/client.js';
import { type PgConnection, withDatabase } from '../../src/postgres/connection.js';

export interface SourceDb {
  server: ThrowawayPostgres;
  /** Connection to the seeded `lms` database. */
  conn: PgConnection;
  stop(): Promise<void>;
}

/** A throwaway server with the LMS schema seeded into database `lms`. */
export async function startSourceDb(
  scale = 1,
  options: StartOptions & { binDir?: string } = {},
): Promise<SourceDb> {
  const server = await startLocalPostgres({ database: 'lms', ...options });
  const conn = withDatabase(server.connection, 'lms');
  const client = await connect(conn);
  try {
    await seedLms(client, scale);
  } finally {
    await client.end();
  }
  return { server, conn, stop: () => server.stop() };
}

export async function query<T extends Record<string, unknown>>(
  conn: PgConnection,
  sql: string,
): Promise<T[]> {
  const client = await connect(conn);
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

export function tempDir(prefix = 'lms-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number | null;
  /** The signal that ended the CLI, when one did (then code is null). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export const CLI_BUNDLE = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'index.js');

/** Runs the bundled CLI (dist/, rebuilt by the global setup) as a user would, with its own environment. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliRun> {
  return startCli(args, env, cwd).done;
}

/** A CLI run under way: its pid and what it printed so far, for a test that watches it end. */
export interface StartedCli {
  pid: number;
  stderrSoFar(): string;
  done: Promise<CliRun>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): StartedCli {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    env: { ...process.env, ...env },
    cwd: cwd ?? process.cwd(),
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
  const done = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  ).then(([code, signal]) => ({ code, signal, stdout, stderr }));
  return { pid: child.pid!, stderrSoFar: () => stderr, done };
}

/** Environment that points the CLI at a connection by PG* variables (the password never in argv). */
export function pgEnv(conn: PgConnection): NodeJS.ProcessEnv {
  return {
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.user,
    PGDATABASE: conn.database,
    PGPASSWORD: conn.password ?? '',
  };
}
