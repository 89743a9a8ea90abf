import { type ChildProcess, execFile, type StdioOptions, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { toolRunArgs } from '../engines/labels.js';
import { registerTeardown } from '../engines/teardown.js';
import type { Logger } from '../log.js';
import { bufferedPrefix, OUTPUT_BUFFER } from './output-buffer.js';
import { parseToolVersion, type ResolvedTool, type ToolInfo } from './tools.js';

/**
 * Running pg tools wherever the resolver found them: a local binary is spawned as is; a tool
 * of an image runs in `docker run --rm --network host` with its stdout and stderr streamed
 * back, the PG* connection variables passed by name only (`-e PGPASSWORD` takes the value
 * from the docker CLI's own environment, so no secret reaches any argv), host files the tool
 * reads mounted read-only, and a Unix socket directory mounted when the host is one. A
 * container's pg_dump writes its archive into a FIFO of this host instead of its stdout where
 * the engine shares this host (postgres/output-fifo.ts).
 */

/** The images tried for a tool of `major`: the configured image (or template), else ours, then the official one. */
export function toolImageCandidates(major: number, image?: string): string[] {
  if (image) return [image.split('{major}').join(String(major))];
  return [`lms-backup/postgres:${major}`, `postgres:${major}`];
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function docker(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'docker',
      args,
      { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const e = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (e && e.code === 'ENOENT') resolve({ code: -1, stdout: '', stderr: 'no docker CLI on PATH' });
        else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const lastLine = (text: string): string => text.trim().split('\n').slice(-1)[0] ?? '';

/** Undefined when the Docker engine answers the CLI; else why not. */
export async function dockerCliProblem(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const r = await docker(['version', '--format', '{{.Server.Version}}'], env, 15_000);
  if (r.code === 0 && r.stdout.trim()) return undefined;
  return `no Docker engine answers (${lastLine(r.stderr) || `docker version exited with ${r.code}`})`;
}

const sharesHost = new Map<string, Promise<boolean>>();

/**
 * Whether the Docker engine runs on this host's kernel and files, so that a FIFO of this host
 * mounted into a container joins the two (postgres/output-fifo.ts): Linux, and an engine that
 * names itself as this host does (`docker info`'s Name). Docker Desktop's engine is its VM
 * ("docker-desktop"); a remote engine, or the runner's engine seen from a job container, has
 * another name. False on any doubt, and with LMS_DUMP_FIFO=none; asked once per engine.
 */
export function engineSharesHost(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (process.platform !== 'linux' || env.LMS_DUMP_FIFO === 'none') return Promise.resolve(false);
  const key = `${env.DOCKER_HOST ?? ''}\0${env.DOCKER_CONTEXT ?? ''}`;
  let answer = sharesHost.get(key);
  if (!answer) {
    answer = docker(['info', '--format', '{{.Name}}'], env, 15_000).then(
      (r) => r.code === 0 && r.stdout.trim() === hostname(),
    );
    sharesHost.set(key, answer);
  }
  return answer;
}

/** An image's tool asked for its version, and whether the image has `sh` and a working stdbuf. */
const BUFFERED_MARK = 'lms-backup:stdbuf';
const PROBE_SCRIPT = `"$0" --version || exit 1; if stdbuf -o${OUTPUT_BUFFER} true 2>/dev/null; then echo ${BUFFERED_MARK}; fi`;

const probed = new Map<string, { info: ToolInfo | null; run: Run }>();

/**
 * `tool --version` from `image`, and whether the image runs `sh` and coreutils' `stdbuf`
 * (`buffered`: a container pg_dump then writes its FIFO in 1 MiB writes, as a host pg_dump
 * writes its pipe: postgres/output-fifo.ts). An image without `sh` is asked again plainly.
 * Asked once per image and tool; `run` is the last docker run, for an error's text.
 */
export async function probeImageTool(
  tool: string,
  image: string,
  env: NodeJS.ProcessEnv,
): Promise<{ info: ToolInfo | null; run: Run }> {
  const key = `${image}\0${tool}`;
  const known = probed.get(key);
  if (known) return known;
  const base = ['run', '--rm', '--network', 'none', '--log-driver', 'none', '--entrypoint'];
  const shell = await docker([...base, 'sh', image, '-c', PROBE_SCRIPT, tool], env, 60_000);
  const run = shell.code === 0 ? shell : await docker([...base, tool, image, '--version'], env, 60_000);
  const v = run.code === 0 ? parseToolVersion(run.stdout) : null;
  const buffered = run === shell && run.stdout.split('\n').includes(BUFFERED_MARK);
  const result = {
    info: v ? { path: tool, ...v, image, ...(buffered ? { buffered: true as const } : {}) } : null,
    run,
  };
  probed.set(key, result);
  return result;
}

/**
 * The tool of `major` from an image: the first candidate present locally, else the last one
 * pulled. `tried` says, for the error, what did not work.
 */
export async function containerTool(
  tool: string,
  major: number,
  options: { env?: NodeJS.ProcessEnv; image?: string; logger?: Logger },
): Promise<{ tool?: ResolvedTool; tried: string[] }> {
  const env = options.env ?? process.env;
  const problem = await dockerCliProblem(env);
  if (problem) return { tried: [problem] };
  // Asked now, beside the image's probe: a dump from the image asks it next (output-fifo.ts).
  void engineSharesHost(env);
  const candidates = toolImageCandidates(major, options.image);
  const tried: string[] = [];
  const fits = async (image: string): Promise<ResolvedTool | undefined> => {
    const { info } = await probeImageTool(tool, image, env);
    if (!info) tried.push(`${image} has no runnable ${tool}`);
    else if (info.major < major) tried.push(`${image} has ${tool} ${info.version}, older than ${major}`);
    else return info;
    return undefined;
  };
  const present = new Set<string>();
  for (const image of candidates) {
    if ((await docker(['image', 'inspect', '--format', '{{.Id}}', image], env, 15_000)).code !== 0) continue;
    present.add(image);
    const found = await fits(image);
    if (found) return { tool: found, tried };
  }
  const pull = candidates[candidates.length - 1]!;
  // Present and unfit: pulling the same name again would not help.
  if (present.has(pull)) return { tried };
  options.logger?.info(`docker image ${pull} is not present locally: pulling it for ${tool}`);
  const pulled = await docker(['pull', '--quiet', pull], env, 600_000);
  if (pulled.code !== 0) {
    tried.push(
      `${candidates.join(', ')} ${candidates.length > 1 ? 'are' : 'is'} not present locally and ${pull} could not be pulled (${lastLine(pulled.stderr)})`,
    );
    return { tried };
  }
  const found = await fits(pull);
  return found ? { tool: found, tried } : { tried };
}

export interface PgToolSpawnOptions {
  /** The tool's environment (postgres/connection.ts pgToolEnv): PG* variables carry the connection. */
  env: NodeJS.ProcessEnv;
  stdio: StdioOptions;
  /** Host files named in `args` that the tool reads: mounted read-only into a container. */
  files?: string[];
  /** A command a tool on this host runs under (`stdbuf -o1M`: postgres/output-buffer.ts). */
  wrapper?: string[];
  /** Host directories the tool writes into (a dump's FIFO): mounted read-write at the same path. */
  writable?: string[];
  /**
   * A container tool's stdout redirected, inside the container, into this file (a dump's FIFO)
   * through `sh -c` and `stdbuf -o1M`: for a `buffered` tool only (probeImageTool).
   */
  stdoutFile?: string;
}

/** `sh -c` with the file and the command after it: the command's stdout into the file. */
const REDIRECT_SCRIPT = 'f=$1; shift; exec "$@" > "$f"';

/** The container's network: the host's, or a compose service's (compose mode: postgres/compose.ts). */
function networkOf(tool: ResolvedTool): string {
  return tool.compose ? `container:${tool.compose.container}` : 'host';
}

/**
 * The `docker run` arguments that run `tool` from its image as the local binary would run with
 * `args`: host files among `args` mounted read-only and replaced by their paths inside, a Unix
 * socket directory (PGHOST=/…) mounted, PG* variables passed by name only.
 */
export function containerRunArgs(
  name: string,
  tool: ResolvedTool & { image: string },
  args: string[],
  options: Pick<PgToolSpawnOptions, 'env' | 'files' | 'writable' | 'stdoutFile'>,
): string[] {
  const dockerArgs = [
    ...toolRunArgs(name),
    // The source or target is wherever this host reaches it (localhost included); in compose
    // mode, the service's own network namespace (its 127.0.0.1 is the database).
    '--network',
    networkOf(tool),
    '--entrypoint',
    options.stdoutFile ? 'sh' : tool.path,
  ];
  // The host's user: mounted files (0600) stay readable, nothing written is root's.
  if (typeof process.getuid === 'function' && typeof process.getgid === 'function') {
    dockerArgs.push('--user', `${process.getuid()}:${process.getgid()}`);
  }
  for (const key of Object.keys(options.env).sort()) {
    if (key.startsWith('PG')) dockerArgs.push('-e', key);
  }
  const pgHost = options.env.PGHOST;
  if (pgHost?.startsWith('/')) dockerArgs.push('-v', `${pgHost}:${pgHost}`);
  for (const dir of options.writable ?? []) dockerArgs.push('-v', `${dir}:${dir}`);
  const mapped = [...args];
  (options.files ?? []).forEach((file, i) => {
    const inside = `/backup/${i}-${basename(file)}`;
    dockerArgs.push('-v', `${file}:${inside}:ro`);
    for (let j = 0; j < mapped.length; j++) if (mapped[j] === file) mapped[j] = inside;
  });
  if (!options.stdoutFile) return [...dockerArgs, tool.image, ...mapped];
  const command = [...bufferedPrefix('stdbuf'), tool.path, ...mapped];
  return [
    ...dockerArgs,
    tool.image,
    '-c',
    REDIRECT_SCRIPT,
    'lms-backup-tool',
    options.stdoutFile,
    ...command,
  ];
}

/**
 * Spawns a resolved pg tool with `args`. Callers build their arguments as for a local binary;
 * for a container the host files among them are replaced by their mounted paths.
 */
export function spawnPgTool(tool: ResolvedTool, args: string[], options: PgToolSpawnOptions): ChildProcess {
  if (tool.image === undefined) {
    const [command, ...argv] = [...(options.wrapper ?? []), tool.path, ...args] as [string, ...string[]];
    return spawn(command, argv, { env: options.env, stdio: options.stdio });
  }
  const name = `lms-backup-tool-${randomBytes(6).toString('hex')}`;
  const remove = () => spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore', timeout: 15_000 });
  const teardown = registerTeardown(
    `pg tool container ${name}`,
    async () => {
      remove();
    },
    remove,
  );
  const child = spawn('docker', containerRunArgs(name, { ...tool, image: tool.image }, args, options), {
    env: options.env,
    stdio: options.stdio,
  });
  child.once('close', (code) => {
    // --rm removes it after a normal exit; a killed docker CLI may leave it running.
    if (code === 0) teardown.release();
    else void teardown.run();
  });
  return child;
}

/** Runs a resolved pg tool to completion, collecting its output. */
export function runPgTool(
  tool: ResolvedTool,
  args: string[],
  options: { env: NodeJS.ProcessEnv; files?: string[]; maxBuffer?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnPgTool(tool, args, {
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.files ? { files: options.files } : {}),
    });
    const max = options.maxBuffer ?? 256 * 1024 * 1024;
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      if (stdout.length < max) stdout += d;
    });
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < 200_000) stderr += d;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
