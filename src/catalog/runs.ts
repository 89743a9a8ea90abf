/**
 * Run records: one small JSON file per run of any command (`runs/<id>.json`), success or
 * failure. They are the history the DR readiness report is computed from.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { forEachLimited, STORAGE_READ_CONCURRENCY } from '../pool.js';
import { StorageConflictError } from '../storage/errors.js';
import { directoryExists } from '../storage/fs-watch.js';
import { bufferSource } from '../storage/source.js';
import type { Storage } from '../storage/types.js';
import { RUNS_PREFIX } from './layout.js';
import { spooledRecords, spoolRecord, unspool } from './spool.js';
import { RUN_RECORD_FORMAT, type RunCommand, type RunRecord } from './types.js';

/** Run records are small; anything bigger than this is not one of ours. */
const MAX_RECORD_BYTES = 1024 * 1024;

const RUN_COMMANDS: ReadonlySet<string> = new Set<RunCommand>([
  'backup',
  'verify',
  'drill',
  'restore',
  'prune',
  'report',
  'demo',
  'forget',
]);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `YYYYMMDD_HHmmss` in UTC. */
export function compactUtc(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}_` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`
  );
}

/** `run_YYYYMMDD_HHmmss_<command>_<4 hex>`: sortable by start time, distinct within a second. */
export function newRunId(
  command: RunCommand,
  now: Date,
  random: (n: number) => Buffer = randomBytes,
): string {
  if (Number.isNaN(now.getTime())) throw new TypeError('newRunId: invalid date');
  return `run_${compactUtc(now)}_${command}_${random(2).toString('hex')}`;
}

export function runRecordKey(id: string): string {
  return `${RUNS_PREFIX}${id}.json`;
}

const RUN_ID_TIME = /^run_(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})_/;

/** The start time encoded in a run id (or key), or null when it has none. */
export function runIdTime(idOrKey: string): Date | null {
  const base = idOrKey.startsWith(RUNS_PREFIX) ? idOrKey.slice(RUNS_PREFIX.length) : idOrKey;
  const m = RUN_ID_TIME.exec(base);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(t) ? null : new Date(t);
}

