/**
 * The storage layout (docs/storage-layout.md, a contract): the top-level prefixes of a
 * destination and the keys of what lives under them. Every reader and writer names keys here.
 */

/** Backups: every object of backup <id> is `db/<id>.<suffix>`. */
export const DB_PREFIX = 'db/';
/** Drill reports: `drill_logs/<drill id>.json` and `.md`. */
export const DRILL_LOGS_PREFIX = 'drill_logs/';
/** Run records: `runs/<run id>.json`. */
export const RUNS_PREFIX = 'runs/';
/** The erasure ledger: `erasures/<erasure id>.json[.age]`, never pruned. */
export const ERASURES_PREFIX = 'erasures/';
/** `lms-backup check`'s probe objects, removed by the check (or swept by prune). */
export const PROBE_PREFIX = 'check/';

/** An object of a backup: `db/<id>.<suffix>`. */
export function backupObjectKey(id: string, suffix: string): string {
  return `${DB_PREFIX}${id}.${suffix}`;
}

export function manifestKey(id: string): string {
  return backupObjectKey(id, 'manifest.json');
}

/** The backup a key under db/ belongs to starts its name: `db/<id>.` */
export function backupKeyPrefix(id: string): string {
  return `${DB_PREFIX}${id}.`;
}

/** A db/ key's name within db/, as its `.sha256` sidecar names it (sha256sum -c runs in db/). */
export function nameInDb(key: string): string {
  return key.startsWith(DB_PREFIX) ? key.slice(DB_PREFIX.length) : key;
}

export function drillReportKey(drillId: string, ext: 'json' | 'md'): string {
  return `${DRILL_LOGS_PREFIX}${drillId}.${ext}`;
}
