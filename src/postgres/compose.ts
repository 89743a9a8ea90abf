import { type ChildProcess, execFile, type StdioOptions, spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { type PgConnection, parseConnectionUrl } from './connection.js';
import { parseToolVersion, type ToolInfo } from './tools.js';

/**
 * Compose mode: the database is a service of a docker compose project, often with no port
 * published to the host. Everything goes through `docker compose exec -T <service>` (or
 * `docker-compose exec -T` with compose v1):
 *
 * - pg_dump, pg_restore and psql are the service's own binaries, run inside its container;
 *   the PG* variables are passed by name (`-e PGPASSWORD`), their values only in the
 *   environment of the compose CLI, never in an argv.
 * - lms-backup's own SQL session (the exporting snapshot, the exact row counts, the globals)
 *   is the same node-postgres client as for any server, over a byte bridge: bash inside the
 *   container opens the server's TCP port there (`/dev/tcp`), and the exec's stdin and stdout
 *   carry the protocol. No port has to be published.
 * - Host files a tool reads (an archive, a restore list) go in on the exec's stdin as a tar
 *   stream, unpacked into a temporary directory that is removed when the tool exits.
 */

/** How compose is invoked: `docker compose` (v2) or `docker-compose` (v1). */
export interface ComposeCli {
  command: string;
  /** Arguments before the compose ones: ['compose'] for v2, [] for v1. */
  prefix: string[];
  version: 1 | 2;
}

export const COMPOSE_V2: ComposeCli = { command: 'docker', prefix: ['compose'], version: 2 };
export const COMPOSE_V1: ComposeCli = { command: 'docker-compose', prefix: [], version: 1 };

/** What the user gave: --compose-file (repeatable), --compose-project, --compose-profile, --compose-service. */
export interface ComposeOptions {
  files: string[];
  project?: string;
  profiles: string[];
  service?: string;
}

/** Compose mode as the settings give it: resolved when the run starts ({@link resolveCompose}). */
export interface ComposeRequest extends ComposeOptions {
  /** What the user gave explicitly (URL parts, PGUSER, PGDATABASE, PGPASSWORD): it wins over the service's environment. */
  given: Partial<Omit<PgConnection, 'compose' | 'via'>>;
}

/** A resolved compose service: the route every tool and session of this run takes. */
export interface ComposeRoute {
  cli: ComposeCli;
  files: string[];
  project?: string;
  profiles: string[];
  service: string;
}

/** For logs, errors and the manifest: "service db of compose project shop". */
export function describeRoute(route: ComposeRoute): string {
  return `service ${route.service} of compose ${route.project ? `project ${route.project}` : `file ${route.files.join(', ') || 'in the working directory'}`}`;
}

/** The compose CLI's arguments up to the subcommand: files, project and profiles. */
export function composeGlobalArgs(
  route: Pick<ComposeRoute, 'cli' | 'files' | 'project' | 'profiles'>,
): string[] {
  return [
    ...route.cli.prefix,
    ...route.files.flatMap((f) => ['-f', f]),
    ...(route.project ? ['-p', route.project] : []),
    ...route.profiles.flatMap((p) => ['--profile', p]),
  ];
}

/**
 * `exec -T` of `command` in the service: no TTY (the bytes are the tool's own), stdin attached,
 * the variables in `envNames` passed by name only (their values come from the CLI's environment).
 */
export function composeExecArgs(route: ComposeRoute, envNames: string[], command: string[]): string[] {
  return [
    ...composeGlobalArgs(route),
    'exec',
    '-T',
    ...[...envNames].sort().flatMap((n) => ['-e', n]),
    route.service,
    ...command,
  ];
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (e && e.code === 'ENOENT') resolve({ code: -1, stdout: '', stderr: `no ${command} on PATH` });
        else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const lastLines = (text: string, n = 3): string => text.trim().split('\n').slice(-n).join(' | ');

/**
 * The compose CLI of this machine: `docker compose` when the Docker CLI has the plugin, else
 * `docker-compose` (v1, or v2's standalone binary). LMS_COMPOSE_CLI=v1|v2 forces one.
 */
export async function detectComposeCli(env: NodeJS.ProcessEnv = process.env): Promise<ComposeCli> {
  const forced = env.LMS_COMPOSE_CLI;
  const order = forced === 'v1' ? [COMPOSE_V1] : forced === 'v2' ? [COMPOSE_V2] : [COMPOSE_V2, COMPOSE_V1];
  const tried: string[] = [];
  for (const cli of order) {
    const r = await run(cli.command, [...cli.prefix, 'version'], env, 30_000);
    if (r.code === 0) return cli;
    tried.push(
      `${[cli.command, ...cli.prefix].join(' ')}: ${lastLines(r.stderr || r.stdout, 1) || `exit ${r.code}`}`,
    );
  }
  throw new ConfigError(`compose mode needs docker compose, and none runs here (${tried.join('; ')})`, {
    hint: 'install the Docker Compose plugin ("docker compose") or docker-compose, or back up over TCP with --database-url',
  });
}

async function compose(
  route: ComposeRoute | Omit<ComposeRoute, 'service'>,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs?: number,
): Promise<Run> {
  return run(route.cli.command, [...composeGlobalArgs(route), ...args], env, timeoutMs);
}

interface ServiceInfo {
  name: string;
  image?: string;
  entrypoint?: unknown;
  environment?: unknown;
}

/** Services whose image is a PostgreSQL one (postgres, postgis, timescaledb, …). */
export function postgresServices(services: ServiceInfo[]): ServiceInfo[] {
  const isPg = (image: string | undefined) => {
    if (!image) return false;
    const name = image.split('@')[0]!.split('/').pop()!.split(':')[0]!;
    return /postgres|postgis|timescale|pgvector|supabase\/postgres/i.test(name);
  };
  const pg = services.filter((s) => isPg(s.image));
  // The same image run as something else (a sleep, a one-off psql) is not the database.
  const servers = pg.filter((s) => s.entrypoint === undefined);
  return servers.length > 0 ? servers : pg;
}

/** The project's services from `compose config` (the merged model of every file and profile). */
export async function composeServices(
  project: Omit<ComposeRoute, 'service'>,
  env: NodeJS.ProcessEnv,
): Promise<ServiceInfo[]> {
  const r = await compose(project, ['config'], env);
  if (r.code !== 0) {
    throw new ConfigError(`compose could not read the project (${lastLines(r.stderr || r.stdout)})`, {
      hint: 'check --compose-file (each file must exist; relative paths are from the working directory) and --compose-project',
    });
  }
  let model: { services?: Record<string, Omit<ServiceInfo, 'name'>> };
  try {
    model = parseYaml(r.stdout) as typeof model;
  } catch (error) {
    throw new JobFailedError(
      `compose config printed something that is not YAML: ${(error as Error).message}`,
    );
  }
  return Object.entries(model?.services ?? {}).map(([name, s]) => ({ name, ...s }));
}

/** The service the route takes: the one given, else the one service running a PostgreSQL image. */
export async function chooseService(
  project: Omit<ComposeRoute, 'service'>,
  given: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const services = await composeServices(project, env);
  if (given) {
    if (!services.some((s) => s.name === given)) {
      throw new ConfigError(
        `compose-service "${given}" is not a service of this compose project (services: ${services.map((s) => s.name).join(', ') || 'none'})`,
        { hint: 'give the name of the service running PostgreSQL, as in the compose file' },
      );
    }
    return given;
  }
  const pg = postgresServices(services);
  if (pg.length === 1) return pg[0]!.name;
  const hint = 'name the service running PostgreSQL with --compose-service (action input compose-service)';
  if (pg.length === 0) {
    throw new ConfigError(
      `no service of this compose project runs a PostgreSQL image (services: ${services.map((s) => `${s.name}${s.image ? ` (${s.image})` : ''}`).join(', ') || 'none'})`,
      { hint },
    );
  }
  throw new ConfigError(
    `several services of this compose project run a PostgreSQL image: ${pg.map((s) => s.name).join(', ')}`,
    { hint },
  );
}

/** Runs `command` in the service, collecting its output; `input` goes to its stdin. */
export async function composeExec(
  route: ComposeRoute,
  command: string[],
  options: { env?: NodeJS.ProcessEnv; envNames?: string[]; timeoutMs?: number } = {},
): Promise<Run> {
  const env = options.env ?? process.env;
  return run(
    route.cli.command,
    composeExecArgs(route, options.envNames ?? [], command),
    env,
    options.timeoutMs,
  );
}

/** A clear error for an exec that did not start: the service is not running, or compose failed. */
function execProblem(route: ComposeRoute, r: Run): ConfigError {
  const text = lastLines(r.stderr || r.stdout);
  if (/no container|not running|is not running|service .* is not running/i.test(text)) {
    return new ConfigError(`${describeRoute(route)} is not running (${text})`, {
      hint: `start it: ${[route.cli.command, ...composeGlobalArgs(route), 'up', '-d', route.service].join(' ')}`,
    });
  }
  return new ConfigError(`cannot run a command in ${describeRoute(route)} (${text || `exit ${r.code}`})`, {
    hint: 'check that the service is up (compose ps) and that its image has bash',
  });
}

/** The service container's own PostgreSQL variables (POSTGRES_USER, _DB, _PASSWORD or _PASSWORD_FILE, PGPORT). */
export async function serviceEnvironment(
  route: ComposeRoute,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const script =
    'for v in POSTGRES_USER POSTGRES_DB POSTGRES_PASSWORD PGPORT PGUSER PGDATABASE; do ' +
    'eval "x=\\${$v-}"; [ -n "$x" ] && printf "%s=%s\\0" "$v" "$x"; done; ' +
    'if [ -n "${POSTGRES_PASSWORD_FILE-}" ] && [ -r "$POSTGRES_PASSWORD_FILE" ]; then ' +
    'printf "POSTGRES_PASSWORD=%s\\0" "$(cat "$POSTGRES_PASSWORD_FILE")"; fi; true';
  const r = await composeExec(route, ['sh', '-c', script], { env });
  if (r.code !== 0) throw execProblem(route, r);
  const out: Record<string, string> = {};
  for (const pair of r.stdout.split('\0')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i)] = pair.slice(i + 1).replace(/\n$/, '');
  }
  return out;
}

