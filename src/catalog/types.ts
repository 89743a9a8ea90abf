/**
 * The storage contract (docs/storage-layout.md). Other tools and future versions read these files:
 * add fields freely, never rename or remove one without bumping the `format` version.
 *
 * <destination root>/
 *   db/<id>.dump[.age]            the dump (custom format), encrypted with age unless opted out
 *   db/<id>.dump[.age].sha256     "<hex>  <file name>" (sha256sum -c works)
 *   db/<id>.globals.sql[.age]     the globals: roles (attributes, memberships, settings; never
 *                                 passwords) and tablespaces, a SQL script for psql (manifest@2)
 *   db/<id>.globals.sql[.age].sha256
 *   db/<id>.manifest.json         written LAST: its presence marks the backup complete
 *   drill_logs/drill_<ts>.json    drill report (+ .md)
 *   runs/run_<ts>_<command>_<rand>.json   one record per run of any command
 */

export const MANIFEST_FORMAT = 'lms-backup/manifest@2';
/** Manifests of this format (no globals, no objects list, a smaller inventory) are still read. */
export const MANIFEST_FORMAT_V1 = 'lms-backup/manifest@1';
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

/** A relation's owner and privileges: tables, partitioned tables, views, materialized views, sequences. */
export interface RelationInventory {
  schema: string;
  name: string;
  /** pg_class.relkind: r, p, v, m, S, f. */
  kind: string;
  owner: string;
  /** SHA-256 over the sorted (grantee, privilege, grantable) of the relation's effective ACL. */
  aclDigest: string;
  /** Row-level security enabled / forced on the table. */
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** Number of policies and a SHA-256 over them (name, command, permissive, roles, expressions). */
  policies: number;
  policiesDigest: string;
}

export interface MaterializedViewInventory {
  schema: string;
  name: string;
  populated: boolean;
  /** Exact row count when populated, else null. */
  rows: number | null;
}

export interface SequenceInventory {
  schema: string;
  name: string;
  lastValue: string;
  isCalled: boolean;
}

export interface PartitionedInventory {
  schema: string;
  name: string;
  /** Rows over every partition. */
  rows: number;
  /** Leaf partitions (those hold the data in the archive). */
  leaves: { schema: string; name: string }[];
}

export interface LargeObjectInventory {
  count: number;
  bytes: number;
  /** SHA-256 over the sorted (oid, owner, md5 of the contents). */
  digest: string;
}

/** A role the database refers to, and how: as an owner, a grantee of a privilege, or in a policy. */
export interface RoleReference {
  name: string;
  uses: ('owner' | 'grantee' | 'policy')[];
}

export interface Inventory {
  tables: TableInventory[];
  extensions: ExtensionInventory[];
  /** SHA-256 over the sorted (schema, table, column, type, nullability) list: equal schemas, equal prints. */
  schemaFingerprint: string;
  tableCount: number;
  totalRows: number;
  /** From manifest@2 on: everything below, taken in the dump's snapshot. */
  relations?: RelationInventory[];
  materializedViews?: MaterializedViewInventory[];
  sequences?: SequenceInventory[];
  partitioned?: PartitionedInventory[];
  largeObjects?: LargeObjectInventory;
  /** Schemas with their owners and a digest of their ACL. */
  schemas?: { name: string; owner: string; aclDigest: string }[];
  roles?: RoleReference[];
}

/** One stored object of a backup, as listed in the manifest (manifest@2). */
export interface BackupObject {
  /** files and redis: the files archive and the Redis snapshot, when the backup took them. */
  role: 'dump' | 'globals' | 'files' | 'redis';
  /** Key relative to the destination root. */
  key: string;
  /** Stored bytes and SHA-256 (what the sidecar records). */
  bytes: number;
  sha256: string;
  sidecarKey: string;
  /**
   * Plaintext bytes and SHA-256: what age encrypted, i.e. what `age -d` gives back (the zstd
   * stream when `compression` is set, else the payload itself).
   */
  plainBytes: number;
  plainSha256: string;
  /**
   * Compression outside the payload's own format, applied before encryption: `zstd:<level>`
   * (`zstd -d` restores the payload, e.g. a pg_dump custom archive). Absent: none (the
   * plaintext is the payload). Added within manifest@2; older readers never wrote it.
   */
  compression?: string;
}

