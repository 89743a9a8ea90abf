import { ConfigError, JobFailedError } from '../errors.js';
import type { Storage } from '../storage/types.js';
import { compareBackupIds, parseBackupId } from './names.js';
import { checkManifest, MAX_MANIFEST_BYTES, readDrillReports } from './read.js';
import { readObjectText } from './runs.js';
import type { DrillReport, Manifest } from './types.js';

export type BackupState = 'complete' | 'incomplete';

export interface BackupEntry {
  id: string;
  /** The manifest's snapshot time when complete, else the time in the name. */
  time: Date;
  state: BackupState;
  manifest?: Manifest;
  /** Every stored key that belongs to this backup (dump, sidecar, manifest). */
  keys: string[];
  /** Bytes of the stored objects. */
  bytes: number;
  /** Set when a manifest exists but cannot be read: such a backup is never restored nor pruned. */
  manifestError?: string;
  /** The newest drill of this backup, if any. */
  lastDrill?: { id: string; verdict: 'pass' | 'fail'; finishedAt: string };
}

export class NoBackupError extends JobFailedError {}

export async function readManifest(storage: Storage, id: string): Promise<Manifest> {
  const key = `db/${id}.manifest.json`;
  const checked = checkManifest(JSON.parse(await readObjectText(storage, key, MAX_MANIFEST_BYTES)));
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
  for await (const obj of storage.list('db/')) {
    const m = /^db\/(.+)\.manifest\.json$/.exec(obj.key);
    if (m && parseBackupId(m[1]!)) ids.push(m[1]!);
  }
  ids.sort((a, b) => compareBackupIds(b, a));
  const out: Manifest[] = [];
  for (const id of ids) {
    if (out.length >= count) break;
    try {
      out.push(await readManifest(storage, id));
    } catch {
      // a damaged manifest is not a baseline
    }
  }
  return out;
}

/** Every backup in a destination, newest first, with its state and its last drill. */
export async function listBackups(
  storage: Storage,
  options: { withDrills?: boolean } = {},
): Promise<BackupEntry[]> {
  const groups = new Map<string, { keys: string[]; bytes: number; hasManifest: boolean }>();
  for await (const obj of storage.list('db/')) {
    const name = obj.key.slice('db/'.length);
    const m =
      /^(.+?)\.(dump(?:\.age)?(?:\.sha256)?|globals\.sql(?:\.age)?(?:\.sha256)?|manifest\.json)$/.exec(name);
    if (!m || !parseBackupId(m[1]!)) continue;
    const id = m[1]!;
    const g = groups.get(id) ?? { keys: [], bytes: 0, hasManifest: false };
    g.keys.push(obj.key);
    g.bytes += obj.size;
    if (m[2] === 'manifest.json') g.hasManifest = true;
    groups.set(id, g);
  }
  const drills = options.withDrills === false ? [] : await readDrillReports(storage);
  const lastDrill = new Map<string, DrillReport>();
  // Oldest first, so the newest drill of each backup wins.
  drills.sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
  for (const d of drills) lastDrill.set(d.backupId, d);

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
        entry.manifest = manifest;
        entry.state = 'complete';
        const t = new Date(manifest.createdAt);
        // A manifest with a broken time keeps the time in its name.
        if (!Number.isNaN(t.getTime())) entry.time = t;
      } catch (error) {
        // Unreadable (damaged, or from a newer format): never offered for restore; retention keeps it.
        entry.manifestError = error instanceof Error ? error.message : String(error);
      }
    }
    const d = lastDrill.get(id);
    if (d) entry.lastDrill = { id: d.id, verdict: d.verdict, finishedAt: d.finishedAt };
    entries.push(entry);
  };
  const workers = Array.from({ length: Math.min(8, work.length) }, async () => {
    for (let next = work.shift(); next; next = work.shift()) await readOne(next);
  });
  await Promise.all(workers);
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
    throw new NoBackupError(`${what} in ${where}`, {
      hint: complete.length
        ? `there are ${complete.length} complete backup(s); newest ${complete[0]!.id}`
        : 'run "lms-backup backup" first, or check the destination',
    });
  }
  return chosen;
}
