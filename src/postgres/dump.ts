import type { Readable } from 'node:stream';
import { findZstd, type ZstdEngine } from '../compress/zstd.js';
import { ConfigError, PgToolFailedError } from '../errors.js';
import { redactValue } from '../redact.js';
import { type PgConnection, pgToolEnv } from './connection.js';
import { spawnPgTool } from './exec.js';
import { bufferedPrefix } from './output-buffer.js';
import { createOutputFifo } from './output-fifo.js';
import { describeTool, type ToolInfo } from './tools.js';

/**
 * Compression for pg_dump's custom format. `auto` was chosen by measurement (README, bench):
 * pg_dump's default gzip level 6 is 2-4x slower than gzip level 1 for ~5 % more bytes, and
 * zstd level 1 (pg_dump 16+) is faster and smaller still.
 */
export type Compression = { method: 'none' | 'gzip' | 'lz4' | 'zstd'; level?: number };

export function parseCompression(value: string, inputName = 'compression'): Compression | 'auto' {
  if (value === 'auto') return 'auto';
  const m = /^(none|gzip|lz4|zstd)(?::(\d{1,2}))?$/.exec(value);
  if (!m) {
    throw new ConfigError(`${inputName} "${value}" is not a compression setting`, {
      hint: 'use auto, none, gzip[:1-9], lz4[:1-12] or zstd[:1-22] (e.g. gzip:1)',
    });
  }
  const method = m[1] as Compression['method'];
  const level = m[2] === undefined ? undefined : Number(m[2]);
  const max = { none: 0, gzip: 9, lz4: 12, zstd: 22 }[method];
  if (level !== undefined && (method === 'none' || level < 1 || level > max)) {
    throw new ConfigError(`${inputName} "${value}": level out of range for ${method}`, {
      hint: method === 'none' ? 'use plain "none"' : `use ${method}:1 to ${method}:${max}`,
    });
  }
  return level === undefined ? { method } : { method, level };
}

export function resolveCompression(choice: Compression | 'auto', pgDump: ToolInfo): Compression {
  if (choice === 'auto')
    return pgDump.major >= 16 ? { method: 'zstd', level: 1 } : { method: 'gzip', level: 1 };
  if ((choice.method === 'lz4' || choice.method === 'zstd') && pgDump.major < 16) {
    throw new ConfigError(
      `compression ${choice.method} needs pg_dump 16 or newer; this pg_dump is ${describeTool(pgDump)}`,
      { hint: 'use gzip:1 (or auto), or install a PostgreSQL 16+ client' },
    );
  }
  return choice;
}

/**
 * What compresses a backup: pg_dump itself (`archive`), and optionally zstd outside the archive
 * (`outer`, then the archive is written with `-Z0`). `auto` takes the outer zstd:1 whenever a
 * zstd is at hand (the binary, else Node 22.15+'s zlib): it runs beside pg_dump on another core,
 * so the backup goes at the speed pg_dump reads, and the bytes are fewer than pg_dump's gzip:1.
 * Without one (Node 20 and no `zstd` binary) `auto` is pg_dump's own zstd:1 (16+) or gzip:1.
 * An explicit setting (gzip:1, zstd:3, none…) is always pg_dump's own.
 */
export interface CompressionPlan {
  archive: Compression;
  outer?: { engine: ZstdEngine; level: number };
}

export function planCompression(
  choice: Compression | 'auto',
  pgDump: ToolInfo,
  env: NodeJS.ProcessEnv = process.env,
): CompressionPlan {
  if (choice === 'auto') {
    const engine = findZstd(env);
    if (engine) return { archive: { method: 'none' }, outer: { engine, level: 1 } };
  }
  return { archive: resolveCompression(choice, pgDump) };
}

export function compressionLabel(c: Compression): string {
  return c.method === 'none' ? 'none' : c.level === undefined ? c.method : `${c.method}:${c.level}`;
}

