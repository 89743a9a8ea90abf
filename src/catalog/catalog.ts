import { ConfigError, JobFailedError } from '../errors.js';
import { forEachLimited, STORAGE_READ_CONCURRENCY } from '../pool.js';
import { StorageUnavailableError } from '../storage/errors.js';
import type { Storage } from '../storage/types.js';
import { DB_PREFIX, manifestKey, nameInDb } from './layout.js';
import { compareBackupIds, parseBackupId } from './names.js';
import { manifestProblems } from './objects.js';
import { checkManifest, MAX_MANIFEST_BYTES, readDrillReports } from './read.js';
import { readObjectText } from './runs.js';
import type { DrillReport, Manifest } from './types.js';

/**
 * complete: a manifest consistent with its name and its objects; incomplete: no manifest (a
 * backup that never finished, or one half-deleted); damaged: a manifest exists but cannot be
 * believed (unreadable, or it disagrees with its name or its objects). Only complete backups are
 * offered for restore, drill and verify, or count for retention.
 */
export type BackupState = 'complete' | 'incomplete' | 'damaged';

export interface BackupEntry {
  id: string;
  /** The manifest's snapshot time when complete, else the time in the name. */
  time: Date;
  state: BackupState;
  /** Set for complete backups only: a damaged backup's manifest is not believed. */
  manifest?: Manifest;
  /** Every stored key that belongs to this backup (dump, sidecar, manifest). */
  keys: string[];
  /** Bytes of the stored objects. */
  bytes: number;
  /** Set when a manifest exists but cannot be read: such a backup is never restored nor pruned. */
  manifestError?: string;
  /** Why a damaged backup's manifest is not believed (state "damaged"), for a person. */
  damage?: string;
  /** The newest drill of this backup, if any. */
  /** The last drill that ran (one that could not run proves nothing either way). */
  lastDrill?: { id: string; verdict: 'pass' | 'fail'; finishedAt: string };
}

export class NoBackupError extends JobFailedError {}

/** A named backup whose manifest cannot be believed (state damaged). */
export class DamagedBackupError extends JobFailedError {}

/** `--before` names a time no complete backup is at or before: the input is wrong (exit 2). */
export class NoBackupBeforeError extends ConfigError {}

