/**
 * pg_dump writes its archive through C stdio, and stdio sizes the buffer of a pipe by the
 * pipe's st_blksize: 4 KiB. A 400 MB dump into a pipe is then some 90,000 write(2) calls, and
 * whatever reads the pipe (zstd, or Node) wakes for nearly every one: on a 2-core runner,
 * where the database server's COPY already takes one core, that is CPU the dump pipeline
 * does not have (the bench's `LMS_STDBUF=none` row: about 0.9 s of CPU on a 363 MB archive).
 *
 * coreutils' `stdbuf -o1M` gives pg_dump's stdout a 1 MiB buffer (its libstdbuf, preloaded,
 * calls setvbuf before pg_dump's main): the same bytes in 1 MiB writes. It is used when a
 * `stdbuf` here runs a program with that buffer (Linux with coreutils: Debian, Ubuntu and
 * GitHub's runners have it), asked once per process; otherwise pg_dump runs as it is, as
 * before. `LMS_STDBUF` names another binary; `LMS_STDBUF=none` turns it off. A pg_dump in a
 * container goes through its image's own stdbuf, where the image has one and `sh` to redirect
 * its stdout into the dump's FIFO (postgres/exec.ts probeImageTool, postgres/output-fifo.ts).
 */
import { probeBinary } from '../processes.js';

/** pg_dump's stdout buffer: large enough that a write costs little next to its bytes. */
export const OUTPUT_BUFFER = '1M';

const found = new Map<string, string | null>();

/**
 * The stdbuf binary (`LMS_STDBUF`, else `stdbuf` on PATH) when it runs a program with the
 * buffer set, else null (absent, turned off, not Linux, or a stdbuf whose preload library is
 * missing: it then fails before running anything, exit 125). Never throws.
 */
export function probeStdbuf(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const wanted = env.LMS_STDBUF?.trim() || 'stdbuf';
  if (wanted === 'none' || process.platform !== 'linux') return Promise.resolve(null);
  return probeBinary(
    found,
    `${wanted}\0${env.PATH ?? ''}`,
    wanted,
    [`-o${OUTPUT_BUFFER}`, 'true'],
    env,
    (ran) => (ran ? wanted : null),
  );
}

/** The argv prefix that runs a program through `stdbuf` with pg_dump's buffer. */
export function bufferedPrefix(stdbuf: string): string[] {
  return [stdbuf, `-o${OUTPUT_BUFFER}`];
}
