import { stuckCalls, threadsHeld } from './storage/fs-watch.js';

/** Whether a process exists (EPERM: it does, and belongs to another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends the process with `code`. process.exit() waits for libuv's pool threads, so a call stuck in
 * a hung mount (see storage/fs-watch.ts) would hold it forever. Then the process replaces itself
 * with `sh -c 'exit <code>'` instead (process.execve, Node 22.15 and newer), which ends the stuck
 * threads and still reports `code`; on an older Node it can only kill itself (exit status 137).
 * Where execve is at hand it is taken for any watched call not returned yet (one a failed run
 * left behind may be the next to hang); older Node kills itself only for a call already late.
 * Standard output and error are written synchronously on Linux: nothing printed is lost.
 */
export function endProcess(code: number): never {
  const execve = (process as { execve?: (file: string, args: string[], env?: NodeJS.ProcessEnv) => never })
    .execve;
  if (process.platform !== 'win32') {
    if (execve && threadsHeld() > 0) {
      try {
        execve('/bin/sh', ['sh', '-c', `exit ${Math.trunc(code) & 0xff}`], {});
      } catch {
        // no /bin/sh: as on older Node
      }
    }
    if (stuckCalls() > 0) process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}