export async function readManifest(storage: Storage, id: string): Promise<Manifest> {
  const key = manifestKey(id);
  const text = await readObjectText(storage, key, MAX_MANIFEST_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new JobFailedError(
      `${key} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      { hint: 'the manifest is damaged: restore it from another destination, or inspect it by hand' },
    );
  }
  const checked = checkManifest(value);
  if (typeof checked === 'string') {
    throw new JobFailedError(`${key} cannot be used: ${checked}`, {
      hint: 'a manifest of an unknown format was written by a newer lms-backup: upgrade lms-backup to read it',
    });
  }
  return checked;
}

/**
 * The manifests of the `count` newest complete backups, newest first: only those are read, so a
 * daily backup does not fetch every manifest the destination has ever held. Unreadable ones are skipped.
 */
export async function recentManifests(storage: Storage, count: number): Promise<Manifest[]> {
  const ids: string[] = [];
  const sizes = new Map<string, number>();
  for await (const obj of storage.list(DB_PREFIX)) {
    sizes.set(obj.key, obj.size);
    const m = /^db\/(.+)\.manifest\.json$/.exec(obj.key);
    if (m && parseBackupId(m[1]!)) ids.push(m[1]!);
  }
  ids.sort((a, b) => compareBackupIds(b, a));
  const out: Manifest[] = [];
  // Read as many at once as are still wanted (a remote store answers them together), newest
  // first; a damaged or incomplete one only makes room for the next.
  let next = 0;
  while (out.length < count && next < ids.length) {
    const wave = ids.slice(next, next + count - out.length);
    next += wave.length;
    const read = await Promise.all(
      wave.map((id) =>
        readManifest(storage, id).then(
          (manifest) => (manifestProblems(id, manifest, sizes).length === 0 ? manifest : undefined),
          (error: unknown) => {
            // a damaged manifest is not a baseline; a store that does not answer is the caller's
            if (error instanceof StorageUnavailableError) throw error;
            return undefined;
          },
        ),
      ),
    );
    for (const m of read) if (m) out.push(m);
  }
  return out;
}

/** `db/<id>.<anything>`: the backup a stored key belongs to, or null. */
function backupIdOfKey(key: string): string | null {
  if (!key.startsWith(DB_PREFIX)) return null;
  const name = nameInDb(key);
  const dot = name.indexOf('.');
  if (dot <= 0) return null;
  const id = name.slice(0, dot);
  return parseBackupId(id) ? id : null;
}

/**
 * Every backup in a destination, newest first, with its state and its last drill. A manifest
 * is believed (state complete) only when it agrees with its name and with the objects the
 * listing shows (manifestProblems); otherwise the backup is damaged, with the reason.
 */
export async function listBackups(
  storage: Storage,
  options: { withDrills?: boolean } = {},
): Promise<BackupEntry[]> {
  const groups = new Map<string, { keys: string[]; bytes: number; hasManifest: boolean }>();
  const sizes = new Map<string, number>();
  for await (const obj of storage.list(DB_PREFIX)) {
    const id = backupIdOfKey(obj.key);
    if (!id) continue;
    sizes.set(obj.key, obj.size);
    const g = groups.get(id) ?? { keys: [], bytes: 0, hasManifest: false };
    g.keys.push(obj.key);
    g.bytes += obj.size;
    if (obj.key === manifestKey(id)) g.hasManifest = true;
    groups.set(id, g);
  }
  const drills = options.withDrills === false ? [] : await readDrillReports(storage);
  const lastDrill = new Map<string, DrillReport>();
  // Oldest first, so the newest drill of each backup wins.
  drills.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  for (const d of drills) if (d.verdict !== 'could-not-run') lastDrill.set(d.backupId, d);

  const entries: BackupEntry[] = [];
  const work = [...groups];
  // Manifests are small: read a few at a time (remote stores answer slowly, not narrowly).
  const readOne = async ([id, g]: [string, { keys: string[]; bytes: number; hasManifest: boolean }]) => {
    const entry: BackupEntry = {
      id,
      time: parseBackupId(id)!.time,
      state: 'incomplete',
      keys: g.keys.sort(),
      bytes: g.bytes,
    };
    if (g.hasManifest) {
      try {
        const manifest = await readManifest(storage, id);
        const problems = manifestProblems(id, manifest, sizes);
        if (problems.length === 0) {
          entry.manifest = manifest;
          entry.state = 'complete';
          const t = new Date(manifest.createdAt);
          // A manifest with a broken time keeps the time in its name.
          if (!Number.isNaN(t.getTime())) entry.time = t;
        } else {
          entry.state = 'damaged';
          entry.damage = problems.join('; ');
        }
      } catch (error) {
        // Unreadable (damaged, or from a newer format): never offered for restore; retention keeps it.
        entry.state = 'damaged';
        entry.manifestError = error instanceof Error ? error.message : String(error);
        entry.damage = `manifest unreadable: ${entry.manifestError}`;
      }
    }
    const d = lastDrill.get(id);
    if (d && d.verdict !== 'could-not-run') {
      entry.lastDrill = { id: d.id, verdict: d.verdict, finishedAt: d.finishedAt };
    }
    entries.push(entry);
  };
  await forEachLimited(work, STORAGE_READ_CONCURRENCY, readOne);
  return entries.sort((a, b) => b.time.getTime() - a.time.getTime() || compareBackupIds(b.id, a.id));
}

export interface Selection {
  /** A backup id (`lms_20240115_020000`) or "latest" (default). */
  name?: string;
  /** The newest complete backup taken at or before this time. */
  before?: Date;
  /** The newest complete backup whose last drill passed. */
  verifiedOnly?: boolean;
}

/** Picks a complete backup; incomplete ones are never offered. */
export function selectBackup(entries: BackupEntry[], selection: Selection, where: string): BackupEntry {
  const complete = entries.filter((e) => e.state === 'complete');
  if (selection.name && selection.name !== 'latest') {
    const id = selection.name.replace(/\.(manifest\.json|dump(\.age)?)$/, '');
    const found = entries.find((e) => e.id === id);
    if (!found) {
      throw new ConfigError(`backup "${id}" is not in ${where}`, {
        hint: `run "lms-backup list" to see the backups there${complete[0] ? ` (newest: ${complete[0].id})` : ''}`,
      });
    }
    if (found.state === 'damaged') {
      throw new DamagedBackupError(
        `backup "${id}" in ${where} is damaged: ${found.damage ?? 'its manifest cannot be believed'}`,
        {
          hint: `it is never restored, drilled or pruned; inspect db/${id}.manifest.json and its objects${complete[0] ? `, or choose another backup (newest complete: ${complete[0].id})` : ''}`,
        },
      );
    }
    if (found.state !== 'complete') {
      throw new JobFailedError(
        `backup "${id}" in ${where} is incomplete (no manifest): it cannot be trusted`,
        {
          hint: 'choose a complete backup; "lms-backup list" shows the state of each',
        },
      );
    }
    return found;
  }
  let candidates = complete;
  if (selection.before) {
    const t = selection.before.getTime();
    candidates = candidates.filter((e) => e.time.getTime() <= t);
  }
  if (selection.verifiedOnly) candidates = candidates.filter((e) => e.lastDrill?.verdict === 'pass');
  const chosen = candidates[0];
  if (!chosen) {
    const what = [
      'no complete backup',
      selection.verifiedOnly ? 'with a passed drill' : '',
      selection.before ? `taken before ${selection.before.toISOString()}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const damaged = entries.filter((e) => e.state === 'damaged');
    const hint =
      (complete.length
        ? `there are ${complete.length} complete backup(s); newest ${complete[0]!.id}` +
          (selection.before ? `, oldest ${complete[complete.length - 1]!.id}` : '')
        : 'run "lms-backup backup" first, or check the destination') +
      (damaged.length
        ? `; ${damaged.length} damaged backup(s) are never offered ("lms-backup list" shows why)`
        : '');
    // A --before that names nothing is an input to fix (exit 2), like an unknown --backup.
    if (selection.before && complete.length > 0 && !selection.verifiedOnly)
      throw new NoBackupBeforeError(`${what} in ${where}`, { hint });
    throw new NoBackupError(`${what} in ${where}`, { hint });
  }
  return chosen;
}

/** Damaged backups newer than `chosen`: "latest" skipped them, and that must be said. */
export function newerDamaged(entries: readonly BackupEntry[], chosen: BackupEntry): BackupEntry[] {
  return entries.filter(
    (e) =>
      e.state === 'damaged' &&
      (e.time.getTime() > chosen.time.getTime() || compareBackupIds(e.id, chosen.id) > 0),
  );
}

export function damagedReason(e: BackupEntry): string {
  return `the newer backup ${e.id} is damaged (${e.damage ?? 'its manifest cannot be believed'}), so an older one was checked`;
}
