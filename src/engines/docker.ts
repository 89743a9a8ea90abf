import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, isIP } from 'node:net';
import type { PostgreSqlContainer, StartedPostgreSqlContainer } from '@testcontainers/postgresql';
import type { BoundPorts, ContainerRuntimeClient, WaitStrategy } from 'testcontainers';
import { ConfigError, JobFailedError, PgConnectionConfigError, PgUnreachableError } from '../errors.js';
import { nullLogger } from '../log.js';
import { connect, serverInfo } from '../postgres/client.js';
import type { PgConnection } from '../postgres/connection.js';
import { dockerCliProblem } from '../postgres/exec.js';
import { redactValue } from '../redact.js';
import { dockerRunId, RUN_ID_LABEL, THROWAWAY_LABEL } from './labels.js';
import { registerTeardown } from './teardown.js';
import { restoreTuningArgs } from './tuning.js';
import type { StartOptions, ThrowawayPostgres } from './types.js';

export { dockerRunId, RUN_ID_LABEL, THROWAWAY_LABEL } from './labels.js';

export const DEFAULT_DOCKER_MAJOR = 15;
const POSTGRES_PORT = 5432;
const BUILD_HINT =
  'build it locally with "bash scripts/build-postgres-image.sh" (no registry needed), ' +
  'pull it where a registry is reachable, or configure another image';

/** No Docker engine answers (exit 2: pick the local engine or start Docker). */
export class DockerUnavailableError extends ConfigError {}

