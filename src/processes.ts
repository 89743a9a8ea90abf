import { stuckCalls } from './storage/fs-watch.js';

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
 * Standard output and error are written synchronously on Linux: nothing printed is lost.
 */
export function endProcess(code: number, stuck: () => number = stuckCalls): never {
  if (stuck() > 0 && process.platform !== 'win32') {
    const execve = (process as { execve?: (file: string, args: string[], env?: NodeJS.ProcessEnv) => never })
      .execve;
    if (execve) {
      try {
        execve('/bin/sh', ['sh', '-c', `exit ${Math.trunc(code) & 0xff}`], {});
      } catch {
        // no /bin/sh: fall through
      }
    }
    process.kill(process.pid, 'SIGKILL');
  }
  process.exit(code);
}
