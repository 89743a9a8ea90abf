/**
 * A young-generation GC after every so many bytes of a stream, to bound what its dead buffers
 * hold. Each piece of a dump (a pipe read, each chunk age seals) is a new buffer whose bytes live
 * outside V8's heap. The pieces die within milliseconds, but their bytes are freed only at a GC,
 * and a stream allocates almost nothing on the heap itself: on Node 24 no young-generation GC
 * came for seconds, and the dead bytes piled up until V8's external-memory limit (some 64 MiB)
 * started full GCs. A backup's peak RSS was 143-152 MiB that way; with a young-generation GC
 * every 16 MiB written, 113-122 MiB, at no wall time measurable (6 alternating runs); the CPU it
 * costs is some 20 ms of GC pauses and 70 ms of V8's background GC threads per 400 MiB dump. The GC is run only when the buffers, live and dead, hold more
 * than the step: Node 20, whose young generation fills sooner, rarely gets there, and stays at
 * 99 MiB with the GCs it had.
 * Run by a durable file as it writes (the staged dump) and by the one-pass fetch as it downloads
 * (a verify's peak on Node 24: 136-145 MiB without, 115-118 MiB with).
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
export const YOUNG_GC_EVERY = 16 << 20;

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