/** The image is not present locally and could not be pulled. */
export class DockerImageUnavailableError extends ConfigError {
  readonly image: string;
  constructor(image: string, options: { cause?: unknown } = {}) {
    super(`docker image "${image}" is not available locally and could not be pulled`, {
      ...options,
      hint: BUILD_HINT,
    });
    this.image = image;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The exports of a CommonJS package loaded with import(): Node gives them as named exports and
 * as `default`; the split bundle (scripts/build.mjs) only as `default`. Loaded lazily: only
 * runs that use Docker parse Testcontainers.
 */
function commonJs<T extends object>(loaded: T): T {
  return (loaded as { default?: T }).default ?? loaded;
}

async function testcontainers(): Promise<typeof import('testcontainers')> {
  return commonJs(await import('testcontainers'));
}

/** Testcontainers' client for the engine it finds (DOCKER_HOST, docker context, the socket). */
async function runtimeClient(timeoutMs = 10_000): Promise<ContainerRuntimeClient> {
  try {
    const { getContainerRuntimeClient } = await testcontainers();
    return await withTimeout(getContainerRuntimeClient(), timeoutMs, 'the Docker engine');
  } catch (error) {
    throw new DockerUnavailableError('no Docker engine answers', {
      hint:
        'start Docker (on a Debian machine as root: "bash scripts/start-docker.sh"), set DOCKER_HOST, ' +
        'or use the local engine',
      cause: error,
    });
  }
}

/** Whether a Docker engine answers. Quick, never throws. */
export async function dockerAvailable(timeoutMs = 5_000): Promise<boolean> {
  return (await dockerProblem(timeoutMs)) === undefined;
}

/**
 * Undefined when a Docker engine answers both the docker CLI (which pg tool containers use,
 * and which honours DOCKER_HOST strictly) and Testcontainers; else why not, in a line. Never throws.
 */
export async function dockerProblem(timeoutMs = 5_000): Promise<string | undefined> {
  const cli = await dockerCliProblem();
  if (cli) return cli;
  try {
    await runtimeClient(timeoutMs);
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : '';
    return `no Docker engine answers${detail ? ` (${detail.split('\n')[0]})` : ''}`;
  }
}

/** Testcontainers' reaper (Ryuk) could not start: its image cannot be pulled, or it cannot reach the engine. */
export class DockerReaperError extends DockerUnavailableError {}

/**
 * Starts (or finds) Testcontainers' reaper before our container, so that its failure is
 * known as such whatever the message says (usually only the pull's error).
 */
async function ensureReaper(client: ContainerRuntimeClient): Promise<void> {
  if (process.env.TESTCONTAINERS_RYUK_DISABLED === 'true') return;
  const { getReaper } = await testcontainers();
  try {
    await getReaper(client);
  } catch (error) {
    const image = process.env.RYUK_CONTAINER_IMAGE || 'testcontainers/ryuk';
    throw new DockerReaperError(
      `Testcontainers' reaper (Ryuk, image ${image}) could not start: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint:
          'set TESTCONTAINERS_RYUK_DISABLED=true where the reaper image cannot be pulled or run: ' +
          "lms-backup removes its own containers (labelled lms-backup.throwaway) on exit, and the action's post step sweeps leftovers",
        cause: error,
      },
    );
  }
}

/** Whether `image` is present in the local engine (no pull). False when Docker does not answer. */
export async function dockerImageExists(image: string): Promise<boolean> {
  return (await imageEnvironment(image)) !== undefined;
}

/** The environment `image` sets (`NAME=value` each), when it is present in the local engine. */
async function imageEnvironment(image: string): Promise<string[] | undefined> {
  try {
    const client = await runtimeClient();
    const { ImageName } = await testcontainers();
    const dockerode = client.container.dockerode;
    return (await dockerode.getImage(ImageName.fromString(image).string).inspect()).Config?.Env ?? [];
  } catch {
    return undefined;
  }
}

/**
 * A throwaway's initdb need not force its thousand-odd files to disk: `--no-sync` after the
 * image's own POSTGRES_INITDB_ARGS (a locale or checksums it sets stay), which the official
 * image's entrypoint passes on to initdb. Nothing when the server is durable, or when the image
 * is not here yet and its own arguments are unknown.
 */
function initdbEnvironment(
  imageEnv: string[] | undefined,
  durable: boolean | undefined,
): Record<string, string> {
  if (durable || imageEnv === undefined) return {};
  const own = imageEnv
    .find((e) => e.startsWith('POSTGRES_INITDB_ARGS='))
    ?.slice('POSTGRES_INITDB_ARGS='.length);
  return { POSTGRES_INITDB_ARGS: own?.trim() ? `${own} --no-sync` : '--no-sync' };
}

/** Removes a container (by id or name) with its anonymous volumes; gone already is fine. */
async function removeContainer(client: ContainerRuntimeClient, idOrName: string): Promise<void> {
  try {
    await client.container.dockerode.getContainer(idOrName).remove({ force: true, v: true });
  } catch (error) {
    // 409: removal already in progress (e.g. a signal's teardown racing stop()).
    const status = (error as { statusCode?: number })?.statusCode;
    if (status !== 404 && status !== 409) throw error;
  }
}

/** The official image's data directory (15 to 17), where an image does not set PGDATA. */
const DEFAULT_PGDATA = '/var/lib/postgresql/data';

/** How long a throwaway's files may take to delete before the container is removed anyway. */
const DELETE_FILES_MS = 60_000;

/**
 * Deletes the server's files inside a running throwaway container, before it is removed. When a
 * container stops, the engine unmounts its overlay file system, and that unmount syncs the file
 * system beneath it (the host's, where the volumes are too): every page the restore dirtied (with
 * fsync off, nearly all of them) is first written to disk, only to be deleted. On the bench's
 * restore (540 MB of files) the removal took 3.4 s, 2.4 of them in that sync; deleting
 * the files first leaves the kernel nothing to write. Needs `rm` in the image; where the exec
 * fails or takes too long, the container is removed as it is.
 */
async function deleteServerFiles(client: ContainerRuntimeClient, name: string): Promise<void> {
  const container = client.container.dockerode.getContainer(name);
  const env: string[] = (await container.inspect()).Config?.Env ?? [];
  const pgdata = env.find((e) => e.startsWith('PGDATA='))?.slice('PGDATA='.length) || DEFAULT_PGDATA;
  const exec = await container.exec({
    Cmd: ['rm', '-rf', '--', pgdata],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
      stream.resume();
    }),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DELETE_FILES_MS);
    }),
  ]);
  clearTimeout(timer);
  stream.destroy();
}

/**
 * Removes every container this engine labelled (of one run, or of all runs), whatever its
 * state. For the action's post step and CI clean-up. Returns how many were removed.
 */
export async function removeLeftoverContainers(runId?: string): Promise<number> {
  const client = await runtimeClient();
  const labels = [`${THROWAWAY_LABEL}=true`];
  if (runId !== undefined) labels.push(`${RUN_ID_LABEL}=${runId}`);
  const containers = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: labels },
  });
  let removed = 0;
  for (const c of containers) {
    await removeContainer(client, c.Id);
    removed++;
  }
  return removed;
}

type DockerContainer = Parameters<WaitStrategy['waitUntilReady']>[0];

/** The last lines a container logged (stdout and stderr, demultiplexed). */
async function logTail(container: DockerContainer, lines = 20): Promise<string> {
  try {
    const raw = (await container.logs({ stdout: true, stderr: true, tail: lines })) as unknown as Buffer;
    const out: Buffer[] = [];
    // Without a TTY, Docker frames each chunk: 1 byte stream, 3 bytes padding, 4 bytes length.
    for (let at = 0; at + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(at + 4);
      out.push(raw.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    return Buffer.concat(out).toString('utf8').trimEnd();
  } catch {
    return '(no logs)';
  }
}

/** The exit code and log tail of a container that stopped, by name; undefined if it runs or is gone. */
function exitedState(name: string): { code: string; logs: string } | undefined {
  const state = spawnSync('docker', ['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', name], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const [running, code] = (state.stdout ?? '').trim().split(' ');
  if (state.status !== 0 || running !== 'false') return undefined;
  const logs = spawnSync('docker', ['logs', '--tail', '20', name], { encoding: 'utf8', timeout: 10_000 });
  return { code: code ?? '?', logs: `${logs.stdout ?? ''}${logs.stderr ?? ''}`.trim() };
}

/**
 * Ready when PostgreSQL takes a connection on the published port, tried from here every 50 ms.
 * The entrypoint's setup server listens on its socket only, so the first connection that gets
 * in is the real server's. A Docker health check would have the engine start a process in the
 * container at each try (pg_isready, four times a second): CPU that a 2-core runner's download
 * and the container's initdb need, and up to an interval's wait once the server is up. Unlike
 * Testcontainers' waits, fails at once, with the container's last log lines, when the container
 * exits, instead of waiting out the whole startup timeout.
 */
class ReadyOrExitedWait implements WaitStrategy {
  private timeoutMs = 120_000;
  private timeoutSet = false;

  /** `target`: the connection to try, given the port the container's 5432 is published on. */
  constructor(private readonly target: (port: number) => PgConnection) {}

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }
  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: DockerContainer, boundPorts: BoundPorts): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const conn = this.target(boundPorts.getBinding(POSTGRES_PORT));
    let inspectedAt = 0;
    for (;;) {
      if (Date.now() - inspectedAt >= 250) {
        const state = (await container.inspect()).State;
        inspectedAt = Date.now();
        if (!state.Running) {
          throw new Error(
            `the container exited (code ${state.ExitCode}) before PostgreSQL was ready; its last log lines:\n` +
              (await logTail(container)),
          );
        }
      }
      try {
        const client = await connect(conn, { timeoutMs: 2000 });
        await client.end().catch(() => {});
        return;
      } catch (error) {
        // The server answered and refused (the password, the database): it is up; the caller's
        // own connection reports why.
        if (error instanceof PgConnectionConfigError) return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `PostgreSQL did not take a connection within ${Math.round(this.timeoutMs / 1000)} s; ` +
            `the container's last log lines:\n${await logTail(container)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The server took a connection already (ReadyOrExitedWait); a published port may still blink on some hosts. */
async function connectWithRetry(
  connection: PgConnection,
  attempts = 5,
): Promise<Awaited<ReturnType<typeof connect>>> {
  for (let i = 1; ; i++) {
    try {
      return await connect(connection, { timeoutMs: 10_000 });
    } catch (error) {
      if (i >= attempts || !(error instanceof PgUnreachableError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300 * i));
    }
  }
}

function durabilityArgs(durable: boolean | undefined): string[] {
  if (durable) return [];
  // A throwaway server: losing it on a crash costs nothing, waiting for the disk costs time.
  return ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off'];
}

/**
 * Whether the engine publishes ports in this machine's own network namespace, so that a port
 * bound to 127.0.0.1 is reachable here. Testcontainers reports the bridge gateway instead of
 * localhost whenever /.dockerenv exists (e.g. a CI machine that is itself a container but runs
 * its own dockerd): that gateway being one of our own addresses means the same thing.
 */
async function publishesHere(host: string): Promise<boolean> {
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return true;
  if (!isIP(host)) return false;
  // Bindable = assigned to an interface here (os.networkInterfaces() omits docker0 while no
  // container is attached to it).
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Starts PostgreSQL in a container (Testcontainers' PostgreSqlContainer): image `opts.image`
 * or `postgres:<major>`, superuser `postgres` with a random password, durability off unless
 * `opts.durable`, published on a loopback port when the engine is local. The container is
 * labelled, and removed on stop(), on failure, and on exit or SIGINT/SIGTERM/SIGHUP.
 */
export async function startDockerPostgres(opts: StartOptions = {}): Promise<ThrowawayPostgres> {
  const logger = opts.logger ?? nullLogger;
  const image = opts.image ?? `postgres:${opts.major ?? DEFAULT_DOCKER_MAJOR}`;
  const client = await runtimeClient();
  const imageEnv = await imageEnvironment(image);
  const hadImage = imageEnv !== undefined;
  if (!hadImage) logger.info(`docker image ${image} is not present locally: pulling it`);

  const { PostgreSqlContainer } = commonJs(await import('@testcontainers/postgresql'));
  const password = randomBytes(24).toString('base64url');
  const name = `lms-backup-pg-${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const runId = dockerRunId();
  const bindLoopback = await publishesHere(client.info.containerRuntime.host);
  // Published on 127.0.0.1 only (and "localhost" could resolve to ::1 first).
  const reachAt = bindLoopback ? '127.0.0.1' : client.info.containerRuntime.host;

  // Registered before the container exists, by name: a signal during start-up removes it too.
  const teardown = registerTeardown(
    `docker container ${name}`,
    () => removeContainer(client, name),
    () => {
      spawnSync('docker', ['rm', '-f', '-v', name], { stdio: 'ignore', timeout: 15_000 });
    },
  );

  const container = new (class extends PostgreSqlContainer {
    override async start(): Promise<StartedPostgreSqlContainer> {
      if (bindLoopback) {
        // Testcontainers publishes on all interfaces; a throwaway server stays on loopback.
        this.hostConfig.PortBindings = {
          ...this.hostConfig.PortBindings,
          [`${POSTGRES_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }],
        };
      }
      return super.start();
    }
  })(image) as PostgreSqlContainer;
  container
    .withName(name)
    .withLabels({ [THROWAWAY_LABEL]: 'true', [RUN_ID_LABEL]: runId })
    .withUsername('postgres')
    .withPassword(password)
    .withDatabase(opts.database ?? 'postgres')
    .withEnvironment(initdbEnvironment(imageEnv, opts.durable))
    .withCommand(['postgres', ...durabilityArgs(opts.durable), ...(opts.restore ? restoreTuningArgs() : [])])
    // No health check ("NONE" turns the image's off too; Testcontainers' type does not list it):
    // PostgreSqlContainer's default one would carry the password in the container's config, and
    // any runs a process in the container at each try. Readiness is asked from here.
    .withHealthCheck({ test: ['NONE'] as unknown as ['CMD'] })
    .withWaitStrategy(
      new ReadyOrExitedWait((port) => ({
        host: reachAt,
        port,
        user: 'postgres',
        database: 'postgres',
        password,
      })),
    )
    .withStartupTimeout(120_000);

  try {
    await ensureReaper(client);
  } catch (error) {
    teardown.release();
    throw error;
  }
  let started: StartedPostgreSqlContainer;
  try {
    logger.info(`starting a PostgreSQL container from ${image}`);
    started = await container.start();
  } catch (error) {
    // Testcontainers may give up waiting for the port bindings of a container that already
    // exited: say so, with its own last words, before it is removed.
    const exited = exitedState(name);
    await teardown.run().catch(() => {});
    if (exited && !/exited/.test(String((error as Error)?.message))) {
      (error as Error).message =
        `the container exited (code ${exited.code}) before PostgreSQL was ready; its last log lines:\n${exited.logs}`;
    }
    if (!hadImage && !(await dockerImageExists(image))) {
      throw new DockerImageUnavailableError(image, { cause: error });
    }
    const message = redactValue(error instanceof Error ? error.message : String(error), password);
    if (/ryuk/i.test(message)) {
      throw new DockerUnavailableError(`Testcontainers' Ryuk reaper could not start: ${message}`, {
        hint: 'set TESTCONTAINERS_RYUK_DISABLED=true where its image cannot be pulled (lms-backup removes its own containers)',
      });
    }
    throw new JobFailedError(`PostgreSQL container from ${image} did not start: ${message}`, {
      hint:
        `check that ${image} runs PostgreSQL like the official postgres image ` +
        '(POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, "postgres -c name=value" arguments, pg_isready)',
    });
  }

  const id = started.getId();
  const connection: PgConnection = {
    host: reachAt,
    port: started.getPort(),
    user: 'postgres',
    database: 'postgres',
    password,
  };
  let info: { version: string; major: number };
  try {
    const pg = await connectWithRetry(connection);
    try {
      info = await serverInfo(pg);
    } finally {
      await pg.end().catch(() => {});
    }
  } catch (error) {
    await teardown.run().catch(() => {});
    const message = redactValue(error instanceof Error ? error.message : String(error), password);
    throw new JobFailedError(`PostgreSQL container from ${image} started but does not answer: ${message}`);
  }
  if (opts.major !== undefined && info.major !== opts.major) {
    logger.warn(`docker image ${image} runs PostgreSQL ${info.version}, not major ${opts.major}`);
  }
  const description = `docker ${image} (${id.slice(0, 12)})`;
  logger.debug(`started ${description} on ${connection.host}:${connection.port}`);

  return {
    engine: 'docker',
    connection,
    serverVersion: info.version,
    major: info.major,
    description,
    // A signal's teardown removes the container at once (the registered teardown); a stop
    // deletes a throwaway's files first (deleteServerFiles).
    stop: async () => {
      if (!opts.durable) await deleteServerFiles(client, name).catch(() => {});
      await teardown.run();
    },
  };
}
