/** Backups, drills and run records for prune and list tests, seeded into a MemoryStorage. */
import type { BackupEntry } from '../../src/catalog/catalog.js';
import { backupKeys } from '../../src/catalog/names.js';
import {
  DRILL_REPORT_FORMAT,
  MANIFEST_FORMAT_V1,
  type Manifest,
  RUN_RECORD_FORMAT,
} from '../../src/catalog/types.js';
import { bufferSource } from '../../src/storage/source.js';
import type { MemoryStorage } from '../helpers/memory-storage.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export function makeManifest(
  id: string,
  createdAt: Date,
  options: { encrypted?: boolean; tables?: number; rows?: number; bytes?: number } = {},
): Manifest {
  const encrypted = options.encrypted ?? true;
  const keys = backupKeys(id, encrypted);
  const tables = options.tables ?? 8;
  const rows = options.rows ?? 1000;
  return {
    format: MANIFEST_FORMAT_V1, // the old format: still read
    id,
    createdAt: createdAt.toISOString(),
    completedAt: new Date(createdAt.getTime() + 60_000).toISOString(),
    source: {
      host: 'db.example',
      port: 5432,
      database: 'lms',
      user: 'backup',
      serverVersion: '16.4',
      serverVersionNum: 160004,
    },
    tool: { name: 'lms-backup', version: '0.1.0', pgDumpVersion: '16.4' },
    dump: { format: 'custom', compression: 'gzip:1', bytes: 1000, sha256: 'a'.repeat(64), durationMs: 10 },
    object: { key: keys.dump, bytes: options.bytes ?? 100, sha256: 'b'.repeat(64), sidecarKey: keys.sidecar },
    encryption: {
      scheme: encrypted ? 'age' : 'none',
      recipients: encrypted ? ['age1example'] : [],
      passphrase: false,
    },
    inventory: {
      tables: Array.from({ length: tables }, (_, i) => ({
        schema: 'public',
        name: `t${i}`,
        rows: i === 0 ? rows : 0,
      })),
      extensions: [],
      schemaFingerprint: 'c'.repeat(64),
      tableCount: tables,
      totalRows: rows,
    },
  };
}

/**
 * Stores a backup's objects. `complete: false` leaves the manifest out (an interrupted run);
 * `sidecar: false` leaves the checksum out too. `mtime` is what the store reports as lastModified.
 */
export function seedBackup(
  storage: MemoryStorage,
  id: string,
  createdAt: Date,
  options: {
    complete?: boolean;
    encrypted?: boolean;
    sidecar?: boolean;
    dumpBytes?: number;
    tables?: number;
    rows?: number;
    mtime?: Date;
  } = {},
): { dump: string; sidecar: string; manifest: string } {
  const encrypted = options.encrypted ?? true;
  const keys = backupKeys(id, encrypted);
  const mtime = options.mtime ?? new Date();
  const dumpBytes = options.dumpBytes ?? 100;
  storage.seed(keys.dump, Buffer.alloc(dumpBytes, 7), mtime);
  if (options.sidecar !== false) {
    storage.seed(keys.sidecar, `${'b'.repeat(64)}  ${keys.dump.slice(3)}\n`, mtime);
  }
  if (options.complete !== false) {
    const manifest = makeManifest(id, createdAt, {
      encrypted,
      bytes: dumpBytes,
      ...(options.tables === undefined ? {} : { tables: options.tables }),
      ...(options.rows === undefined ? {} : { rows: options.rows }),
    });
    storage.seed(keys.manifest, JSON.stringify(manifest), mtime);
  }
  return keys;
}

export function seedDrill(
  storage: MemoryStorage,
  drillId: string,
  backupId: string,
  verdict: 'pass' | 'fail',
  finishedAt: Date,
): void {
  // Only the fields the catalog reads; a drill report has many more.
  storage.seed(
    `drill_logs/${drillId}.json`,
    JSON.stringify({
      format: DRILL_REPORT_FORMAT,
      id: drillId,
      backupId,
      verdict,
      finishedAt: finishedAt.toISOString(),
    }),
  );
}

export async function putRunRecord(
  storage: MemoryStorage,
  id: string,
  command: string,
  status: 'success' | 'failure',
  startedAt: Date,
): Promise<void> {
  const record = {
    format: RUN_RECORD_FORMAT,
    id,
    command,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + 60_000).toISOString(),
    status,
    durationMs: 60_000,
    warnings: [],
    ...(status === 'failure' ? { reason: 'pg_dump failed' } : {}),
  };
  await storage.put(`runs/${id}.json`, bufferSource(JSON.stringify(record)));
}

/** A catalog entry for the pure planner; `time` is the recorded time (not the name's). */
export function entry(
  id: string,
  time: Date,
  options: { state?: 'complete' | 'incomplete'; drill?: 'pass' | 'fail'; keys?: string[] } = {},
): BackupEntry {
  const state = options.state ?? 'complete';
  const k = backupKeys(id, true);
  const e: BackupEntry = {
    id,
    time,
    state,
    keys: options.keys ?? (state === 'complete' ? [k.dump, k.sidecar, k.manifest] : [k.dump]),
    bytes: 100,
  };
  if (options.drill)
    e.lastDrill = { id: `drill_${id}`, verdict: options.drill, finishedAt: time.toISOString() };
  return e;
}
