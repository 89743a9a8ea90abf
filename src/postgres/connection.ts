import { ConfigError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { ComposeRequest, ComposeRoute } from './compose.js';

/** Where a PostgreSQL server is and who we are there. The password never goes into argv. */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** libpq sslmode (disable, prefer, require, verify-ca, verify-full). */
  sslmode?: string;
  /**
   * Compose mode: the server is reached inside this compose service (host and port are the
   * server's there); the session goes over a bridge, the tools run in the service (postgres/compose.ts).
   */
  via?: ComposeRoute;
  /** Compose mode as requested, before the run resolves it into `via` (postgres/compose.ts resolveCompose). */
  compose?: ComposeRequest;
}

const SSL_MODES = new Set(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

/**
 * Reads a connection from a URL (`postgresql://user:pass@host:port/db?sslmode=require`) and/or
 * the standard PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).
 * URL parts win over the environment; the environment fills what the URL leaves out.
 * `inputName` names the setting in errors (e.g. "--database-url" or "database-url").
 */
export function resolveConnection(
  url: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  inputName = 'database URL',
): PgConnection {
  const fromEnv: Partial<PgConnection> = {};
  if (env.PGHOST) fromEnv.host = env.PGHOST;
  if (env.PGPORT) fromEnv.port = parsePort(env.PGPORT, 'PGPORT');
  if (env.PGUSER) fromEnv.user = env.PGUSER;
  if (env.PGDATABASE) fromEnv.database = env.PGDATABASE;
  if (env.PGPASSWORD) fromEnv.password = env.PGPASSWORD;
  if (env.PGSSLMODE) fromEnv.sslmode = env.PGSSLMODE;

  const fromUrl = url ? parseConnectionUrl(url, inputName) : {};
  const merged = { ...fromEnv, ...stripUndefined(fromUrl) };
  const conn: PgConnection = {
    host: merged.host ?? 'localhost',
    port: merged.port ?? 5432,
    user: merged.user ?? env.USER ?? 'postgres',
    database: merged.database ?? merged.user ?? env.USER ?? 'postgres',
  };
  if (merged.password !== undefined) conn.password = merged.password;
  if (merged.sslmode !== undefined) {
    if (!SSL_MODES.has(merged.sslmode)) {
      throw new ConfigError(`${inputName}: sslmode "${merged.sslmode}" is not a libpq sslmode`, {
        hint: `use one of ${[...SSL_MODES].join(', ')}`,
      });
    }
    conn.sslmode = merged.sslmode;
  }
  return conn;
}

export function parseConnectionUrl(url: string, inputName = 'database URL'): Partial<PgConnection> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${inputName} is not a valid URL: ${redactUrl(url)}`, {
      hint: 'use the form postgresql://user@host:5432/database (put the password in PGPASSWORD)',
    });
  }
  if (u.protocol !== 'postgresql:' && u.protocol !== 'postgres:') {
    throw new ConfigError(`${inputName} must start with postgresql:// (got ${u.protocol}//…)`, {
      hint: 'use the form postgresql://user@host:5432/database',
    });
  }
  const out: Partial<PgConnection> = {};
  // A host of the form %2Fvar%2Frun%2Fpostgresql is a Unix socket directory.
  if (u.hostname) out.host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  if (u.port) out.port = parsePort(u.port, inputName);
  if (u.username) out.user = decodeURIComponent(u.username);
  if (u.password) out.password = decodeURIComponent(u.password);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (db) out.database = db;
  const qHost = u.searchParams.get('host');
  if (qHost) out.host = qHost;
  const qPort = u.searchParams.get('port');
  if (qPort) out.port = parsePort(qPort, inputName);
  const ssl = u.searchParams.get('sslmode');
  if (ssl) out.sslmode = ssl;
  // libpq reads these query parameters too; a password there must not be silently ignored.
  const qUser = u.searchParams.get('user');
  if (qUser) out.user = qUser;
  const qDb = u.searchParams.get('dbname');
  if (qDb) out.database = qDb;
  const qPassword = u.searchParams.get('password');
  if (qPassword !== null) out.password = qPassword;
  return out;
}

function parsePort(value: string, inputName: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`${inputName}: port "${value}" is not a TCP port`, {
      hint: 'use a number 1-65535',
    });
  }
  return port;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Files libpq reads (password file, TLS material): our own connection uses them, so do the tools. */
const PASSED_PG_FILES = new Set(['PGPASSFILE', 'PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY', 'PGSSLCRL']);

/**
 * The environment for a pg tool (pg_dump, pg_restore, psql): connection by PG* variables so
 * the password never reaches argv. Inherited PG* variables are replaced, not mixed in.
 */
export function pgToolEnv(conn: PgConnection, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PG') || PASSED_PG_FILES.has(k)) env[k] = v;
  env.PGHOST = conn.host;
  env.PGPORT = String(conn.port);
  env.PGUSER = conn.user;
  env.PGDATABASE = conn.database;
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  if (conn.sslmode !== undefined) env.PGSSLMODE = conn.sslmode;
  env.PGCONNECT_TIMEOUT = base.PGCONNECT_TIMEOUT ?? '15';
  env.PGAPPNAME = 'lms-backup';
  return env;
}

/** For logs and reports: postgresql://user@host:port/database, never the password. */
export function describeConnection(conn: PgConnection): string {
  if (conn.via) {
    const where = `${conn.via.project ? `${encodeURIComponent(conn.via.project)}/` : ''}${encodeURIComponent(conn.via.service)}`;
    return `compose://${where}/${encodeURIComponent(conn.database)} (user ${conn.user})`;
  }
  const host = conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  return `postgresql://${encodeURIComponent(conn.user)}@${host.startsWith('/') ? encodeURIComponent(host) : host}:${conn.port}/${encodeURIComponent(conn.database)}`;
}

/** The same connection pointed at another database on the same server. */
export function withDatabase(conn: PgConnection, database: string): PgConnection {
  return { ...conn, database };
}
