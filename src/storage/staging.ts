/**
 * Temporary files of runs that may be killed: dumps staged before upload, half-copied objects
 * of the local backend. Their names say who wrote them (host and pid), so a sweep can tell a
 * dead run's file from a live one's: concurrent backups on one machine are normal, and a live
 * run's file is never removed.
 */
import { randomBytes } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../processes.js';
import type { FsWatch } from './fs-watch.js';
import { TEMP_PREFIX } from './keys.js';

/** Where a backup stages its objects, and the watch that bounds every call there. */
export interface StagingDir {
  path: string;
  watch: FsWatch;
}

/** The host part never holds "_", so the writer is read unambiguously from the right. */
const HOST =
  hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 40) || 'host';

/** `<TEMP_PREFIX><label>_<host>_pid<pid>_<random>`, e.g. ".tmp-stage_db1_pid4242_9f3a…" */
export function temporaryName(label: string, suffix = ''): string {
  return `${TEMP_PREFIX}${label}_${HOST}_pid${process.pid}_${randomBytes(6).toString('hex')}${suffix}`;
}

/** A staged dump's file name (recognised by the sweeps). */
export function stagedDumpName(): string {
  return temporaryName('stage', '.dump.partial');
}

function writerOf(name: string): { host: string; pid: number } | undefined {
  const m = /_([A-Za-z0-9.-]{1,40})_pid(\d+)_[0-9a-f]{12}/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]) } : undefined;
}

/**
 * Whether a temporary file was left by a run that is gone: written on this host by a process
 * that no longer runs, or (written elsewhere, or named without a writer) last modified before
 * `before`. A file whose writer still runs here is never abandoned.
 */
export function isAbandoned(name: string, mtime: Date, before: Date): boolean {
  if (!name.startsWith(TEMP_PREFIX)) return false;
  const writer = writerOf(name);
  if (writer && writer.host === HOST) {
    if (writer.pid === process.pid || isProcessAlive(writer.pid)) return false;
    return true;
  }
  return mtime < before;
}

/**
 * Finds (and unless `dryRun`, removes) abandoned temporary files in `dir`, and in its
 * subdirectories when `recursive` (a destination root; never the OS temp dir). Returns paths.
 */
export async function sweepTemporaryFiles(
  dir: string,
  before: Date,
  opts: { recursive?: boolean; dryRun?: boolean; only?: (name: string) => boolean } = {},
): Promise<string[]> {
  const found: string[] = [];
  const sweep = async (d: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (opts.recursive) await sweep(path);
        continue;
      }
      if (!entry.isFile() || !entry.name.startsWith(TEMP_PREFIX)) continue;
      if (opts.only && !opts.only(entry.name)) continue;
      const st = await stat(path).catch(() => undefined);
      if (!st || !isAbandoned(entry.name, st.mtime, before)) continue;
      if (!opts.dryRun) {
        const gone = await unlink(path).then(
          () => true,
          (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
        );
        if (!gone) continue;
      }
      found.push(path);
    }
  };
  await sweep(dir);
  return found;
}

/** Staged dumps of killed backups in a staging directory (the OS temp dir: flat, ours only). */
export function sweepStagedDumps(dir: string, before: Date, dryRun = false): Promise<string[]> {
  return sweepTemporaryFiles(dir, before, {
    dryRun,
    only: (name) => name.endsWith('.dump.partial'),
  });
}
