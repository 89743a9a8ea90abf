/**
 * The storage contract (DESIGN.md §3). Other tools and future versions read these files:
 * add fields freely, never rename or remove one without bumping the `format` version.
 *
 * <destination root>/
 *   db/<id>.dump[.age]            the dump (custom format), encrypted with age unless opted out
 *   db/<id>.dump[.age].sha256     "<hex>  <file name>" (sha256sum -c works)
 *   db/<id>.manifest.json         written LAST: its presence marks the backup complete
 *   drill_logs/drill_<ts>.json    drill report (+ .md)
 *   runs/run_<ts>_<command>_<rand>.json   one record per run of any command
 */

export const MANIFEST_FORMAT = 'lms-backup/manifest@1';
export const DRILL_REPORT_FORMAT = 'lms-backup/drill-report@1';
export const RUN_RECORD_FORMAT = 'lms-backup/run@1';

export interface TableInventory {
  schema: string;
  name: string;
  /** Exact `count(*)`, taken in the same snapshot as the dump. */
  rows: number;
}

export interface ExtensionInventory {
  name: string;
  version: string;
}

export interface Inventory {
  tables: TableInventory[];
  extensions: ExtensionInventory[];
  /** SHA-256 over the sorted (schema, table, column, type, nullability) list: equal schemas, equal prints. */
  schemaFingerprint: string;
  tableCount: number;
  totalRows: number;
}

export type EncryptionScheme = 'age' | 'none';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  /** `<prefix>_YYYYMMDD_HHmmss` (UTC), with `_2`, `_3`… when that second is taken. */
  id: string;
  /** When the dump's snapshot was taken (ISO 8601, UTC): the recovery point. */
  createdAt: string;
  /** When the last object was stored and confirmed. */
  completedAt: string;
  source: {
    host: string;
    port: number;
    database: string;
    user: string;
    serverVersion: string;
    serverVersionNum: number;
  };
  tool: { name: 'lms-backup'; version: string; pgDumpVersion: string };
  dump: {
    format: 'custom';
    /** pg_dump's --compress value, e.g. "gzip:1", "zstd:1", "none". */
    compression: string;
    /** Plaintext dump bytes and SHA-256. */
    bytes: number;
    sha256: string;
    durationMs: number;
  };
  object: {
    /** Key relative to the destination root, e.g. "db/lms_20240115_020000.dump.age". */
    key: string;
    bytes: number;
    sha256: string;
    sidecarKey: string;
  };
  encryption: {
    scheme: EncryptionScheme;
    /** Public recipients (`age1…`); never a secret. */
    recipients: string[];
    /** True when a passphrase (scrypt) stanza was included; the passphrase itself is never stored. */
    passphrase: boolean;
  };
  inventory: Inventory;
}

export type Verdict = 'pass' | 'fail';

export interface TableCheck {
  schema: string;
  name: string;
  expected: number | null;
  found: number | null;
  ok: boolean;
}

export interface HealthCheckResult {
  name: string;
  sql: string;
  expected: string;
  actual: string | null;
  ok: boolean;
  error?: string;
}

export interface DrillReport {
  format: typeof DRILL_REPORT_FORMAT;
  /** `drill_YYYYMMDD_HHmmss`. */
  id: string;
  backupId: string;
  backupCreatedAt: string;
  startedAt: string;
  finishedAt: string;
  verdict: Verdict;
  /** Why it failed (empty on pass); each a sentence a person can act on. */
  reasons: string[];
  checksum: { expected: string; actual: string | null; ok: boolean };
  /** The `.sha256` sidecar agrees with the manifest (absent in reports of older versions). */
  sidecar?: { ok: boolean; detail: string };
  decryption: { scheme: EncryptionScheme; ok: boolean; error?: string };
  engine: { kind: 'local' | 'docker'; description: string; serverVersion: string | null };
  restore: { ok: boolean; jobs: number; errors: string[] };
  tableCount: { min: number; found: number | null; ok: boolean };
  tables: TableCheck[];
  extensions: { name: string; expected: string; found: string | null; ok: boolean }[];
  checks: HealthCheckResult[];
  /** Milliseconds per phase: download, verify, decrypt, start, restore, validate, teardown. */
  phases: Record<string, number>;
  rto: { objectiveSeconds: number; measuredSeconds: number; ok: boolean };
  rpo: { objectiveSeconds: number; backupAgeSeconds: number; ok: boolean };
}

export type RunCommand = 'backup' | 'verify' | 'drill' | 'restore' | 'prune' | 'report' | 'demo';

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  id: string;
  command: RunCommand;
  startedAt: string;
  finishedAt: string;
  status: 'success' | 'failure';
  /** Why it failed, for a person (never holds a secret). */
  reason?: string;
  backupId?: string;
  /** Stored object bytes, for backups. */
  bytes?: number;
  durationMs: number;
  warnings: string[];
  /** Command-specific numbers (phase timings, drill verdict, counts). */
  details?: Record<string, unknown>;
}
