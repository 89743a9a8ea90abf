/**
 * The erasure ledger (docs/storage-layout.md, "The erasure ledger"): one append-only entry per
 * erasure request in every destination's `erasures/`, encrypted to the backup recipients (the keys
 * themselves can be personal data), with a `sha256sum` sidecar, created only if absent and never
 * rewritten. Backups stay unaltered; every restore and drill replays the ledger.
 *
 * The entry's name carries its time (`erasure_YYYYMMDD_HHmmss_<hex>`), so the report can tell which
 * backups still hold erased data without decrypting anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ERASURES_PREFIX } from '../catalog/layout.js';
import { utcStamp } from '../catalog/names.js';
import type { EncryptionConfig } from '../commands/backup.js';
import type { DecryptionKeys } from '../config.js';
import { createAgeDecryptStream, createAgeEncryptStream } from '../crypto/age.js';
import { sha256Sidecar } from '../crypto/hash.js';
import { ChecksumMismatchError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { bufferSource } from '../storage/source.js';
import type { Storage } from '../storage/types.js';

export const ERASURE_FORMAT = 'lms-backup/erasure@1';
/** An entry is small: a table, its key columns and the keys' values. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
const NAME_RE = /^erasure_(\d{8})_(\d{6})_([0-9a-f]{8})$/;

export interface ErasureEntry {
  format: typeof ERASURE_FORMAT;
  /** `erasure_YYYYMMDD_HHmmss_<8 hex>` (UTC), also the stored object's name. */
  id: string;
  /** When the erasure was requested (ISO 8601, UTC): backups taken before it hold the data. */
  requestedAt: string;
  /** The request's reference, e.g. a ticket id. */
  reference: string;
  table: { schema: string; name: string };
  /** The key columns, in the order of each key's values. */
  columns: string[];
  /** One array of values (as text, parsed by PostgreSQL into the column's type) per row to erase. */
  keys: string[][];
  /** What the keys were checked against when the entry was written. */
  validatedAgainst: string;
  /** The live database's rows removed by `forget --apply`, when it was applied there. */
  appliedLive?: { database: string; rowsRemoved: number };
}

/** An entry's stored name, from the listing alone (no decryption). */
export interface LedgerName {
  id: string;
  /** The time in the name: when the erasure was requested (to the second). */
  time: Date;
  key: string;
  sidecarKey: string;
  bytes: number;
  hasSidecar: boolean;
}

export function newErasureId(at: Date): string {
  return `erasure_${utcStamp(at)}_${randomBytes(4).toString('hex')}`;
}