export function serializeRunRecord(record: RunRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Stores `record` at `runs/<id>.json` (create-only: a second write of the same id throws). */
export async function writeRunRecord(storage: Storage, record: RunRecord): Promise<void> {
  await storage.put(runRecordKey(record.id), bufferSource(serializeRunRecord(record)));
}

/**
 * Writes the record to every storage and never throws: a run record is evidence, not the job.
 * Called from `finally`/`catch` blocks, so its own failure must never replace the error that
 * ended the run; each failure is one warning naming the destination, and the record waits in
 * the local spool (spool.ts) for the next run that reaches that destination. A successful write
 * delivers what the spool holds for it. Returns where it landed.
 */
export async function writeRunRecordBestEffort(
  storages: readonly Storage[],
  record: RunRecord,
  logger: Logger,
  options: {
    env?: NodeJS.ProcessEnv;
    spool?: boolean;
    /** Skip a local destination whose root does not exist (a run that ended before it began). */
    existingOnly?: boolean;
  } = {},
): Promise<{ written: string[]; failed: string[]; spooled: string[] }> {
  const env = options.env ?? process.env;
  const written: string[] = [];
  const failed: string[] = [];
  const spooled: string[] = [];
  const warn = (message: string) => {
    try {
      logger.warn(message);
    } catch {
      // A broken logger must not turn a warning into a crash either.
    }
  };
  await Promise.all(
    storages.map(async (storage) => {
      let display = '(unknown destination)';
      let known = false;
      try {
        display = storage.display;
        known = true;
        // A local root that does not exist is not created for such a record (a mistyped --from).
        if (options.existingOnly && storage.kind === 'local' && !(await directoryExists(display, 'put')))
          return;
        await writeRunRecord(storage, record);
        written.push(display);
      } catch (error) {
        failed.push(display);
        const file =
          options.spool === false || !known
            ? null
            : await spoolRecord(display, record.id, serializeRunRecord(record), env);
        if (file) spooled.push(file);
        warn(
          `could not write run record ${runRecordKey(record.id)} to ${display}: ${messageOf(error)}` +
            (file ? `; kept in ${file}, delivered by the next run that reaches ${display}` : ''),
        );
        return;
      }
      await deliverSpooled(storage, display, env, warn);
    }),
  );
  return { written, failed, spooled };
}

/** Delivers the records the spool holds for `storage` (written while it was down). */
async function deliverSpooled(
  storage: Storage,
  display: string,
  env: NodeJS.ProcessEnv,
  warn: (m: string) => void,
): Promise<void> {
  for (const { id, file, body } of await spooledRecords(display, env)) {
    try {
      await storage.put(runRecordKey(id), bufferSource(body));
    } catch (error) {
      // Already there (a concurrent run delivered it): done; anything else: try next time.
      if (!(error instanceof StorageConflictError)) {
        warn(`could not deliver the spooled run record ${id} to ${display}: ${messageOf(error)}`);
        return;
      }
    }
    await unspool(file, env);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/** Reads a whole object into a string, refusing anything larger than `limit` bytes. */
export async function readObjectText(
  storage: Storage,
  key: string,
  limit = MAX_RECORD_BYTES,
): Promise<string> {
  const stream = await storage.get(key);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > limit) {
      stream.destroy();
      throw new Error(`larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/**
 * Checks that `value` is a run record this version understands. Returns the record, or a
 * reason it is not one. Unknown extra fields are kept (formats only grow).
 */
export function parseRunRecord(value: unknown): RunRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.format !== RUN_RECORD_FORMAT) {
    return typeof r.format === 'string' ? `unknown format "${r.format}"` : 'no "format" field';
  }
  if (typeof r.id !== 'string' || r.id === '') return 'no "id"';
  if (typeof r.command !== 'string' || !RUN_COMMANDS.has(r.command)) return `unknown command "${r.command}"`;
  if (!isIsoDate(r.startedAt)) return '"startedAt" is not a date';
  if (!isIsoDate(r.finishedAt)) return '"finishedAt" is not a date';
  if (r.status !== 'success' && r.status !== 'failure') return `unknown status "${r.status}"`;
  if (typeof r.durationMs !== 'number') return '"durationMs" is not a number';
  if (!Array.isArray(r.warnings)) return '"warnings" is not a list';
  return r as unknown as RunRecord;
}

export interface ReadRunRecordsOptions {
  /** Only records that finished (or started) at or after this time. */
  since?: Date;
  /** Told about every file that was skipped, and why. */
  logger?: Logger;
}

/**
 * Every readable run record in `storage`, oldest first. Unreadable files, foreign JSON and
 * unknown format versions are skipped with a warning, never fatal: one bad file must not hide
 * the rest of the history. With `since`, files whose id says they started more than a day
 * before it are not even downloaded (the margin absorbs ids made from a skewed clock).
 */
export async function readRunRecords(
  storage: Storage,
  options: ReadRunRecordsOptions = {},
): Promise<RunRecord[]> {
  const { since, logger } = options;
  const sinceMs = since?.getTime();
  const keys: string[] = [];
  for await (const obj of storage.list(RUNS_PREFIX)) {
    if (!obj.key.endsWith('.json')) continue;
    if (sinceMs !== undefined) {
      const t = runIdTime(obj.key);
      if (t && t.getTime() < sinceMs - 86_400_000) continue;
    }
    keys.push(obj.key);
  }
  const records: RunRecord[] = [];
  await forEachLimited(keys, STORAGE_READ_CONCURRENCY, async (key) => {
    let value: unknown;
    try {
      value = JSON.parse(await readObjectText(storage, key));
    } catch (error) {
      logger?.warn(`skipping run record ${key} in ${storage.display}: unreadable (${messageOf(error)})`);
      return;
    }
    const parsed = parseRunRecord(value);
    if (typeof parsed === 'string') {
      logger?.warn(`skipping run record ${key} in ${storage.display}: ${parsed}`);
      return;
    }
    if (sinceMs !== undefined) {
      const latest = Math.max(Date.parse(parsed.startedAt), Date.parse(parsed.finishedAt));
      if (latest < sinceMs) return;
    }
    records.push(parsed);
  });
  return records.sort(
    (a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.id.localeCompare(b.id),
  );
}
