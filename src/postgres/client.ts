import pg from 'pg';
import { JobFailedError, PgConnectionConfigError, PgUnreachableError } from '../errors.js';
import { redactValue } from '../redact.js';
import { ComposeBridge } from './compose.js';
import { describeConnection, type PgConnection } from './connection.js';

export type PgClient = pg.Client;

/** Server version number (e.g. 150018) → major (15); 9.x servers (90624) give 9. */
export function majorOfVersionNum(num: number): number {
  return Math.floor(num / 10000);
}

/** Opens a node-postgres client; the password goes in the config object, never argv or logs. */
export async function connect(conn: PgConnection, options: { timeoutMs?: number } = {}): Promise<pg.Client> {
  const config: pg.ClientConfig = {
    host: conn.host,
    port: conn.port,
    user: conn.user,
    database: conn.database,
    connectionTimeoutMillis: options.timeoutMs ?? 15_000,
    application_name: 'lms-backup',
  };
  if (conn.password !== undefined) config.password = conn.password;
  const via = conn.via;
  // Compose mode: the same session, over a bridge into the service (no published port needed).
  if (via) config.stream = () => new ComposeBridge(via) as unknown as import('node:net').Socket;
  else if (conn.sslmode && conn.sslmode !== 'disable') {
    config.ssl =
      conn.sslmode === 'verify-full' || conn.sslmode === 'verify-ca' ? true : { rejectUnauthorized: false };
  }
  const client = new pg.Client(config);
  // An idle client that loses its server must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw connectionError(error, conn);
  }
  return client;
}

/** `n` clients at once; if one cannot connect, the others are closed and its error is thrown. */
export async function connectMany(conn: PgConnection, n: number): Promise<pg.Client[]> {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => connect(conn)));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!failed) return settled.map((r) => (r as PromiseFulfilledResult<pg.Client>).value);
  await Promise.all(
    settled.map((r) => (r.status === 'fulfilled' ? r.value.end().catch(() => {}) : undefined)),
  );
  throw failed.reason;
}

/**
 * Runs `fn` over `n` fresh clients (at least one): the first, and the rest beside it. They are all
 * closed once `fn` has settled, however it ends.
 */
export async function withConnections<T>(
  conn: PgConnection,
  n: number,
  fn: (first: pg.Client, rest: pg.Client[]) => Promise<T>,
): Promise<T> {
  const clients = await connectMany(conn, Math.max(1, n));
  try {
    return await fn(clients[0]!, clients.slice(1));
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}

/** Maps a connection failure to a clear, typed error (no secret in the message). */
export function connectionError(error: unknown, conn: PgConnection): Error {
  const where = describeConnection(conn);
  const e = error as { code?: string; message?: string };
  const msg = e?.message ?? String(error);
  switch (e?.code) {
    case '28P01':
    case '28000':
      return new PgConnectionConfigError(`authentication failed for user "${conn.user}" at ${where}`, {
        hint: 'check the password (PGPASSWORD or the password in the database URL) and the server pg_hba.conf',
        cause: error,
      });
    case '3D000':
      return new PgConnectionConfigError(`database "${conn.database}" does not exist at ${where}`, {
        hint: 'check the database name in the URL or PGDATABASE',
        cause: error,
      });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new PgUnreachableError(`cannot reach PostgreSQL at ${where} (${e.code})`, {
        hint: conn.via
          ? 'check that PostgreSQL in the service listens on TCP (listen_addresses) at that port, and the port in the database URL'
          : 'check the host and port, that the server is running, and that this machine may connect to it',
        cause: error,
      });
    default:
      if (/client password must be a (non-empty )?string|Password must be a string/i.test(msg)) {
        return new PgConnectionConfigError(
          `the server at ${where} asks user "${conn.user}" for a password, and none was given`,
          {
            hint:
              'set PGPASSWORD, or add a line for this server to the password file (PGPASSFILE, default ~/.pgpass); ' +
              'a password inside the database URL works too, but other users can see it in the process list',
            cause: error,
          },
        );
      }
      if (/timeout/i.test(msg)) {
        return new PgUnreachableError(`connecting to PostgreSQL at ${where} timed out`, {
          hint: 'check the host and port, firewalls, and that the server is running',
          cause: error,
        });
      }
      return new JobFailedError(`cannot connect to PostgreSQL at ${where}: ${scrub(msg, conn)}`, {
        cause: error,
      });
  }
}

function scrub(text: string, conn: PgConnection): string {
  return redactValue(text, conn.password ?? '');
}

export interface ServerInfo {
  version: string;
  versionNum: number;
  major: number;
}

export async function serverInfo(client: pg.Client): Promise<ServerInfo> {
  const r = await client.query<{ v: string; n: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
  );
  const row = r.rows[0]!;
  const versionNum = Number(row.n);
  // "15.18 (Debian 15.18-0+deb12u1)" → "15.18"
  return { version: row.v.split(' ')[0]!, versionNum, major: majorOfVersionNum(versionNum) };
}

/**
 * Creates `database` on the server of `conn` unless it exists (connecting to its "postgres"
 * maintenance database). Returns true when it was created.
 */
export async function createDatabaseIfMissing(conn: PgConnection, database: string): Promise<boolean> {
  const admin = await connect({ ...conn, database: 'postgres' });
  try {
    if (await databaseExists(admin, database)) return false;
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    return true;
  } finally {
    await admin.end();
  }
}

/**
 * The database a restore goes into, on a throwaway server this run just made: its template1,
 * renamed. `CREATE DATABASE` would copy template1 file by file (some 300 files: 0.03 s on a
 * fresh file system, 0.3-0.4 s on one where many files were just deleted, on the drill's way
 * once the server is up) into the same catalog that template1 already is. The throwaway server
 * has no template1 afterwards; nothing a drill runs creates a database. When the rename is
 * refused (a role that may create databases but does not own template1) the database is created
 * as before. Returns which of the two happened, or `existing` when `database` was there already
 * (the server's own "postgres").
 */
export async function takeTemplateAsDatabase(
  conn: PgConnection,
  database: string,
): Promise<'renamed' | 'created' | 'existing'> {
  const admin = await connect({ ...conn, database: 'postgres' });
  try {
    if (await databaseExists(admin, database)) return 'existing';
    try {
      await admin.query('BEGIN');
      await admin.query('ALTER DATABASE template1 IS_TEMPLATE false');
      await admin.query(`ALTER DATABASE template1 RENAME TO ${quoteIdent(database)}`);
      await admin.query('COMMIT');
      return 'renamed';
    } catch {
      await admin.query('ROLLBACK');
      await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
      return 'created';
    }
  } finally {
    await admin.end();
  }
}

async function databaseExists(admin: pg.Client, database: string): Promise<boolean> {
  const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
  return (r.rowCount ?? 0) > 0;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