export type EncryptionScheme = 'age' | 'none';

export interface Manifest {
  format: typeof MANIFEST_FORMAT | typeof MANIFEST_FORMAT_V1;
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
  tool: {
    name: 'lms-backup';
    version: string;
    pgDumpVersion: string;
    /** Which pg_dump ran where (absent in manifests written before it was recorded). */
    pgDump?: ToolRecord;
  };
  dump: {
    format: 'custom';
    /** pg_dump's --compress value, e.g. "gzip:1", "zstd:1", "none". */
    compression: string;
    /**
     * zstd outside the archive (`zstd:1`), when the archive was written with -Z0 and compressed
     * by zstd beside pg_dump: then `age -d` gives a zstd stream and `zstd -d` the archive.
     * Absent: the decrypted bytes are the archive (every backup before this field existed).
     */
    outerCompression?: string;
    /** Plaintext dump bytes and SHA-256: what `age -d` gives back (see outerCompression). */
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
  /**
   * manifest@2: every stored object, the dump first (the same as `object`), then the globals.
   * Absent in manifest@1.
   */
  objects?: BackupObject[];
  /** manifest@2: the roles and tablespaces in the globals object (names only). */
  globals?: { roles: string[]; tablespaces: string[] };
  /** The files archive (object role "files"), when `files` was given: its index of every entry. */
  files?: FilesManifest;
  /** The Redis snapshot (object role "redis"), when `redis-url` was given. */
  redis?: RedisManifest;
  encryption: {
    scheme: EncryptionScheme;
    /** Public recipients (`age1…`); never a secret. */
    recipients: string[];
    /** True when a passphrase (scrypt) stanza was included; the passphrase itself is never stored. */
    passphrase: boolean;
  };
  inventory: Inventory;
}

/** The files part of a backup: a pax tar, gzip-compressed, then encrypted like the dump. */
export interface FilesManifest {
  format: 'tar';
  compression: 'gzip';
  takenAt: string;
  /** The paths given, absolute; entries are stored as these paths without the leading '/'. */
  roots: string[];
  excludes: string[];
  entries: number;
  files: number;
  /** Bytes of every file together. */
  bytes: number;
  index: FileIndexEntry[];
  skipped: { path: string; reason: string }[];
  changed: { path: string; detail: string }[];
}

export interface FileIndexEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  /** Octal permission bits, "0644". */
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
  sha256?: string;
  target?: string;
}

/** The Redis part: an RDB snapshot as the server sent it (redis-cli --rdb). */
export interface RedisManifest {
  takenAt: string;
  /** The server, without credentials. */
  source: string;
  serverVersion: string;
  /** Keys over every database (INFO keyspace) when the snapshot was taken. */
  keys: number;
  /** Keys per database, e.g. { db0: 12 }. */
  keyspace: Record<string, number>;
}

/** A pg tool that ran: its version, and a local binary or a container from `image`. */
export interface ToolRecord {
  version: string;
  where: 'local' | 'container' | 'compose';
  image?: string;
  /** where = compose: the service whose own tool ran (`compose exec`). */
  compose?: { service: string; project?: string };
}

/**
 * A drill's verdict. "could-not-run": nothing about the backup was proven either way (no identity to
 * decrypt with, no throwaway server or pg_restore for its major): it is not the backup failing.
 */
export type Verdict = 'pass' | 'fail' | 'could-not-run';

export interface TableCheck {
  schema: string;
  name: string;
  expected: number | null;
  found: number | null;
  ok: boolean;
  /** e.g. "not checked: the restore failed" */
  note?: string;
}

