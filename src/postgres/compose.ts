import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { toolRunArgs } from '../engines/labels.js';
import { registerTeardown } from '../engines/teardown.js';
import { ConfigError, JobFailedError, PgUnreachableError } from '../errors.js';
import type { Logger } from '../log.js';
import { type PgConnection, parseConnectionUrl } from './connection.js';
import { engineSharesHost, probeImageTool } from './exec.js';
import type { ToolInfo } from './tools.js';

/**
 * Compose mode: the database is a service of a docker compose project, often with no port
 * published to the host. Compose (`docker compose`, or `docker-compose` v1) finds the project's
 * service and its container; then everything runs in sidecar containers of the service's own
 * image that join the service container's network namespace (`docker run --network
 * container:<id>`), so 127.0.0.1:<port> there is the database:
 *
 * - pg_dump, pg_restore and psql are the binaries of the image the database runs, the PG*
 *   variables passed by name (`-e PGPASSWORD`), their values only in the environment of the
 *   docker CLI, never in an argv; host files a tool reads are mounted read-only.
 * - lms-backup's own SQL session (the exporting snapshot, the exact row counts, the globals)
 *   is the same node-postgres client as for any server, over a byte bridge: perl (or bash's
 *   /dev/tcp) in a sidecar opens the server's port, and the sidecar's stdin and stdout carry
 *   the protocol.
 *
 * Nothing runs inside the database's own container: there the postmaster is often PID 1 and
 * adopts orphaned processes, and one that ends by a signal (a killed `compose exec`, a Ctrl-C)
 * makes it crash-restart the whole server (measured: docs/architecture.md).
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
  /** How the user names the service setting (--compose-service, or the compose-service input), for messages. */
  serviceInput?: string;
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
  /** The service's running container (id) and the image it runs. */
  container: string;
  image: string;
}

/** For logs, errors and the manifest: "service db of compose project shop". */
export function describeRoute(route: ComposeRoute): string {
  return `service ${route.service} of compose ${route.project ? `project ${route.project}` : `file ${route.files.join(', ') || 'in the working directory'}`}`;
}

/** The compose CLI's arguments up to the subcommand: files, project and profiles. */
export type ComposeProjectArgs = Pick<ComposeRoute, 'cli' | 'files' | 'project' | 'profiles'>;

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
  route: ComposeProjectArgs,
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
  profiles?: string[];
}

/**
 * Services whose image is a PostgreSQL one (postgres, postgis, timescaledb, …), among those
 * enabled: a service with profiles only when one of them is active (compose v1's `config`
 * lists every service, whatever the profiles).
 */
export function postgresServices(services: ServiceInfo[], activeProfiles: string[] = []): ServiceInfo[] {
  const isPg = (image: string | undefined) => {
    if (!image) return false;
    const name = image.split('@')[0]!.split('/').pop()!.split(':')[0]!;
    return /postgres|postgis|timescale|pgvector|supabase\/postgres/i.test(name);
  };
  const enabled = (s: ServiceInfo) =>
    !s.profiles?.length || s.profiles.some((p) => activeProfiles.includes(p));
  const pg = services.filter((s) => enabled(s) && isPg(s.image));
  // The same image run as something else (a sleep, a one-off psql) is not the database.
  const servers = pg.filter((s) => s.entrypoint === undefined);
  return servers.length > 0 ? servers : pg;
}