/**
 * The connection of a compose request, for the settings: a placeholder until the run resolves
 * it with {@link resolveCompose}. Only what the user gave explicitly is kept: the URL's parts,
 * then PGUSER, PGDATABASE and PGPASSWORD (PGHOST and PGPORT describe the host's view: unused).
 */
export function composeRequestConnection(
  options: ComposeOptions,
  url: string | undefined,
  env: NodeJS.ProcessEnv,
  inputName: string,
): PgConnection {
  const fromUrl = url ? parseConnectionUrl(url, inputName) : {};
  const given: ComposeRequest['given'] = { ...fromUrl };
  if (given.user === undefined && env.PGUSER) given.user = env.PGUSER;
  if (given.database === undefined && env.PGDATABASE) given.database = env.PGDATABASE;
  if (given.password === undefined && env.PGPASSWORD) given.password = env.PGPASSWORD;
  return {
    host: given.host ?? '127.0.0.1',
    port: given.port ?? 5432,
    user: given.user ?? 'postgres',
    database: given.database ?? given.user ?? 'postgres',
    ...(given.password !== undefined ? { password: given.password } : {}),
    compose: { ...options, given },
  };
}

/**
 * Resolves compose mode, when requested, to a connection: the route, and who we are inside the
 * service. Credentials given win; the service's POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD
 * fill the rest. The host and port are the server's inside the container (127.0.0.1 and PGPORT
 * or 5432, unless the URL names others). A connection without a request is returned as is.
 */