function timeOfId(id: string): Date | undefined {
  const m = NAME_RE.exec(id);
  if (!m) return undefined;
  const [d, t] = [m[1]!, m[2]!];
  return new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}Z`,
  );
}

/** The ledger's entries as the listing shows them, oldest first. Nothing is read or decrypted. */
export async function listLedger(storage: Storage): Promise<LedgerName[]> {
  const sizes = new Map<string, number>();
  for await (const o of storage.list(ERASURES_PREFIX)) sizes.set(o.key, o.size);
  const out: LedgerName[] = [];
  for (const [key, bytes] of sizes) {
    const m = /^erasures\/(erasure_[^/]+?)\.json(\.age)?$/.exec(key);
    if (!m) continue;
    const time = timeOfId(m[1]!);
    if (!time) continue;
    const sidecarKey = `${key}.sha256`;
    out.push({ id: m[1]!, time, key, sidecarKey, bytes, hasSidecar: sizes.has(sidecarKey) });
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime() || (a.id < b.id ? -1 : 1));
}

async function encrypt(data: Buffer, encryption: EncryptionConfig): Promise<Buffer> {
  if (encryption.mode !== 'age') return data;
  const chunks: Buffer[] = [];
  const enc = createAgeEncryptStream(
    encryption.passphrase ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients },
  );
  enc.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(Readable.from([data]), enc);
  return Buffer.concat(chunks);
}

/**
 * Stores `entry` in every destination: the object, then its sidecar, each create-only. The same
 * encrypted bytes go everywhere. Returns the stored keys per destination.
 */
export async function writeLedgerEntry(
  destinations: readonly Storage[],
  entry: ErasureEntry,
  encryption: EncryptionConfig,
  logger: Logger,
): Promise<{ destination: string; key: string }[]> {
  const plain = Buffer.from(`${JSON.stringify(entry, null, 2)}\n`, 'utf8');
  const stored = await encrypt(plain, encryption);
  const key = `${ERASURES_PREFIX}${entry.id}.json${encryption.mode === 'age' ? '.age' : ''}`;
  const source = bufferSource(stored);
  const sidecar = bufferSource(sha256Sidecar(source.sha256, key.slice(ERASURES_PREFIX.length)));
  const out: { destination: string; key: string }[] = [];
  for (const d of destinations) {
    await d.put(key, source);
    await d.put(`${key}.sha256`, sidecar);
    logger.info(`stored ledger entry ${key} in ${d.display}`);
    out.push({ destination: d.display, key });
  }
  return out;
}

async function readBuffer(storage: Storage, key: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await storage.get(key)) {
    n += (c as Buffer).length;
    if (n > limit) throw new JobFailedError(`${key} is larger than ${limit} bytes: not a ledger entry`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The ledger cannot be read: a restore or drill that would replay it must not report success. */
export class LedgerError extends JobFailedError {}

/**
 * Reads, checks and decrypts every entry, oldest first. A sidecar that disagrees with the stored
 * bytes, an entry that does not decrypt or does not parse fails the whole read: replaying part of
 * the ledger would bring erased people back. An entry without a sidecar (a `forget` interrupted
 * between its two writes) is still applied, with a warning: it is an erasure someone asked for.
 */
export async function readLedger(
  storage: Storage,
  keys: DecryptionKeys,
  logger: Logger,
): Promise<ErasureEntry[]> {
  const out: ErasureEntry[] = [];
  for (const n of await listLedger(storage)) {
    const stored = await readBuffer(storage, n.key, MAX_ENTRY_BYTES);
    const sha = createHash('sha256').update(stored).digest('hex');
    if (n.hasSidecar) {
      const side = (await readBuffer(storage, n.sidecarKey, 4096)).toString('utf8');
      const want = side.trim().split(/\s+/)[0];
      if (want !== sha) {
        throw new ChecksumMismatchError(
          `ledger entry ${n.key} in ${storage.display} has SHA-256 ${sha}; its sidecar says ${want}`,
          {
            hint: 'the entry was altered or damaged: copy it from another destination (every destination holds the ledger)',
          },
        );
      }
    } else {
      logger.warn(`ledger entry ${n.key} has no sidecar (an interrupted forget?): applied anyway`);
    }
    let plain = stored;
    if (n.key.endsWith('.age')) {
      try {
        const chunks: Buffer[] = [];
        const dec = createAgeDecryptStream(keys);
        dec.on('data', (c: Buffer) => chunks.push(c));
        await pipeline(Readable.from([stored]), dec);
        plain = Buffer.concat(chunks);
      } catch (error) {
        throw new LedgerError(
          `cannot decrypt ledger entry ${n.key} in ${storage.display}: ${error instanceof Error ? error.message : String(error)}`,
          {
            hint: 'give the identity (or passphrase) of the backup recipients: the ledger is encrypted to them',
          },
        );
      }
    }
    const entry = parseEntry(plain.toString('utf8'), n);
    out.push(entry);
  }
  return out;
}

function parseEntry(text: string, n: LedgerName): ErasureEntry {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LedgerError(`ledger entry ${n.key} is not JSON`);
  }
  const e = raw as Partial<ErasureEntry>;
  const bad = (why: string) =>
    new LedgerError(`ledger entry ${n.key} cannot be used: ${why}`, {
      hint:
        e?.format && e.format !== ERASURE_FORMAT
          ? 'it was written by a newer lms-backup: upgrade to replay it'
          : 'restore it from another destination',
    });
  if (!e || typeof e !== 'object') throw bad('not an object');
  if (e.format !== ERASURE_FORMAT) throw bad(`format "${String(e.format)}" is not ${ERASURE_FORMAT}`);
  if (e.id !== n.id) throw bad(`it names entry "${String(e.id)}", not ${n.id}`);
  if (!e.table || typeof e.table.schema !== 'string' || typeof e.table.name !== 'string')
    throw bad('no table');
  if (!Array.isArray(e.columns) || e.columns.length === 0 || !e.columns.every((c) => typeof c === 'string'))
    throw bad('no key columns');
  if (
    !Array.isArray(e.keys) ||
    !e.keys.every(
      (k) => Array.isArray(k) && k.length === e.columns!.length && k.every((v) => typeof v === 'string'),
    )
  )
    throw bad('keys do not match the key columns');
  return e as ErasureEntry;
}

/** The number of keys in all entries. */
export function keyCount(entries: readonly ErasureEntry[]): number {
  return entries.reduce((s, e) => s + e.keys.length, 0);
}
