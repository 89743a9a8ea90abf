/**
 * The local record spool: a run record that could not be written to a destination (the
 * destination itself was down) waits here, one directory per destination, until the next run
 * that writes a record there delivers it. So a failure because storage was down is still
 * counted by `report`, once the storage is back.
 *
 * <state dir>/spool/<sha256(destination)[:16]>/destination   the destination's display location
 * <state dir>/spool/<sha256(destination)[:16]>/<run id>.json  a record waiting for it
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** Keeps `body` (a serialized run record) for `destination`; returns the file, or null when it could not. */
export function spoolRecord(
  destination: string,
  id: string,
  body: string,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  try {
    const dir = slot(destination, env);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'destination'), `${destination}\n`, { mode: 0o600 });
    const file = join(dir, `${id}.json`);
    writeFileSync(file, body, { mode: 0o600 });
    return file;
  } catch {
    return null;
  }
}

/** The records waiting for `destination`, oldest first (at most `limit`). */
export function spooledRecords(
  destination: string,
  env: NodeJS.ProcessEnv = process.env,
  limit = 200,
): { id: string; file: string; body: string }[] {
  const dir = slot(destination, env);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => RECORD_FILE.test(n));
  } catch {
    return [];
  }
  const out: { id: string; file: string; body: string }[] = [];
  for (const name of names.sort().slice(0, limit)) {
    const file = join(dir, name);
    try {
      out.push({ id: name.slice(0, -'.json'.length), file, body: readFileSync(file, 'utf8') });
    } catch {
      // taken by a concurrent run
    }
  }
  return out;
}

export function unspool(file: string): void {
  rmSync(file, { force: true });
}