export async function resolveCompose(
  conn: PgConnection,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {},
): Promise<PgConnection> {
  const request = conn.compose;
  if (!request || conn.via) return conn;
  const env = options.env ?? process.env;
  const cli = await detectComposeCli(env);
  const project = {
    cli,
    files: request.files,
    ...(request.project ? { project: request.project } : {}),
    profiles: request.profiles,
  };
  const service = await chooseService(project, request.service, env);
  const route: ComposeRoute = { ...project, service };
  const inside = await serviceEnvironment(route, env);
  const given = request.given;
  const user = given.user ?? inside.POSTGRES_USER ?? inside.PGUSER ?? 'postgres';
  const resolved: PgConnection = {
    host: given.host ?? '127.0.0.1',
    port: given.port ?? (inside.PGPORT ? Number(inside.PGPORT) : 5432),
    user,
    database: given.database ?? inside.POSTGRES_DB ?? inside.PGDATABASE ?? user,
    ...(given.sslmode ? { sslmode: given.sslmode } : {}),
    compose: request,
    via: route,
  };
  const password = given.password ?? inside.POSTGRES_PASSWORD;
  if (password) resolved.password = password;
  options.logger?.info(
    `compose mode: ${describeRoute(route)} (${[cli.command, ...cli.prefix].join(' ')}), user ${resolved.user}, database ${resolved.database}`,
  );
  return resolved;
}

