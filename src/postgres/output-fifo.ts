/**
 * A pg_dump in a container writes its archive into a FIFO of this host, mounted into the
 * container at the same path, not to its stdout. What a container writes to stdout goes from
 * its shim through the Docker engine to the docker CLI: on the bench database that relay made a
 * container's `pg_dump -Fc -Z0` (334 MB) take 7.0 s where the same pg_dump writing inside the
 * container took 3.9 s. Through a FIFO the archive goes from pg_dump to its reader (zstd, or
 * this process) in the kernel, as from a pg_dump on this host: with zstd -1, 5.1 s against the
 * host pg_dump's 5.0 s; 4.4 s where the image has `sh` and stdbuf, which redirect pg_dump's
 * stdout into the FIFO in 1 MiB writes (a FIFO opened as pg_dump's `--file` gets stdio's 4 KiB).
 *
 * It needs an engine on this host's kernel and files (engineSharesHost in postgres/exec.ts):
 * elsewhere the FIFO on the engine's side would lead nowhere, and pg_dump writes to stdout.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { registerTeardown } from '../engines/teardown.js';

export interface OutputFifo {
  /** The FIFO (in a private directory, mounted into the container at the same path). */
  path: string;
  dir: string;
  /** A stream of what comes out (opens the FIFO): for a reader that does not open it itself. */
  stream(): Readable;
  /**
   * The writer has gone (the container ended, or never started): a reader still waiting for it
   * in open(2) is let go (it reads an end of file), and the directory is removed. Idempotent.
   */
  release(): void;
}

/** A FIFO for one tool's output; null where none can be made (no `mkfifo`). */
export function createOutputFifo(): OutputFifo | null {
  const dir = mkdtempSync(join(tmpdir(), 'lms-dump-'));
  const path = join(dir, 'archive');
  const made = spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore', timeout: 10_000 });
  if (made.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Opened read-write, a FIFO never blocks (Linux): a reader blocked in open(2) returns now,
    // and one that comes after the unlink finds no file. Once closed it has no writer left: the
    // reader gets what the writer left in the pipe, then an end of file.
    let fd: number | undefined;
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true });
    if (fd !== undefined) closeSync(fd);
    teardown.release();
  };
  const teardown = registerTeardown(
    `dump FIFO ${dir}`,
    async () => release(),
    () => release(),
  );
  return {
    path,
    dir,
    stream: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
    release,
  };
}
