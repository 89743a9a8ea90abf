import { JobFailedError, PgToolFailedError } from '../errors.js';
import { type PgConnection, pgToolEnv } from './connection.js';
import { runPgTool, spawnPgTool } from './exec.js';
import type { ToolInfo } from './tools.js';

export interface RestoreOutcome {
  ok: boolean;
  /** pg_restore's error lines (empty when ok). */
  errors: string[];
  durationMs: number;
}

/**
 * `pg_restore --list`: the archive's table of contents. Throws PgToolFailedError when the
 * archive cannot be read (not a custom-format dump, truncated, from a newer pg_dump).
 */
export async function listArchive(pgRestore: ToolInfo, file: string): Promise<string[]> {
  try {
    const r = await runPgTool(pgRestore, ['--list', file], { env: process.env, files: [file] });
    if (r.code !== 0) throw Object.assign(new Error(`exited with code ${r.code}`), { stderr: r.stderr });
    return r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new PgToolFailedError(
      `pg_restore --list cannot read the archive: ${(e.stderr?.trim() || e.message).trim()}`,
      {
        hint: 'the dump is damaged or was written by a newer pg_dump than this pg_restore',
        cause: error,
      },
    );
  }
}

/** Summarises a TOC: how many entries of each kind (TABLE, TABLE DATA, INDEX, …). */
export function summariseToc(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) {
    // "215; 1259 16390 TABLE public users postgres"
    const m = /^\d+;\s+\d+\s+\d+\s+(.+?)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(line.trim());
    const kind = m?.[1] ?? 'OTHER';
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

/**
 * Restores a custom-format archive into `conn.database`. With `exitOnError`, the first error
 * stops it; either way any error line makes the outcome a failure (pg_restore's "errors
 * ignored on restore" is never a success here).
 */
export async function runPgRestore(
  pgRestore: ToolInfo,
  conn: PgConnection,
  file: string,
  options: { jobs?: number; exitOnError?: boolean; noOwner?: boolean; extraArgs?: string[] } = {},
): Promise<RestoreOutcome> {
  const started = Date.now();
  const args = [
    '--dbname',
    conn.database,
    '--no-password',
    ...(options.exitOnError === false ? [] : ['--exit-on-error']),
    ...(options.noOwner === false ? [] : ['--no-owner', '--no-privileges']),
    ...(options.jobs && options.jobs > 1 ? [`--jobs=${options.jobs}`] : []),
    ...(options.extraArgs ?? []),
    file,
  ];
  const env = pgToolEnv(conn);
  // --dbname with a plain name: host, port, user and password come from the environment.
  const child = spawnPgTool(pgRestore, args, { env, stdio: ['ignore', 'ignore', 'pipe'], files: [file] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 200_000) stderr += d;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new JobFailedError(`pg_restore could not start: ${e.message}`, { cause: e })),
    );
    child.once('close', (c, signal) => resolve(signal ? null : c));
  });
  const scrubbed = conn.password ? stderr.split(conn.password).join('***') : stderr;
  const errors = scrubbed
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|fatal|could not|warning: errors ignored/i.test(l));
  const ok = code === 0 && errors.length === 0;
  if (!ok && errors.length === 0)
    errors.push(`pg_restore exited with ${code === null ? 'a signal' : `code ${code}`}`);
  return { ok, errors: errors.slice(0, 50), durationMs: Date.now() - started };
}
