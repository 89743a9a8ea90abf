import { execFile } from 'node:child_process';
import { callsWithinDeadline, stuckCalls, threadsHeld } from './storage/fs-watch.js';

/** Whether a process exists (EPERM: it does, and belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let ending = false;

/**
 * Ends the process with `code`. process.exit() waits for libuv's pool threads, so a watched call
 * (storage/fs-watch.ts) still waiting in a hung mount would hold it forever, and its 'exit'
 * hooks would run while the mount is not yet known to be hung. So, with any such call:
 * - Node 22.15 and newer replace the process with `sh -c 'exit <code>'` (process.execve) at once,
 *   which ends the waiting threads and still reports `code`;
 * - older Node waits until each call has returned or passed its deadline (every one has one:
 *   at most the storage bound), then, with one still waiting, can only kill itself (exit status
 *   137); else it exits with `code`.
 * The first call decides; later ones (a signal's, while waiting) change nothing. Standard output
 * and error are written synchronously on Linux: nothing printed is lost.
 */
export function endProcess(code: number): void {
  if (ending) return;
  ending = true;
  if (process.platform === 'win32') process.exit(code);
  const execve = (process as { execve?: (file: string, args: string[], env?: NodeJS.ProcessEnv) => never })
    .execve;
  if (execve && threadsHeld() > 0) {
    try {
      execve('/bin/sh', ['sh', '-c', `exit ${Math.trunc(code) & 0xff}`], {});
    } catch {
      // no /bin/sh: as on older Node
    }
  }
  const finish = () => {
    if (stuckCalls() > 0) process.kill(process.pid, 'SIGKILL');
    process.exit(code);
  };
  const poll = () => (callsWithinDeadline() === 0 ? finish() : setTimeout(poll, 20));
  poll();
}

/**
 * Runs a helper binary once (`file` with `args`, 10 s at most) and remembers what `read` makes of
 * the outcome under `key` (the name asked for and PATH): later asks spawn nothing. Never throws,
 * and never blocks the event loop (a backup asks while the database answers).
 */
export function probeBinary<T>(
  memo: Map<string, T | null>,
  key: string,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  read: (ran: boolean, stdout: string) => T | null,
): Promise<T | null> {
  if (memo.has(key)) return Promise.resolve(memo.get(key)!);
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 10_000 }, (error, stdout) => {
      const result = read(!error, stdout);
      memo.set(key, result);
      resolve(result);
    });
  });
}
