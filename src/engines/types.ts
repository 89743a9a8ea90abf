import type { Logger } from '../log.js';
import type { PgConnection } from '../postgres/connection.js';

export type EngineKind = 'local' | 'docker';
export type EngineChoice = EngineKind | 'auto';

/** A PostgreSQL server that exists only for a drill, a test or the demo. */
export interface ThrowawayPostgres {
  readonly engine: EngineKind;
  /** Superuser connection to the `postgres` database; the password (if any) is random. */
  readonly connection: PgConnection;
  /** e.g. "15.18" */
  readonly serverVersion: string;
  readonly major: number;
  /** For reports: "local /usr/lib/postgresql/15/bin" or "docker local/postgres:15". */
  readonly description: string;
  /** Directory of the server's binaries when local (initdb, pg_ctl, postgres). */
  readonly binDir?: string;
  /** Temp directory holding the data directory and socket when local (removed by stop()). */
  readonly workDir?: string;
  /** Why `auto` did not use the engine it tried first (e.g. Docker's error), in order. */
  readonly fallbacks?: string[];
  /** Stops and removes everything (data directory or container). Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Wanted server major; undefined = whatever the engine has (newest). */
  major?: number;
  /** Docker image (default `postgres:<major>`). */
  image?: string;
  /** Keep fsync/full_page_writes/synchronous_commit on. Default false: it is thrown away. */
  durable?: boolean;
  /** Tune the server for one bulk restore (engines/tuning.ts): a drill's server. */
  restore?: boolean;
  /** Database to create besides `postgres`. */
  database?: string;
  logger?: Logger;
}
