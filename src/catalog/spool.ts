/**
 * The local record spool: a run record that could not be written to a destination (the
 * destination itself was down) waits here, one directory per destination, until the next run
 * that writes a record there delivers it. So a failure because storage was down is still
 * counted by `report`, once the storage is back.
 *
 * <state dir>/spool/<sha256(destination)[:16]>/destination   the destination's display location
 * <state dir>/spool/<sha256(destination)[:16]>/<run id>.json  a record waiting for it
 *
 * The state directory may be a mount too (an NFS home): every call there is bounded by its
 * watch, like a local destination's, and a spool that does not answer is no spool, never a hang.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FsCall } from '../files.js';
import { fsWatchFor } from '../storage/fs-watch.js';

/**
 * Where lms-backup keeps local state (the record spool, crash logs): $LMS_BACKUP_STATE_DIR,
 * else $XDG_STATE_HOME/lms-backup, else ~/.local/state/lms-backup.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LMS_BACKUP_STATE_DIR) return env.LMS_BACKUP_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'lms-backup');
  let home = '';
  try {
    home = homedir();
  } catch {
    // no home directory (a service account): fall back to the temp directory
  }
  return home ? join(home, '.local', 'state', 'lms-backup') : join(tmpdir(), 'lms-backup-state');
}

export function spoolDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'spool');
}

function slot(destination: string, env: NodeJS.ProcessEnv): string {
  return join(spoolDir(env), createHash('sha256').update(destination).digest('hex').slice(0, 16));
}

const RECORD_FILE = /^run_[A-Za-z0-9_]+\.json$/;

/** Each file-system call in the spool, bounded by the state directory's watch. */
function spoolCalls(env: NodeJS.ProcessEnv, operation: 'put' | 'list' | 'delete'): FsCall {
  return fsWatchFor(stateDir(env)).calls(operation, 'spool');
}

/** Keeps `body` (a serialized run record) for `destination`; returns the file, or null when it could not. */
export async function spoolRecord(
  destination: string,
  id: string,
  body: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  const io = spoolCalls(env, 'put');
  try {
    const dir = slot(destination, env);
    await io('mkdir', () => mkdir(dir, { recursive: true, mode: 0o700 }));
    await io('write', () => writeFile(join(dir, 'destination'), `${destination}\n`, { mode: 0o600 }));
    const file = join(dir, `${id}.json`);
    await io('write', () => writeFile(file, body, { mode: 0o600 }));
    return file;
  } catch {
    return null;
  }
}

/** The records waiting for `destination`, oldest first (at most `limit`). */
export async function spooledRecords(
  destination: string,
  env: NodeJS.ProcessEnv = process.env,
  limit = 200,
): Promise<{ id: string; file: string; body: string }[]> {
  const io = spoolCalls(env, 'list');
  const dir = slot(destination, env);
  let names: string[];
  try {
    names = (await io('readdir', () => readdir(dir))).filter((n) => RECORD_FILE.test(n));
  } catch {
    return [];
  }
  const out: { id: string; file: string; body: string }[] = [];
  for (const name of names.sort().slice(0, limit)) {
    const file = join(dir, name);
    try {
      out.push({
        id: name.slice(0, -'.json'.length),
        file,
        body: await io('read', () => readFile(file, 'utf8')),
      });
    } catch {
      // taken by a concurrent run, or the state directory stopped answering
    }
  }
  return out;
}

/** Removes a delivered record; a spool that does not answer keeps it (delivered again: a conflict, fine). */
export async function unspool(file: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await spoolCalls(env, 'delete')('unlink', () => rm(file, { force: true })).catch(() => {});
}
