/**
 * zstd outside the archive: the stored object is age(zstd(payload)), the payload being e.g. a
 * `pg_dump -Fc -Z0` archive. Compression runs in the `zstd` binary (Debian, Ubuntu and GitHub's
 * runners have it), a process of its own, so it uses a core pg_dump and Node leave idle. Any
 * `zstd -d` reads the result: recovery needs no lms-backup.
 *
 * Which zstd: `LMS_ZSTD` names the binary (default `zstd` on PATH); `LMS_ZSTD=none` turns the
 * binary off. Without the binary, Node 22.15+ (and 24, the action's runtime) compresses with
 * its own zlib zstd on the libuv thread pool; Node 20 without the binary falls back to pg_dump's
 * own compression (`compressionFor` in src/postgres/dump.ts decides).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Readable, type Transform } from 'node:stream';
import * as zlib from 'node:zlib';
import { JobFailedError } from '../errors.js';
import { probeBinary } from '../processes.js';

/** What compresses: the zstd binary, or Node's zlib (22.15+). */
export type ZstdEngine =
  | { kind: 'binary'; path: string; version: string }
  | { kind: 'node'; version: string };

/** The outer compression of an object as the manifest records it: `zstd:<level>`. */
export interface OuterCompression {
  method: 'zstd';
  level: number;
}

export function outerLabel(c: OuterCompression): string {
  return `${c.method}:${c.level}`;
}

/** Parses a manifest's `zstd:1`; undefined for absent or `none`; throws on anything else. */
export function parseOuter(value: string | undefined): OuterCompression | undefined {
  if (value === undefined || value === 'none' || value === '') return undefined;
  const m = /^zstd(?::(\d{1,2}))?$/.exec(value);
  if (!m) {
    throw new JobFailedError(`the manifest names an outer compression "${value}" this version cannot read`, {
      hint: 'use a newer lms-backup, or follow the disaster-day runbook with the matching decompressor',
    });
  }
  return { method: 'zstd', level: m[1] === undefined ? 3 : Number(m[1]) };
}

type ZlibWithZstd = typeof zlib & {
  createZstdCompress?: (o?: { params?: Record<number, number> }) => Transform;
  createZstdDecompress?: () => Transform;
  constants: typeof zlib.constants & {
    ZSTD_c_compressionLevel?: number;
    ZSTD_c_checksumFlag?: number;
    ZSTD_c_windowLog?: number;
  };
};
const z = zlib as ZlibWithZstd;

/** Node's own zstd (22.15+, 24); undefined on Node 20. */
export function nodeHasZstd(): boolean {
  return typeof z.createZstdCompress === 'function' && typeof z.createZstdDecompress === 'function';
}

const found = new Map<string, ZstdEngine | null>();

function zstdWanted(env: NodeJS.ProcessEnv): { wanted: string; key: string } {
  const wanted = env.LMS_ZSTD?.trim() || 'zstd';
  return { wanted, key: `${wanted}\0${env.PATH ?? ''}` };
}

function engineFrom(wanted: string, status: number | null, stdout: string): ZstdEngine | null {
  const m = status === 0 ? /v(\d+\.\d+\.\d+)/.exec(stdout) : null;
  return m ? { kind: 'binary', path: wanted, version: m[1]! } : null;
}

/** The zstd binary (`LMS_ZSTD` or `zstd` on PATH) when it runs; null when absent or turned off. */
export function findZstdBinary(env: NodeJS.ProcessEnv = process.env): ZstdEngine | null {
  const { wanted, key } = zstdWanted(env);
  if (wanted === 'none') return null;
  if (found.has(key)) return found.get(key)!;
  const r = spawnSync(wanted, ['-V'], { env, encoding: 'utf8', timeout: 10_000 });
  const engine = engineFrom(wanted, r.status, r.stdout);
  found.set(key, engine);
  return engine;
}

/**
 * The same answer as findZstdBinary without blocking, remembered for it: a backup asks while
 * the database answers, so planning its compression later spawns nothing.
 */
export function probeZstdBinary(env: NodeJS.ProcessEnv = process.env): Promise<ZstdEngine | null> {
  const { wanted, key } = zstdWanted(env);
  if (wanted === 'none') return Promise.resolve(null);
  return probeBinary(found, key, wanted, ['-V'], env, (ran, stdout) =>
    engineFrom(wanted, ran ? 0 : null, stdout),
  );
}

/** The binary, else Node's zlib zstd; null when neither (Node 20 without the binary). */
export function findZstd(env: NodeJS.ProcessEnv = process.env): ZstdEngine | null {
  return (
    findZstdBinary(env) ?? (nodeHasZstd() ? { kind: 'node', version: `node ${process.versions.node}` } : null)
  );
}

export function describeZstd(e: ZstdEngine): string {
  return e.kind === 'binary' ? `zstd ${e.version} (${e.path})` : `zstd of ${e.version} (zlib)`;
}

/** A running compressor or decompressor: bytes out on `stdout`, `done` when it ended cleanly. */
export interface ZstdProcess {
  stdout: Readable;
  /** Where to write when the input is not handed over at spawn (undefined when it was). */
  stdin?: NodeJS.WritableStream;
  done: Promise<void>;
  kill(): void;
}

