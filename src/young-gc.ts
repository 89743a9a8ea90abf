/**
 * A young-generation GC after every so many bytes of a stream, to bound what its dead buffers
 * hold. Each piece of a dump (a pipe read, each chunk age seals) is a new buffer whose bytes live
 * outside V8's heap. The pieces die within milliseconds, but their bytes are freed only at a GC,
 * and a stream allocates almost nothing on the heap itself: on Node 24 no young-generation GC
 * came for seconds, and the dead bytes piled up until V8's external-memory limit (some 64 MiB)
 * started full GCs. A backup's peak RSS was 143-152 MiB that way.
 *
 * The step is 4 MiB. Measured on a 122 MiB dump (alternating runs): every 16 MiB, a backup's
 * peak was 96 MiB on Node 20 and 110 MiB on Node 24; every 4 MiB, 76 and 87 MiB, with the same
 * wall and CPU time (6 runs each). On Node 20 the step also ends the full GCs the external
 * memory started (7 a backup, then 1). A verify's peak went from 103/108 to 87/91 MiB. A step
 * of 1 MiB costs more than it saves: the pieces still waiting to be written live through two
 * GCs, are moved to the old generation, and are freed only by full GCs again. The GC is run
 * only when the buffers, live and dead, hold more than the step.
 * Run by a durable file as it writes (the staged dump) and by the one-pass fetch as it downloads.
 *
 * The GC is V8's own `gc` function, exposed for this process at first use (`--expose-gc`, set at
 * run time, is read when a context is made). Where that fails nothing is done, and the memory is
 * what it was.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' }) => void;

let gc: Gc | null | undefined;

function youngGc(): Gc | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const fn = runInNewContext('gc') as unknown;
      gc = typeof fn === 'function' ? (fn as Gc) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** Bytes of a stream between two young-generation GCs. */
export const YOUNG_GC_EVERY = 4 << 20;

/**
 * Counts a stream's bytes; each `every` bytes, runs a young-generation GC if the process's
 * buffers hold more than `every` bytes.
 */
export function youngGcEvery(every = YOUNG_GC_EVERY): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since %= every;
    if (process.memoryUsage().arrayBuffers > every) youngGc()?.({ type: 'minor' });
  };
}
