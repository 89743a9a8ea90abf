/**
 * The probe object `check` writes, reads back, lists and deletes in each destination
 * (docs/storage-layout.md): `check/probe_<host>_pid<pid>_<random>.txt`. It lives outside `db/`,
 * so it can never be taken for a backup, and a probe left by a killed check is swept by `prune`
 * (after a day, or at once when its writer on this host is gone).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PROBE_PREFIX } from '../catalog/layout.js';
import { isProcessAlive } from '../processes.js';
import type { Storage } from '../storage/types.js';

const HOST =
  hostname()
    .replace(/[^A-Za-z0-9.-]/g, '-')
    .slice(0, 40) || 'host';

const PROBE_RE = /^check\/probe_([A-Za-z0-9.-]{1,40})_pid(\d+)_[0-9a-f]{12}\.txt$/;

/** A fresh probe key, naming its writer (host and pid). */
export function probeKey(): string {
  return `${PROBE_PREFIX}probe_${HOST}_pid${process.pid}_${randomBytes(6).toString('hex')}.txt`;
}

export function isProbeKey(key: string): boolean {
  return PROBE_RE.test(key);
}

/** A probe whose check is gone: written here by a process that no longer runs, or older than `before`. */
export function isAbandonedProbe(key: string, lastModified: Date | undefined, before: Date): boolean {
  const m = PROBE_RE.exec(key);
  if (!m) return false;
  if (m[1] === HOST) {
    const pid = Number(m[2]);
    return pid !== process.pid && !isProcessAlive(pid);
  }
  return lastModified !== undefined && lastModified < before;
}

/** Finds (and unless `dryRun`, deletes) probes that killed checks left in `storage`. */
export async function sweepProbes(storage: Storage, before: Date, dryRun: boolean): Promise<string[]> {
  const found: string[] = [];
  for await (const obj of storage.list(PROBE_PREFIX)) {
    if (!isAbandonedProbe(obj.key, obj.lastModified, before)) continue;
    if (!dryRun) await storage.delete(obj.key);
    found.push(obj.key);
  }
  return found;
}
