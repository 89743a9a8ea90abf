/**
 * Local file-system errors that name the place and the fix. Node's recursive mkdir reports a
 * read-only file system as ENOENT and never returns on some pseudo file systems (/proc), so
 * directories are created one level at a time here, each failure with its real cause. Every
 * call is asynchronous and goes through `io`: a directory on a mount that stopped answering can
 * then be bounded (storage/fs-watch.ts) instead of blocking the whole process.
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, JobFailedError, LmsError } from './errors.js';

/** A directory that cannot be created or written: a configuration problem (exit 2). */
export class DirectoryNotWritableError extends ConfigError {}

/** The local disk filled up while writing (exit 1: the job ran and failed). */
export class NoSpaceError extends JobFailedError {}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? '';
}

/** Why `path` cannot be written, for a person: "is on a read-only file system", … */
export function fsCause(error: unknown): string {
  switch (code(error)) {
    case 'EROFS':
      return 'is on a read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'is not writable by this user (permission denied)';
    case 'ENOSPC':
      return 'is on a file system with no space left';
    case 'EDQUOT':
      return 'is on a file system where this user is over quota';
    case 'ENOTDIR':
      return 'has a file where a directory is needed';
    case 'ENOENT':
      return 'cannot be created here (the file system does not allow it)';
    default:
      return `cannot be created (${code(error) || (error instanceof Error ? error.message : String(error))})`;
  }
}

/** Runs one file-system call (named by `what`): directly, or within a watch's deadline. */
export type FsCall = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

const direct: FsCall = (_what, fn) => fn();

/**
 * mkdir -p that fails fast (returns the directories it created, outermost first) with a clear error naming the directory, the cause and `fix`.
 * `what` names the setting (e.g. "--to", "--out-dir").
 */
export async function ensureDirectory(
  path: string,
  what: string,
  fix?: string,
  io: FsCall = direct,
): Promise<string[]> {
  const target = resolve(path);
  const missing: string[] = [];
  let dir = target;
  for (;;) {
    try {
      if (!(await io('stat', () => stat(dir))).isDirectory()) {
        throw new DirectoryNotWritableError(`${what} ${target}: ${dir} is a file, not a directory`, {
          hint: fix ?? 'give a directory path',
        });
      }
      break;
    } catch (error) {
      // Ours (a file in the way, a call that passed its deadline): as it is.
      if (error instanceof LmsError) throw error;
      if (code(error) !== 'ENOENT' && code(error) !== 'ENOTDIR')
        throw directoryError(target, what, error, fix);
      const parent = dirname(dir);
      if (parent === dir) break;
      missing.push(dir);
      dir = parent;
    }
  }
  const created: string[] = [];
  for (const d of missing.reverse()) {
    try {
      await io('mkdir', () => mkdir(d));
      created.push(d);
    } catch (error) {
      if (code(error) === 'EEXIST') continue;
      if (error instanceof LmsError) throw error;
      throw directoryError(target, what, error, fix);
    }
  }
  return created;
}

/**
 * Proves `path` can be created (or exists) and leaves nothing behind: the directories it had to
 * create are removed again. For checks before a run starts.
 */
export async function probeDirectory(
  path: string,
  what: string,
  fix?: string,
  io: FsCall = direct,
): Promise<void> {
  for (const d of (await ensureDirectory(path, what, fix, io)).reverse()) {
    try {
      await io('rmdir', () => rmdir(d));
    } catch {
      // someone else started using it: leave it
    }
  }
}

export function directoryError(path: string, what: string, error: unknown, fix?: string): LmsError {
  const c = code(error);
  const message = `${what} ${path} ${fsCause(error)}${c ? ` (${c})` : ''}`;
  const hint =
    fix ??
    (c === 'EROFS'
      ? 'give a directory on a writable file system, or remount it read-write'
      : c === 'EACCES' || c === 'EPERM'
        ? 'give a directory this user may write, or fix its owner and mode'
        : 'give a directory on a local, writable file system');
  return c === 'ENOSPC' || c === 'EDQUOT'
    ? new NoSpaceError(message, { hint: 'free space there, or give another directory', cause: error })
    : new DirectoryNotWritableError(message, { hint, cause: error });
}

/**
 * The error for a write under `dir` that failed: ENOSPC names the directory, how far it got
 * and how much the last comparable write needed; anything else is returned unchanged.
 */
export function writeFailure(
  error: unknown,
  dir: string,
  what: string,
  progress: { written?: number; needed?: number; format: (n: number) => string },
): unknown {
  const c = code(error);
  if (c !== 'ENOSPC' && c !== 'EDQUOT' && c !== 'EROFS') return error;
  if (c === 'EROFS') return directoryError(dir, what, error);
  const done = progress.written !== undefined ? ` after ${progress.format(progress.written)}` : '';
  const need =
    progress.needed !== undefined ? `; the last backup needed ${progress.format(progress.needed)}` : '';
  return new NoSpaceError(`no space left in ${dir} while writing ${what}${done}${need} (${c})`, {
    hint:
      `free space on the file system holding ${dir}, or stage elsewhere: ` +
      'set TMPDIR (cloud destinations) or give a --to directory on a larger disk',
    cause: error,
  });
}
