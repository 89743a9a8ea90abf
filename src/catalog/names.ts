/** Names of backups and drill reports: `<prefix>_YYYYMMDD_HHmmss` in UTC (docs/storage-layout.md). */
import { backupObjectKey, manifestKey } from './layout.js';

const ID_RE = /^([A-Za-z0-9][A-Za-z0-9-]*)_(\d{8})_(\d{6})(?:_(\d+))?$/;

export function utcStamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

/** `lms_20240115_020000`, or `lms_20240115_020000_2` for the second backup in that second. */
export function backupId(prefix: string, date: Date, sequence = 1): string {
  const base = `${prefix}_${utcStamp(date)}`;
  return sequence <= 1 ? base : `${base}_${sequence}`;
}

export interface ParsedId {
  prefix: string;
  time: Date;
  sequence: number;
}

export function parseBackupId(id: string): ParsedId | null {
  const m = ID_RE.exec(id);
  if (!m) return null;
  const [, prefix, d, t, seq] = m as unknown as [string, string, string, string, string | undefined];
  const time = new Date(
    Date.UTC(
      +d.slice(0, 4),
      +d.slice(4, 6) - 1,
      +d.slice(6, 8),
      +t.slice(0, 2),
      +t.slice(2, 4),
      +t.slice(4, 6),
    ),
  );
  if (Number.isNaN(time.getTime())) return null;
  return { prefix, time, sequence: seq ? Number(seq) : 1 };
}

/** Orders ids by time, then sequence (newest last). */
export function compareBackupIds(a: string, b: string): number {
  const pa = parseBackupId(a);
  const pb = parseBackupId(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  return pa.time.getTime() - pb.time.getTime() || pa.sequence - pb.sequence;
}

export const PREFIX_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/** Object keys of one backup, relative to the destination root. */
export function backupKeys(id: string, encrypted: boolean) {
  const dump = backupObjectKey(id, `dump${encrypted ? '.age' : ''}`);
  const globals = backupObjectKey(id, `globals.sql${encrypted ? '.age' : ''}`);
  return {
    dump,
    sidecar: `${dump}.sha256`,
    globals,
    globalsSidecar: `${globals}.sha256`,
    manifest: manifestKey(id),
  };
}

export function drillReportId(date: Date): string {
  return `drill_${utcStamp(date)}`;
}