/** The project's services from `compose config` (the merged model of every file and profile). */
export async function composeServices(
  project: ComposeProjectArgs,
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
  project: ComposeProjectArgs,
  given: string | undefined,
  env: NodeJS.ProcessEnv,
  inputName = 'compose-service',
): Promise<string> {
  const services = await composeServices(project, env);
  if (given) {
    if (!services.some((s) => s.name === given)) {
      throw new ConfigError(
        `${inputName} "${given}" is not a service of this compose project (services: ${services.map((s) => s.name).join(', ') || 'none'})`,
        { hint: 'give the name of the service running PostgreSQL, as in the compose file' },
      );
    }
    return given;
  }
  const active = [...project.profiles, ...(env.COMPOSE_PROFILES ?? '').split(',').filter(Boolean)];
  const pg = postgresServices(services, active);
  if (pg.length === 1) return pg[0]!.name;
  const hint = `name the service running PostgreSQL with ${inputName}`;
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

/** The sidecar's `docker run` arguments up to the image: the service's network, our labels, PG* by name. */
export function sidecarArgs(
  route: Pick<ComposeRoute, 'container'>,
  name: string,
  envNames: string[],
  extra: string[] = [],
): string[] {
  return [
    ...toolRunArgs(name),
    '-i',
    '--network',
    `container:${route.container}`,
    ...[...envNames].sort().flatMap((n) => ['-e', n]),
    ...extra,
  ];
}

const sidecarName = (what: string) => `lms-backup-${what}-${randomBytes(6).toString('hex')}`;

/** The service's running container: `compose ps -q <service>`, then `docker inspect`. */
async function serviceContainer(
  project: ComposeProjectArgs,
  service: string,
  env: NodeJS.ProcessEnv,
): Promise<{ id: string; image: string; env: Record<string, string>; running: boolean }> {
  const where = `service ${service} of compose ${project.project ? `project ${project.project}` : 'project'}`;
  const startHint = `start it: ${[project.cli.command, ...composeGlobalArgs(project), 'up', '-d', service].join(' ')}`;
  const ps = await compose(project, ['ps', '-q', service], env, 30_000);
  const id = ps.stdout.trim().split('\n')[0]?.trim();
  if (ps.code !== 0 || !id) {
    throw new PgUnreachableError(
      `${where} is not running (${lastLines(ps.stderr) || 'compose lists no running container for it'})`,
      {
        hint: startHint,
      },
    );
  }
  const r = await run('docker', ['inspect', '--format', '{{json .}}', id], env, 30_000);
  if (r.code !== 0) throw new JobFailedError(`docker inspect ${id} failed (${lastLines(r.stderr)})`);
  const info = JSON.parse(r.stdout) as {
    Image: string;
    Config: { Image: string; Env?: string[] };
    State: { Running: boolean };
  };
  const vars: Record<string, string> = {};
  for (const pair of info.Config.Env ?? []) {
    const i = pair.indexOf('=');
    if (i > 0) vars[pair.slice(0, i)] = pair.slice(i + 1);
  }
  if (!info.State.Running) throw new PgUnreachableError(`${where} is not running`, { hint: startHint });
  // The image id, not its tag: the very binaries the database runs, even if the tag moved since.
  return { id, image: info.Image, env: vars, running: true };
}

/**
 * The service's PostgreSQL variables (POSTGRES_USER, _DB, _PASSWORD, PGPORT, …) from its
 * container's configuration; POSTGRES_PASSWORD_FILE is read in a sidecar that mounts the
 * service's volumes, since the file lives there.
 */
async function serviceCredentials(
  route: ComposeRoute,
  vars: Record<string, string>,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of ['POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_PASSWORD', 'PGPORT', 'PGUSER', 'PGDATABASE']) {
    if (vars[k]) out[k] = vars[k];
  }
  const file = vars.POSTGRES_PASSWORD_FILE;
  if (!out.POSTGRES_PASSWORD && file) {
    const r = await run(
      'docker',
      [
        ...sidecarArgs(
          route,
          sidecarName('secret'),
          [],
          ['--volumes-from', route.container, '--entrypoint', 'cat'],
        ),
        route.image,
        file,
      ],
      env,
    );
    if (r.code === 0) out.POSTGRES_PASSWORD = r.stdout.replace(/\r?\n$/, '');
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
  const service = await chooseService(project, request.service, env, request.serviceInput);
  const container = await serviceContainer(project, service, env);
  const route: ComposeRoute = { ...project, service, container: container.id, image: container.image };
  const inside = await serviceCredentials(route, container.env, env);
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
 * The bridge inside the service: connects to the server's TCP port there and copies bytes both
 * ways. With perl (in the Debian-based postgres images): one process; when the client's side
 * ends (stdin EOF, also when the compose CLI is killed), it half-closes the socket, so the
 * server ends the session, and exits when the server closes. Without perl: bash's /dev/tcp and
 * two cats (no half-close: a client killed without saying goodbye leaves its session until the
 * server notices). Exit 97: the server's port cannot be opened. Nothing is ever killed inside the
 * service's container: signals there could reach the database's own processes.
 */
export const PERL_BRIDGE = [
  'use IO::Socket::INET;',
  'my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => "tcp") or exit 97;',
  'binmode STDIN; binmode STDOUT; binmode $s;',
  'my $open = 1;',
  'sub put { my ($fh, $buf) = @_; while (length $buf) { my $w = syswrite($fh, $buf); return 0 unless defined $w; substr($buf, 0, $w, "") } 1 }',
  'while (1) {',
  '  my $rin = ""; vec($rin, fileno($s), 1) = 1; vec($rin, fileno(STDIN), 1) = 1 if $open;',
  '  my $n = select(my $rout = $rin, undef, undef, undef); next if $n < 0 && $!{EINTR}; last if $n < 0;',
  '  if (vec($rout, fileno($s), 1)) { my $r = sysread($s, my $buf, 65536); last unless $r; put(*STDOUT, $buf) or last }',
  '  if ($open && vec($rout, fileno(STDIN), 1)) { my $r = sysread(STDIN, my $buf, 65536);',
  '    if (!$r) { shutdown($s, 1); $open = 0 } else { put($s, $buf) or last } }',
  '}',
].join('\n');

export const BASH_BRIDGE = 'exec 3<>"/dev/tcp/$1/$2" || exit 97; cat <&3 & cat >&3; wait';

/** Runs under sh: perl when the image has it, else bash. Arguments: host port. */
export const BRIDGE_SCRIPT =
  'if command -v perl >/dev/null 2>&1; then exec perl -e "$BRIDGE_PERL" "$@"; fi; ' +
  'if command -v bash >/dev/null 2>&1; then exec bash -c "$BRIDGE_BASH" lms-backup-bridge "$@"; fi; ' +
  'echo "the service image has neither perl nor bash for the bridge" >&2; exit 98';

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
    const name = sidecarName('bridge');
    const child = spawn(
      'docker',
      [
        ...sidecarArgs(this.route, name, ['BRIDGE_PERL', 'BRIDGE_BASH'], ['--entrypoint', 'sh']),
        this.route.image,
        '-c',
        BRIDGE_SCRIPT,
        'lms-backup-bridge',
        host,
        String(port),
      ],
      {
        env: { ...this.env, BRIDGE_PERL: PERL_BRIDGE, BRIDGE_BASH: BASH_BRIDGE },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    // A killed run must not leave the sidecar (and its session) behind.
    const remove = () => spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore', timeout: 15_000 });
    const teardown = registerTeardown(`bridge container ${name}`, async () => void remove(), remove);
    child.once('close', () => teardown.release());
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
          code === 98
            ? `the bridge into ${describeRoute(this.route)} needs perl or bash in the service image (${why})`
            : code === 97
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
    // Ending stdin ends the bridge and so the session; a sidecar that hangs on is killed.
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
      timer.unref();
      child.once('close', () => clearTimeout(timer));
    }
    cb(error);
  }
}

// --- pg tools of the service's image ------------------------------------------------------------

/** The `tool` of the service's image, when it runs and is of `minMajor` or newer. */
export async function composeTool(
  tool: string,
  minMajor: number,
  route: ComposeRoute,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ToolInfo> {
  // The engine is asked beside the probe: a dump from the image asks it next (output-fifo.ts).
  void engineSharesHost(env);
  const { info, run: r } = await probeImageTool(tool, route.image, env);
  if (!info) {
    throw new ConfigError(
      `the image of ${describeRoute(route)} has no runnable ${tool} (${lastLines(r.stderr || r.stdout) || `exit ${r.code}`})`,
      {
        hint: "compose mode runs the service image's own pg tools: use an image that has them (the postgres images do)",
      },
    );
  }
  if (info.major < minMajor) {
    throw new ConfigError(
      `${tool} ${info.version} of ${describeRoute(route)} is older than ${minMajor}, the major it must serve`,
      { hint: `restore into a service of PostgreSQL ${minMajor} or newer` },
    );
  }
  return { ...info, compose: route };
}