/**
 * One object fact compared after a restore: an owner, an ACL digest, policies, a materialized
 * view, a sequence, a partitioned parent's total, large objects, the schema fingerprint.
 */
export interface ObjectCheck {
  kind: string;
  /** What it is about, e.g. "public.users"; empty for database-wide facts. */
  object: string;
  expected: string;
  found: string | null;
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
  engine: {
    /** What ran the throwaway server; "none" when no server started. */
    kind: 'local' | 'docker' | 'none';
    /** The engine asked for (auto, docker, local). */
    requested?: 'auto' | 'local' | 'docker';
    description: string;
    serverVersion: string | null;
    /** Why engines were passed over (auto's fallbacks, or every attempt when none started). */
    fallbacks?: string[];
  };
  /** Which pg_restore ran where. */
  tools?: { pgRestore?: ToolRecord };
  restore: {
    ok: boolean;
    jobs: number;
    errors: string[];
    /** Whether owners and privileges were restored (false for a manifest@1 backup without globals). */
    owners?: boolean;
    /** The first error pg_restore met, when it failed: the cause. */
    firstError?: string;
  };
  tableCount: { min: number; found: number | null; ok: boolean };
  tables: TableCheck[];
  extensions: { name: string; expected: string; found: string | null; ok: boolean }[];
  checks: HealthCheckResult[];
  /** Owners, ACLs, policies, materialized views, sequences, partitions, large objects, fingerprint. */
  objects?: ObjectCheck[];
  /** Roles the drill created in the throwaway server from the backup's globals (NOLOGIN). */
  rolesCreated?: string[];
  /** The files part: extracted into the drill's work directory, every digest compared with the index. */
  files?: { ok: boolean; entries: number; files: number; filesOk: number; bytes: number; detail: string };
  /** The Redis part: loaded into a throwaway redis-server, its key count compared. */
  redis?: {
    ok: boolean;
    expectedKeys: number;
    foundKeys: number | null;
    serverVersion: string;
    detail: string;
  };
  /** Milliseconds per phase: download, verify, decrypt, start, restore, validate, teardown. */
  phases: Record<string, number>;
  rto: { objectiveSeconds: number; measuredSeconds: number; ok: boolean };
  rpo: { objectiveSeconds: number; backupAgeSeconds: number; ok: boolean };
  /** The erasure ledger replayed in the throwaway server, and the proof that no erased key remains. */
  erasures?: ErasureReplay;
}

/** The erasure ledger replayed into restored data (drill reports, restore results, run records). */
export interface EntryReplay {
  id: string;
  requestedAt: string;
  reference: string;
  table: string;
  keys: number;
  /** applied; absent (the table is not in this database: nothing to erase); failed (some key not applied). */
  status: 'applied' | 'absent' | 'failed';
  /** Rows the entry's own DELETEs removed. */
  rowsRemoved: number;
  /** Rows removed in other tables by ON DELETE CASCADE. */
  cascadedRows: number;
  /** Keys found after the replay (null: could not be looked up, e.g. a key column is missing). */
  stillPresent: number | null;
  problems: string[];
}

export interface ErasureReplay {
  /** False when the replay was turned off (--no-erasures): the keys were only looked up. */
  replayed: boolean;
  entries: number;
  keys: number;
  rowsRemoved: number;
  cascadedRows: number;
  /** Erased keys found in the database afterwards: must be 0. */
  keysStillPresent: number;
  /** Constraints that refused a deletion (NO ACTION / RESTRICT) and other keys not applied. */
  violations: string[];
  perEntry: EntryReplay[];
  /** With allOrNothing: a violation rolled every deletion back. */
  rolledBack?: boolean;
}

export type RunCommand = 'backup' | 'verify' | 'drill' | 'restore' | 'prune' | 'report' | 'demo' | 'forget';

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
