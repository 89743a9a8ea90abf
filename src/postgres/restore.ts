import { JobFailedError, PgToolFailedError } from '../errors.js';
import { redactValue } from '../redact.js';
import { type PgConnection, pgToolEnv } from './connection.js';
import { runPgTool, spawnPgTool } from './exec.js';
import type { ToolInfo } from './tools.js';

export interface RestoreOutcome {
  ok: boolean;
  /** pg_restore's error lines (empty when ok). */
  errors: string[];
  /** The first error with the statement or object it stopped at, when it failed. */
  firstError?: string;
  durationMs: number;
}

/**
 * `pg_restore --list`: the archive's table of contents. Throws PgToolFailedError when the
 * archive cannot be read (not a custom-format dump, truncated, from a newer pg_dump).
 */
export async function listArchive(
  pgRestore: ToolInfo,
  file: string,
  extraArgs: string[] = [],
): Promise<string[]> {
  try {
    const r = await runPgTool(pgRestore, ['--list', ...extraArgs, file], { env: process.env, files: [file] });
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

/** The kinds of entries pg_dump writes, longest first so "TABLE DATA" wins over "TABLE". */
const TOC_KINDS = [
  'ACCESS METHOD',
  'ACL',
  'AGGREGATE',
  'BLOB METADATA',
  'BLOBS',
  'BLOB',
  'CAST',
  'CHECK CONSTRAINT',
  'COLLATION',
  'COMMENT',
  'CONSTRAINT',
  'CONVERSION',
  'DATABASE PROPERTIES',
  'DATABASE',
  'DEFAULT ACL',
  'DEFAULT',
  'DOMAIN',
  'ENCODING',
  'EVENT TRIGGER',
  'EXTENSION',
  'FK CONSTRAINT',
  'FOREIGN DATA WRAPPER',
  'FOREIGN SERVER',
  'FOREIGN TABLE',
  'FUNCTION',
  'INDEX ATTACH',
  'INDEX',
  'LARGE OBJECT',
  'MATERIALIZED VIEW DATA',
  'MATERIALIZED VIEW',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'OPERATOR',
  'POLICY',
  'PROCEDURAL LANGUAGE',
  'PROCEDURE',
  'PUBLICATION TABLES IN SCHEMA',
  'PUBLICATION TABLE',
  'PUBLICATION',
  'ROW SECURITY',
  'RULE',
  'SCHEMA',
  'SEARCHPATH',
  'SECURITY LABEL',
  'SEQUENCE OWNED BY',
  'SEQUENCE SET',
  'SEQUENCE',
  'SERVER',
  'SHELL TYPE',
  'STATISTICS',
  'STDSTRINGS',
  'SUBSCRIPTION',
  'TABLE ATTACH',
  'TABLE DATA',
  'TABLE',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE',
  'TRANSFORM',
  'TRIGGER',
  'TYPE',
  'USER MAPPING',
  'VIEW',
].sort((a, b) => b.length - a.length);

export interface TocEntry {
  /** The whole line, as `pg_restore -L` takes it back. */
  line: string;
  dumpId: number;
  kind: string;
  /** "schema name owner" (names are printed unquoted, so split it only knowing the names). */
  rest: string;
}

/** Parses "215; 1259 16390 TABLE DATA Weird Schema Mixed Case owner" (names may hold spaces). */
export function parseTocLine(line: string): TocEntry | undefined {
  const m = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const body = m[2]!;
  const kind = TOC_KINDS.find((k) => body === k || body.startsWith(`${k} `)) ?? body.split(' ')[0]!;
  return { line, dumpId: Number(m[1]), kind, rest: body.slice(kind.length).trim() };
}

/** Summarises a TOC: how many entries of each kind (TABLE, TABLE DATA, INDEX, …). */
export function summariseToc(lines: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) {
    const kind = parseTocLine(line)?.kind ?? 'OTHER';
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
  options: {
    jobs?: number;
    exitOnError?: boolean;
    /** Default true (--no-owner); a real restore and a drill with the backup's roles pass false. */
    noOwner?: boolean;
    /** Default: the same as noOwner (--no-privileges). */
    noPrivileges?: boolean;
    extraArgs?: string[];
  } = {},
): Promise<RestoreOutcome> {
  const started = Date.now();
  const args = [
    '--dbname',
    conn.database,
    '--no-password',
    ...(options.exitOnError === false ? [] : ['--exit-on-error']),
    ...(options.noOwner === false ? [] : ['--no-owner']),
    ...((options.noPrivileges ?? options.noOwner) === false ? [] : ['--no-privileges']),
    ...(options.jobs && options.jobs > 1 ? [`--jobs=${options.jobs}`] : []),
    ...(options.extraArgs ?? []),
    file,
  ];
  const env = pgToolEnv(conn);
  // --dbname with a plain name: host, port, user and password come from the environment.
  // A -L list file is read by the tool too: a container must see it.
  const listFiles = args.filter((_, i) => i > 0 && (args[i - 1] === '-L' || args[i - 1] === '--use-list'));
  const child = spawnPgTool(pgRestore, args, {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
    files: [file, ...listFiles],
  });
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
  const scrubbed = redactValue(stderr, conn.password ?? '');
  const errors = scrubbed
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|fatal|could not|warning: errors ignored/i.test(l));
  const ok = code === 0 && errors.length === 0;
  if (!ok && errors.length === 0)
    errors.push(`pg_restore exited with ${code === null ? 'a signal' : `code ${code}`}`);
  const outcome: RestoreOutcome = { ok, errors: errors.slice(0, 50), durationMs: Date.now() - started };
  if (!ok) outcome.firstError = firstErrorOf(scrubbed) ?? errors[0]!;
  return outcome;
}

/**
 * "pg_restore: error: could not execute query: ERROR: role "x" does not exist" together with the
 * TOC entry it was processing ("from TOC entry 3401; 0 16390 POLICY public t p owner") and the
 * command, on one line.
 */
export function firstErrorOf(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => /error:/i.test(l) && !/errors ignored/i.test(l));
  if (i < 0) return undefined;
  const at = lines.slice(Math.max(0, i - 1), i + 4).find((l) => /from TOC entry/i.test(l));
  const command = lines.slice(i, i + 4).find((l) => /^Command was:/i.test(l));
  return [lines[i], at, command].filter(Boolean).join(' | ');
}
