/**
 * Bounds for file-system calls in a directory that may sit on a mount: a local destination, the
 * directory a backup stages in, a report directory. A stopped NFS or SMB server, or a FUSE daemon
 * that stopped answering, leaves a call waiting forever. Such a call cannot be cancelled: it
 * holds one of libuv's four pool threads until the mount answers. So:
 *   - each call (or short group of calls) is raced against a deadline; one that passes it fails
 *     with a StorageTimeoutError naming the directory and the bound;
 *   - the directory is then taken as hung for the rest of the run: later calls on it fail at
 *     once without touching it, so no more pool threads are lost (the run record, the spool and
 *     the logs still need them);
 *   - stuckCalls() counts the calls still waiting past their deadline, callsWithinDeadline()
 *     those not returned yet within it (one abandoned by a run that failed elsewhere, too), for
 *     endProcess(): process.exit() joins the pool threads, so it would wait for the mount too.
 * Calls made synchronously on the main thread could not be bounded at all: nothing in a
 * watched directory is done with the *Sync functions.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { FsCall } from '../files.js';
import type { StorageOperation } from './errors.js';
import { StorageTimeoutError } from './errors.js';
import { guardDownload, metadataDeadline } from './guard.js';
import {
  formatSeconds,
  STORAGE_TIMEOUT_ENV,
  type StorageTimeouts,
  storageTimeoutsFromEnv,
} from './timeouts.js';

let stuck = 0;
let onTime = 0;

/** File-system calls that passed their deadline and have not returned yet. */
export function stuckCalls(): number {
  return stuck;
}

/** Watched calls not returned yet and still within their deadline. */
export function callsWithinDeadline(): number {
  return onTime;
}

/** Pool threads held by watched calls: every call not returned yet, late or not. */
export function threadsHeld(): number {
  return onTime + stuck;
}

export class FsWatch {
  /** Set once a call passed its deadline: what it was, and how long it had waited. */
  private hung: { what: string; waitedMs: number } | undefined;

  constructor(
    readonly root: string,
    readonly timeouts: StorageTimeouts,
  ) {}

  /** How long one call may take: the longest any storage call may go without an answer. */
  get deadlineMs(): number {
    return metadataDeadline(this.timeouts);
  }

  get isHung(): boolean {
    return this.hung !== undefined;
  }

  /**
   * Runs `fn` (file-system calls under the root) within the deadline. `what` names the call
   * ("stat", "fsync"), `operation` and `key` what it was for, for the message.
   */
  run<T>(
    what: string,
    operation: StorageOperation,
    key: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    if (this.hung) return Promise.reject(this.error(operation, key, true));
    return new Promise<T>((resolve, reject) => {
      let late = false;
      onTime++;
      const timer = setTimeout(() => {
        late = true;
        onTime--;
        stuck++;
        this.hung ??= { what, waitedMs: this.deadlineMs };
        reject(this.error(operation, key, false));
      }, this.deadlineMs);
      const settle = () => {
        if (late) stuck--;
        else {
          onTime--;
          clearTimeout(timer);
        }
      };
      fn().then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  /** Runs each file-system call given it (for `operation` on `key`) through run(). */
  calls(operation: StorageOperation, key?: string): FsCall {
    return (what, fn) => this.run(what, operation, key, fn);
  }

  /**
   * A read stream under the root that fails (and marks the root hung) when no data arrives for
   * the deadline while its reader wants some. The read it waited for stays stuck (counted).
   */
  guardRead(stream: Readable, key: string): Readable {
    let waiting = false;
    stream.once('close', () => {
      if (waiting) stuck--;
      waiting = false;
    });
    return guardDownload(stream, this.deadlineMs, (waitedMs) => {
      if (!stream.closed) {
        waiting = true;
        stuck++;
      }
      this.hung ??= { what: 'read', waitedMs };
      return this.error('get', key, false);
    });
  }

  private error(operation: StorageOperation, key: string | undefined, earlier: boolean): StorageTimeoutError {
    const { what, waitedMs } = this.hung!;
    const where = `${this.root}: ${operation}${key ? ` ${key}` : ''} failed`;
    const why = earlier
      ? `the file system stopped answering earlier in this run (a ${what} call got no answer within ${formatSeconds(waitedMs)})`
      : `the file system stopped answering (a ${what} call got no answer within ${formatSeconds(waitedMs)})`;
    return new StorageTimeoutError(`${where}: ${why}`, {
      location: this.root,
      operation,
      ...(key ? { key } : {}),
      attempts: 1,
      silentMs: waitedMs,
      boundMs: this.timeouts.totalMs,
      hint:
        `check the mount that holds ${this.root} (its NFS or SMB server, the network to it, a FUSE daemon), then run again; ` +
        `a call into a hung mount cannot be cancelled, so lms-backup ends without waiting for it. ` +
        `If the disk is only slow, raise ${STORAGE_TIMEOUT_ENV} (seconds, now ${this.timeouts.totalMs / 1000})`,
    });
  }
}

const watches = new Map<string, FsWatch>();

/**
 * The watch of the directory `root` (an absolute path), shared by everything in the process
 * that works there: a backup stages in its local destination's db/ under that destination's
 * watch, so a mount that hangs is found once and named by its destination. The first caller's
 * timeouts hold (by default, those of LMS_BACKUP_STORAGE_TIMEOUT).
 */
export function fsWatchFor(root: string, timeouts?: StorageTimeouts): FsWatch {
  let watch = watches.get(root);
  if (!watch) {
    watch = new FsWatch(root, timeouts ?? storageTimeoutsFromEnv(process.env));
    watches.set(root, watch);
  }
  return watch;
}

/** Whether this run found the directory `root` not answering (without making a watch for it). */
export function isHungDirectory(root: string): boolean {
  return watches.get(root)?.isHung ?? false;
}

/**
 * Whether `path` (a local destination's root) is a directory; within its watch's deadline.
 * `operation` names what it is asked for, in the error of a mount that stopped answering.
 */
export function directoryExists(path: string, operation: StorageOperation = 'list'): Promise<boolean> {
  return fsWatchFor(path).run('stat', operation, undefined, () =>
    stat(path).then(
      (st) => st.isDirectory(),
      () => false,
    ),
  );
}