// --- the SQL session's bridge ------------------------------------------------------------------

/**
 * bash inside the service connects to the server's TCP port and copies bytes both ways; when
 * either side ends, both copies stop and the socket closes (a killed client leaves no session).
 */
export const BRIDGE_SCRIPT =
  'exec 3<>"/dev/tcp/$1/$2" || exit 97; exec 4<&0; cat <&3 & r=$!; cat <&4 >&3 & w=$!; ' +
  'exec 3>&- 4<&-; wait -n; kill $r $w 2>/dev/null; exit 0';

/**
 * A socket-like stream for node-postgres (`Client({ stream })`): `connect(port, host)` starts
 * the bridge in the service and 'connect' is emitted once it runs.
 */
export class ComposeBridge extends Duplex {
  private child: ChildProcess | undefined;
  private stderr = '';

  constructor(
    private readonly route: ComposeRoute,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    super();
  }

  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  connect(port: number, host: string): this {
    const child = spawn(
      this.route.cli.command,
      composeExecArgs(this.route, [], ['bash', '-c', BRIDGE_SCRIPT, 'lms-backup-bridge', host, String(port)]),
      { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => {
      if (!this.push(d)) child.stdout!.pause();
    });
    child.stdout!.on('end', () => this.push(null));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    child.stdin!.on('error', () => {});
    child.once('spawn', () => this.emit('connect'));
    child.once('error', (error) => this.destroy(error));
    child.once('close', (code) => {
      if (code === 0 || this.destroyed) return;
      const why = lastLines(this.stderr) || `exit ${code}`;
      const e = Object.assign(
        new Error(
          code === 97
            ? `cannot reach PostgreSQL at ${host}:${port} inside ${describeRoute(this.route)} (${why})`
            : `the bridge into ${describeRoute(this.route)} ended (${why})`,
        ),
        { code: code === 97 ? 'ECONNREFUSED' : 'ECONNRESET' },
      );
      this.destroy(e);
    });
    return this;
  }

  override _read(): void {
    this.child?.stdout?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    if (!this.child?.stdin) {
      cb(new Error('bridge not connected'));
      return;
    }
    this.child.stdin.write(chunk, (error) => cb(error ?? null));
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.child?.stdin?.end();
    cb();
  }

  override _destroy(error: Error | null, cb: (error?: Error | null) => void): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
    cb(error);
  }
}

// --- pg tools in the service ------------------------------------------------------------------

