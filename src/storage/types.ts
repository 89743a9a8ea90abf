import type { Readable } from 'node:stream';

export interface StoredObject {
  /** Key relative to the destination root, '/'-separated, e.g. "db/lms_20240115_020000.dump.age". */
  key: string;
  size: number;
  lastModified?: Date;
}

/**
 * What to store. Re-openable so a retry can start over; `size` and `sha256` are known up
 * front (the data was staged and hashed while it streamed), so the backend can confirm them.
 */
export interface PutSource {
  open(): Readable;
  size: number;
  sha256: string;
  /** A local file holding the bytes, when there is one (lets the local backend hard-link). */
  path?: string;
  /**
   * How `path` looked when the bytes were hashed on their way into it: while the file still
   * matches (same inode, size, modification and change time to the nanosecond: any write,
   * truncation or replacement changes the change time), the hash needs no second read.
   */
  witness?: FileWitness;
}

export interface FileWitness {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** Whether a file's `stat(…, { bigint: true })` still matches its witness. */
export function matchesWitness(
  st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint },
  w: FileWitness,
): boolean {
  return (
    st.dev === w.dev &&
    st.ino === w.ino &&
    st.size === w.size &&
    st.mtimeNs === w.mtimeNs &&
    st.ctimeNs === w.ctimeNs
  );
}

/** One storage interface; every backend passes the same contract suite (test/storage). */
export interface Storage {
  /** 'memory': the tests' in-process store (the same contract, nothing kept). */
  readonly kind: 'local' | 'azure' | 's3' | 'gcs' | 'memory';
  /**
   * The location for logs and reports, with every credential stripped. For kind 'local' it is
   * the absolute root directory (backup stages its dump there, so the store can hard-link it).
   */
  readonly display: string;
  /**
   * Create-only: throws StorageConflictError when `key` exists. Resolves only after the
   * stored size and SHA-256 are confirmed (server-side checksum or read-back).
   */
  put(key: string, source: PutSource): Promise<StoredObject>;
  /**
   * Throws StorageNotFoundError when absent. With `offset`, the bytes from there to the end (a
   * download resumed after its connection broke off: storage/resume.ts).
   */
  get(key: string, options?: GetOptions): Promise<Readable>;
  head(key: string): Promise<StoredObject | null>;
  /** Every object whose key starts with `prefix`, across all pages. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes temporary files older than `before` that a killed writer left behind (staged dumps,
   * half-copied objects); returns their paths. Only stores that keep such files implement it:
   * cloud uploads leave nothing visible (failed multipart uploads are aborted).
   */
  sweepTemporary?(before: Date, dryRun?: boolean): Promise<string[]>;
  /**
   * Finds (and unless `dryRun`, removes) uploads a killed writer started and never finished,
   * begun before `olderThan`: S3 multipart uploads that were never completed nor aborted, Azure
   * blobs holding only uncommitted blocks. Nothing of a finished object is touched. GCS needs
   * none: an unfinished resumable upload session expires on its own after a week.
   */
  sweepIncomplete?(olderThan: Date, dryRun: boolean): Promise<SweepResult>;
}

export interface SweepResult {
  /** One entry per incomplete upload found: its key and when it was started. */
  found: { key: string; startedAt?: Date; detail: string }[];
  /** How many of them were removed (0 on a dry run). */
  removed: number;
}

export interface GetOptions {
  /** Where to start reading, in bytes (default 0). */
  offset?: number;
}