/** pg_dump's --compress argument: pg_dump 15 and older only take a gzip level. */
export function compressArg(c: Compression, pgDump: ToolInfo): string {
  if (pgDump.major < 16) return `--compress=${c.method === 'none' ? 0 : (c.level ?? 6)}`;
  return `--compress=${compressionLabel(c)}`;
}

export interface DumpProcess {
  /** The archive (from a FIFO: opened on first use; read this or `fifo`, never both). */
  readonly stdout: Readable;
  /** The FIFO the archive comes out of, for a reader that opens it itself (a container's pg_dump). */
  fifo?: string;
  /** Resolves when pg_dump exited 0; rejects with PgToolFailedError (stderr tail) otherwise. */
  done: Promise<void>;
  kill(): void;
}

/**
 * Starts `pg_dump -Fc` on stdout. The connection goes by PG* environment variables, so the
 * password never reaches argv; `snapshot` makes it dump exactly what an exporting transaction sees.
 */
export function startPgDump(
  pgDump: ToolInfo,
  conn: PgConnection,
  options: {
    compression: Compression;
    snapshot?: string;
    extraArgs?: string[];
    /** `stdbuf` (probeStdbuf): a pg_dump on this host writes its stdout in 1 MiB writes. */
    stdbuf?: string | null;
    /**
     * A pg_dump in a container writes into a FIFO of this host (engineSharesHost said the
     * engine shares it: postgres/output-fifo.ts): its stdout, redirected there in 1 MiB writes
     * where the image has `sh` and stdbuf, else the FIFO as its `--file` (pg_dump 10 and later:
     * `--no-sync`) in stdio's 4 KiB writes.
     */
    fifo?: boolean;
  },
): DumpProcess {
  const fifo = options.fifo && pgDump.image !== undefined && pgDump.major >= 10 ? createOutputFifo() : null;
  const args = [
    '--format=custom',
    compressArg(options.compression, pgDump),
    '--no-password',
    ...(options.snapshot ? [`--snapshot=${options.snapshot}`] : []),
    // Into the FIFO as a file where the image has no `sh` and stdbuf to redirect its stdout
    // there: pg_dump would fsync its output file, and a FIFO cannot be (EINVAL).
    ...(fifo && !pgDump.buffered ? ['--no-sync', `--file=${fifo.path}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawnPgTool(pgDump, args, {
    env: pgToolEnv(conn),
    stdio: ['ignore', fifo ? 'ignore' : 'pipe', 'pipe'],
    ...(options.stdbuf ? { wrapper: bufferedPrefix(options.stdbuf) } : {}),
    ...(fifo ? { writable: [fifo.dir], ...(pgDump.buffered ? { stdoutFile: fifo.path } : {}) } : {}),
  });
  // However the container ends (or if it never starts), a reader waiting for its writer is let go.
  if (fifo) child.once('close', () => fifo.release());
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new PgToolFailedError(`pg_dump could not start (${describeTool(pgDump)}): ${error.message}`, {
          cause: error,
        }),
      ),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const text = redactValue(stderr, conn.password ?? '');
      reject(
        new PgToolFailedError(
          `pg_dump ${how}${text.trim() ? `: ${text.trim().split('\n').slice(-5).join(' | ')}` : ''}`,
          {
            hint:
              fifo && text.includes(fifo.path)
                ? `the container could not write into this host's FIFO (${fifo.path}: a rootless or user-namespaced engine maps its user elsewhere); nothing was kept: set LMS_DUMP_FIFO=none to have it write to its stdout instead`
                : 'nothing was kept from this run; fix the cause above and run the backup again',
          },
        ),
      );
    });
  });
  const kill = () => {
    child.kill('SIGTERM');
  };
  if (!fifo) return { stdout: child.stdout!, done, kill };
  let stream: Readable | undefined;
  return {
    get stdout() {
      stream ??= fifo.stream();
      return stream;
    },
    fifo: fifo.path,
    done,
    kill,
  };
}