/** The service's own `tool`, when it runs and is of `minMajor` or newer. */
export async function composeTool(
  tool: string,
  minMajor: number,
  route: ComposeRoute,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolInfo> {
  const r = await composeExec(route, [tool, '--version'], { env });
  const v = r.code === 0 ? parseToolVersion(r.stdout) : null;
  if (!v) {
    if (r.code !== 0 && !/not found|no such file/i.test(r.stderr + r.stdout)) throw execProblem(route, r);
    throw new ConfigError(
      `${describeRoute(route)} has no runnable ${tool} (${lastLines(r.stderr || r.stdout) || `exit ${r.code}`})`,
      {
        hint: "compose mode runs the service image's own pg tools: use an image that has them (the official postgres images do)",
      },
    );
  }
  if (v.major < minMajor) {
    throw new ConfigError(
      `${tool} ${v.version} in ${describeRoute(route)} is older than ${minMajor}, the major it must serve`,
      { hint: `restore into a service of PostgreSQL ${minMajor} or newer` },
    );
  }
  return { path: tool, ...v, compose: route };
}

/** Extracts a tar stream from stdin into a temporary directory, runs the tool there, removes the directory. */
const FILES_SCRIPT =
  'd=$(mktemp -d) || exit 125; trap \'rm -rf "$d"\' EXIT; tar -x -C "$d" || exit 125; cd "$d" || exit 125; "$@"';

/**
 * Spawns a pg tool in the service as a local binary would run with `args`. `files` (host paths
 * among `args`) are sent as a tar stream on stdin and replaced by their names in the unpacked
 * directory; the tool's stdin is then not available (no tool here reads both).
 */
export function spawnComposeTool(
  tool: ToolInfo & { compose: ComposeRoute },
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdio: StdioOptions; files?: string[] },
): ChildProcess {
  const envNames = Object.keys(options.env).filter((k) => k.startsWith('PG'));
  const files = options.files ?? [];
  if (files.length === 0) {
    return spawn(tool.compose.cli.command, composeExecArgs(tool.compose, envNames, [tool.path, ...args]), {
      env: options.env,
      stdio: options.stdio,
    });
  }
  const mapped = [...args];
  const names = files.map((file, i) => `${i}-${basename(file).replace(/[^A-Za-z0-9._-]/g, '_')}`);
  files.forEach((file, i) => {
    for (let j = 0; j < mapped.length; j++) if (mapped[j] === file) mapped[j] = names[i]!;
  });
  const stdio = Array.isArray(options.stdio)
    ? [...options.stdio]
    : [options.stdio, options.stdio, options.stdio];
  stdio[0] = 'pipe';
  const child = spawn(
    tool.compose.cli.command,
    composeExecArgs(tool.compose, envNames, [
      'sh',
      '-c',
      FILES_SCRIPT,
      'lms-backup-tool',
      tool.path,
      ...mapped,
    ]),
    { env: options.env, stdio },
  );
  child.stdin!.on('error', () => {});
  const tar = tarStream(files.map((path, i) => ({ path, name: names[i]! })));
  tar.on('error', (error) => child.kill('SIGTERM') && child.emit('error', error));
  tar.pipe(child.stdin!);
  return child;
}

/** A ustar stream of host files under the given names (regular files, no directories). */
export function tarStream(entries: { path: string; name: string }[]): Readable {
  const out = new PassThrough();
  void (async () => {
    try {
      for (const e of entries) {
        const size = statSync(e.path).size;
        out.write(tarHeader(e.name, size));
        for await (const chunk of createReadStream(e.path)) {
          if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
        }
        const pad = (512 - (size % 512)) % 512;
        if (pad) out.write(Buffer.alloc(pad));
      }
      out.end(Buffer.alloc(1024));
    } catch (error) {
      out.destroy(error as Error);
    }
  })();
  return out;
}

export function tarHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000600\0', 100, 8, 'ascii');
  h.write('0000000\0', 108, 8, 'ascii');
  h.write('0000000\0', 116, 8, 'ascii');
  // Sizes up to 8 GiB fit 11 octal digits; larger ones use the base-256 form GNU tar reads.
  if (size < 0o77777777777) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  h.write(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, '0')}\0`,
    136,
    12,
    'ascii',
  );
  h.write('        ', 148, 8, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}