function fromChild(child: ChildProcess, what: string): ZstdProcess {
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(new JobFailedError(`${what} could not start: ${error.message}`, { cause: error })),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(
        new JobFailedError(`${what} ${how}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}`),
      );
    });
  });
  done.catch(() => {});
  return {
    stdout: child.stdout as Readable,
    ...(child.stdin ? { stdin: child.stdin } : {}),
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/**
 * The match window of the fast levels, raised from their 512 KiB (level 1) or 1 MiB (level 2)
 * to 2 MiB, the window level 3 already has: a COPY stream repeats itself over longer stretches
 * (a table's rows): on the bench's LMS dump level 1 comes out 0.07 % smaller for the same CPU,
 * more than age's 16 bytes per 64 KiB add. Any `zstd -d` reads it (it allows 128 MiB windows).
 */
const FAST_LEVEL_WINDOW_LOG = 21;

/** zstd's own framing with its content checksum on, so `zstd -d` (and we) detect damage. */
export function levelArgs(level: number): string[] {
  return [
    `-${level}`,
    ...(level <= 2 ? [`--zstd=wlog=${FAST_LEVEL_WINDOW_LOG}`] : []),
    '--check',
    '-q',
    '-c',
  ];
}

/**
 * zstd's worker threads: one on a machine of two cores or fewer (a 2-core runner, where the
 * database server's COPY already takes a core: a second worker only adds its overhead; one
 * zstd -1 worker outpaces a COPY stream), else one per core (`-T0`). The output is the same
 * either way: zstd frames the data the same with one worker or more.
 */
export function compressThreads(cores = availableParallelism()): number {
  return cores <= 2 ? 1 : 0;
}

/**
 * Compresses `input` (a child's stdout: handed to zstd as its stdin, a kernel pipe Node never
 * copies; or any readable, written through Node) with `level`; or, with the binary, the FIFO
 * at a path, which zstd opens itself (a container pg_dump's: postgres/output-fifo.ts).
 */
export function startZstdCompress(engine: ZstdEngine, input: Readable | string, level: number): ZstdProcess {
  if (typeof input === 'string') {
    if (engine.kind !== 'binary') throw new Error(`internal: zstd of ${engine.version} cannot open ${input}`);
    const child = spawn(engine.path, [...levelArgs(level), `-T${compressThreads()}`, '--', input], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return fromChild(child, `zstd -${level}`);
  }
  if (engine.kind === 'binary') {
    const fd = (input as Readable & { _handle?: { fd?: number } })._handle?.fd;
    const direct = typeof fd === 'number' && fd >= 0;
    const child = spawn(engine.path, [...levelArgs(level), `-T${compressThreads()}`], {
      stdio: [direct ? input : 'pipe', 'pipe', 'pipe'],
    });
    const proc = fromChild(child, `zstd -${level}`);
    // zstd holds its own copy of the pipe: close ours, or the producer's 'close' never fires.
    if (direct) input.destroy();
    else input.pipe(child.stdin!);
    return proc;
  }
  const params: Record<number, number> = {};
  if (z.constants.ZSTD_c_compressionLevel !== undefined) params[z.constants.ZSTD_c_compressionLevel] = level;
  if (z.constants.ZSTD_c_checksumFlag !== undefined) params[z.constants.ZSTD_c_checksumFlag] = 1;
  if (level <= 2 && z.constants.ZSTD_c_windowLog !== undefined) {
    params[z.constants.ZSTD_c_windowLog] = FAST_LEVEL_WINDOW_LOG;
  }
  const t = z.createZstdCompress!({ params });
  const done = new Promise<void>((resolve, reject) => {
    t.once('end', resolve);
    t.once('error', reject);
    input.once('error', reject);
  });
  done.catch(() => {});
  input.pipe(t);
  return { stdout: t, done, kill: () => t.destroy() };
}

/**
 * A decompressor fed through `stdin`: the binary when present, else Node's zlib zstd. With
 * `outputFd` (an open file) the binary writes there itself and `stdout` is undefined: the
 * payload, several times the stored size, never passes through Node.
 */
export function startZstdDecompress(env?: NodeJS.ProcessEnv): ZstdProcess;
export function startZstdDecompress(
  env: NodeJS.ProcessEnv | undefined,
  options: { outputFd: number },
): Omit<ZstdProcess, 'stdout'> & { stdout: Readable | undefined };
export function startZstdDecompress(
  env: NodeJS.ProcessEnv = process.env,
  options: { outputFd?: number } = {},
): Omit<ZstdProcess, 'stdout'> & { stdout: Readable | undefined } {
  const engine = findZstd(env);
  if (!engine) {
    throw new JobFailedError(
      'this backup is zstd-compressed outside the archive, and there is no zstd here to decompress it',
      { hint: 'install zstd (Debian/Ubuntu: "apt-get install zstd") or run on Node 22.15 or newer' },
    );
  }
  if (engine.kind === 'binary') {
    const direct = options.outputFd !== undefined;
    const child = spawn(engine.path, ['-d', '-q', '-c'], {
      stdio: ['pipe', direct ? options.outputFd! : 'pipe', 'pipe'],
    });
    child.stdin!.on('error', () => {}); // an early exit is reported through `done`
    return { ...fromChild(child, 'zstd -d'), stdout: child.stdout ?? undefined };
  }
  const t = z.createZstdDecompress!();
  const done = new Promise<void>((resolve, reject) => {
    t.once('end', resolve);
    t.once('error', (e: Error) =>
      reject(new JobFailedError(`zstd decompression failed: ${e.message}`, { cause: e })),
    );
  });
  done.catch(() => {});
  return { stdout: t, stdin: t, done, kill: () => t.destroy() };
}

/** Decompresses a whole (small) buffer, e.g. a globals object. */
export async function unzstdBuffer(data: Buffer, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const d = startZstdDecompress(env);
  const chunks: Buffer[] = [];
  d.stdout.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => d.stdout.once('end', resolve));
  Readable.from([data]).pipe(d.stdin as NodeJS.WritableStream);
  await Promise.all([d.done, ended]);
  return Buffer.concat(chunks);
}
