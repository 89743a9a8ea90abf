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
 * The first stream also sets when V8 starts marking for a full GC (`MARKING_TRIGGERS` below).
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
 * When V8 starts marking the old generation for a full GC. Node 24's V8 (13.6) started it 10-21
 * times in one backup, each full GC freeing next to nothing of a heap of some 10 MiB: its check
 * of the old generation's room, run at every young-generation GC and old-space allocation,
 * fired for so small a heap nearly every time (the same backup started with
 * `--initial-old-space-size=32` ran none). With these triggers marking starts once the old
 * generation has used 80 % of the room it may grow by (at once at 95 %), and V8's limits stay
 * as they are. Measured on a 122 MiB dump, 6 alternating runs: Node 24 0-1 full GCs instead of
 * 20, 4.06 CPU-seconds instead of 4.73 and 4.50 s instead of 5.10; Node 20 the same within the
 * noise. V8 reads the two flags at each check, so setting them at run time takes effect (an
 * action cannot start its Node with flags). `LMS_V8_MARKING=default` leaves V8's own rule (the
 * bench compares the two).
 */
const MARKING_TRIGGERS = ['--incremental-marking-soft-trigger=80', '--incremental-marking-hard-trigger=95'];

let markingSet = false;

function setMarkingTriggers(): void {
  if (markingSet) return;
  markingSet = true;
  if (process.env.LMS_V8_MARKING === 'default') return;
  try {
    for (const flag of MARKING_TRIGGERS) setFlagsFromString(flag);
  } catch {
    // V8 keeps its own rule.
  }
}

/**
 * Counts a stream's bytes; each `every` bytes, runs a young-generation GC if the process's
 * buffers hold more than `every` bytes. The first stream also sets when V8 starts marking.
 */
export function youngGcEvery(every = YOUNG_GC_EVERY): (bytes: number) => void {
  setMarkingTriggers();
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since %= every;
    if (process.memoryUsage().arrayBuffers > every) youngGc()?.({ type: 'minor' });
  };
}
