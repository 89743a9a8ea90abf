/**
 * The last line of defence for the adapters: a thrown value that is not one of our typed errors
 * becomes one when its cause is known (a system call's errno, a PostgreSQL error); anything else
 * is a bug, shown as "internal error: <message>" with the path of a log file holding the stack,
 * never as a raw stack trace.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stateDir } from './catalog/spool.js';
import { describeError, JobFailedError, LmsError } from './errors.js';
import { directoryError, fsCause } from './files.js';
import { redactUrl } from './redact.js';
import { isHungDirectory } from './storage/fs-watch.js';
import { TOOL_VERSION } from './version.js';

/** Our own error for a foreign one whose cause is known, or null when it is a bug. */
export function knownError(error: unknown): LmsError | null {
  if (error instanceof LmsError) return error;
  const e = error as {
    code?: unknown;
    syscall?: unknown;
    path?: unknown;
    severity?: unknown;
    message?: unknown;
  };
  if (!e || typeof e !== 'object') return null;
  // A PostgreSQL server error (node-postgres DatabaseError): the job ran and failed.
  if (typeof e.severity === 'string' && typeof e.code === 'string' && typeof e.message === 'string') {
    return new JobFailedError(`PostgreSQL error ${e.code}: ${e.message}`, { cause: error });
  }
  if (typeof e.code === 'string' && typeof e.syscall === 'string') {
    if (e.code === 'EPIPE') {
      return new JobFailedError(`a pipe closed while writing (${e.syscall})`, { cause: error });
    }
    if (typeof e.path === 'string') return directoryError(e.path, 'the path', error);
    return new JobFailedError(`${e.syscall} failed: ${fsCause(error)} (${e.code})`, { cause: error });
  }
  return null;
}

/** Writes the stack of an unexpected error to a log file; returns its path, or null. */
export function writeCrashLog(
  error: unknown,
  context: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const name = `crash-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`;
  const body =
    `lms-backup ${TOOL_VERSION} on Node ${process.version} (${process.platform}/${process.arch})\n` +
    `${context}\n\n` +
    (error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error)) +
    '\n';
  const redacted = redactUrl(body);
  // Written synchronously (the process may be about to end), so never into a state directory
  // whose mount this run already found not answering: that would hang the exit.
  const state = stateDir(env);
  const dirs = isHungDirectory(state) ? [tmpdir()] : [join(state, 'logs'), tmpdir()];
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const path = join(dir, name);
      writeFileSync(path, redacted, { mode: 0o600 });
      return path;
    } catch {
      // try the next place
    }
  }
  return null;
}

/** One line for the user (and the run record) for any thrown value; internal errors with their log. */
export function explainError(
  error: unknown,
  context: string,
  env: NodeJS.ProcessEnv = process.env,
): { message: string; exitCode: 1 | 2; internal: boolean; logPath?: string } {
  const known = knownError(error);
  if (known) return { message: describeError(known), exitCode: known.exitCode, internal: false };
  const logPath = writeCrashLog(error, context, env);
  const text = error instanceof Error ? error.message || error.name : String(error);
  return {
    message:
      `internal error: ${text}\n  ` +
      (logPath ? `the details are in ${logPath}; ` : '') +
      'please report it, with that file',
    exitCode: 1,
    internal: true,
    ...(logPath ? { logPath } : {}),
  };
}
