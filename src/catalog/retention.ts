/**
 * Retention planning (docs/architecture.md): which backups `prune` keeps and which it removes, and why.
 * A pure function of the catalog and the clock, so every safety rule is property-tested.
 *
 * The rules, in the order a person reads them:
 *  - when the newest backup run failed, nothing is removed (not even incomplete leftovers);
 *  - future-dated backups (clock skew) are kept, with a warning;
 *  - a complete backup younger than `keepDays` is kept;
 *  - the newest complete backup of each of the last `keepDaily` days, `keepWeekly` ISO weeks
 *    and `keepMonthly` months (UTC) that have one is kept (grandfather-father-son);
 *  - the newest `keepMin` complete backups are kept, so there are never fewer than that;
 *  - the newest complete backup, and the newest complete backup whose last drill passed, are kept;
 *  - an incomplete backup (no manifest) older than one day is removed; a younger one may be in progress;
 *  - a damaged backup (a manifest that is unreadable, or disagrees with its name or its objects)
 *    is kept, with a warning, and never counts as complete: it neither fills the minimum count
 *    nor stands as the newest complete or drill-passed backup, so it cannot push out a good one;
 *    an unreadable manifest may be a complete backup written by a newer version.
 * Ages come from BackupEntry.time (the manifest's recorded snapshot time), never from a store's mtime.
 */
import { ConfigError, ConfigErrors } from '../errors.js';
import type { BackupEntry } from './catalog.js';
import { compareBackupIds } from './names.js';

export interface RetentionPolicy {
  /** Complete backups younger than this many days are always kept. At least 1. */
  keepDays: number;
  /** The newest complete backup of each of the last N days that have one. */
  keepDaily: number;
  /** The newest complete backup of each of the last N ISO weeks (UTC) that have one. */
  keepWeekly: number;
  /** The newest complete backup of each of the last N months (UTC) that have one. */
  keepMonthly: number;
  /** Never fewer complete backups than this: the newest N are always kept. */
  keepMin: number;
}

export const DEFAULT_RETENTION_POLICY: Readonly<RetentionPolicy> = Object.freeze({
  keepDays: 30,
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 12,
  keepMin: 7,
});

export interface RetentionInput {
  now: Date;
  /** In any order. */
  backups: readonly BackupEntry[];
  /** The newest backup run failed: delete nothing until a backup succeeds again. */
  newestBackupRunFailed: boolean;
  policy: RetentionPolicy;
}

export interface RetentionPlan {
  /** Newest first. Every kept backup has at least one reason. */
  keep: { id: string; reasons: string[] }[];
  /** Newest first. */
  remove: { id: string; reason: string }[];
  warnings: string[];
}

const DAY_MS = 86_400_000;
/** An incomplete backup younger than this may still be in progress. */
const INCOMPLETE_GRACE_MS = DAY_MS;

const POLICY_INPUTS: Record<keyof RetentionPolicy, { input: string; min: number }> = {
  keepDays: { input: 'keep-days', min: 1 },
  keepDaily: { input: 'keep-daily', min: 0 },
  keepWeekly: { input: 'keep-weekly', min: 0 },
  keepMonthly: { input: 'keep-monthly', min: 0 },
  keepMin: { input: 'keep-min', min: 0 },
};

/**
 * Fills in defaults and checks every field, reporting all problems together.
 * Throws ConfigError (exit 2) for anything that is not a whole number in range.
 */
export function retentionPolicy(given: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const policy: RetentionPolicy = { ...DEFAULT_RETENTION_POLICY };
  for (const field of Object.keys(POLICY_INPUTS) as (keyof RetentionPolicy)[]) {
    const value = given[field];
    if (value !== undefined) policy[field] = value;
  }
  validateRetentionPolicy(policy);
  return policy;
}

export function validateRetentionPolicy(policy: RetentionPolicy): void {
  const problems: ConfigError[] = [];
  for (const [field, { input, min }] of Object.entries(POLICY_INPUTS) as [
    keyof RetentionPolicy,
    { input: string; min: number },
  ][]) {
    const value = policy[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      problems.push(
        new ConfigError(
          `retention ${input} is ${String(value)}: it must be a whole number, at least ${min}`,
          {
            hint:
              field === 'keepDays'
                ? `set ${input} to 1 or more (default ${DEFAULT_RETENTION_POLICY.keepDays}); prune never deletes backups younger than that`
                : `set ${input} to 0 or more (default ${DEFAULT_RETENTION_POLICY[field]})`,
          },
        ),
      );
    }
  }
  if (problems.length > 0) throw new ConfigErrors(problems);
}

/** Newest first; ties broken by id so the plan never depends on input order. */
function newestFirst(a: BackupEntry, b: BackupEntry): number {
  return (
    b.time.getTime() - a.time.getTime() ||
    compareBackupIds(b.id, a.id) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "2024-01-15" (UTC). */
export function dayLabel(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** "2024-01" (UTC). */
export function monthLabel(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}`;
}

/** ISO 8601 week, "2024-W03" (UTC): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekLabel(date: Date): string {
  const weekday = (date.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(
    Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 3 - weekday),
  );
  const year = thursday.getUTCFullYear();
  const dayOfYear = (thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS; // 0-based
  return `${pad(year, 4)}-W${pad(Math.floor(dayOfYear / 7) + 1)}`;
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const { policy, newestBackupRunFailed } = input;
  validateRetentionPolicy(policy);
  const now = input.now.getTime();
  if (Number.isNaN(now)) throw new TypeError('planRetention: invalid "now"');

  const reasons = new Map<string, string[]>();
  const keep = (entry: BackupEntry, reason: string) => {
    const list = reasons.get(entry.id) ?? [];
    if (!list.includes(reason)) list.push(reason);
    reasons.set(entry.id, list);
  };
  const warnings: string[] = [];
  const removeReason = new Map<string, string>();

  // Without a valid time a backup's age is unknown, so no age rule may remove it.
  const undated = input.backups
    .filter((e) => Number.isNaN(e.time.getTime()))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const all = input.backups.filter((e) => !Number.isNaN(e.time.getTime())).sort(newestFirst);
  for (const e of undated) {
    keep(e, 'recorded time is not a valid date');
    warnings.push(`${e.id} has no valid recorded time: kept; inspect db/${e.id}.manifest.json`);
  }

  const isFuture = (e: BackupEntry) => e.time.getTime() > now;
  for (const e of all) {
    if (!isFuture(e)) continue;
    keep(e, 'dated in the future (clock skew?)');
    warnings.push(
      `${e.id} is dated ${e.time.toISOString()}, after now (${input.now.toISOString()}): kept; ` +
        'check the clock of the machine or database that took it',
    );
  }

  // Future-dated backups are kept above; the rules below protect the newest *real* ones.
  const complete = all.filter((e) => e.state === 'complete' && !isFuture(e));

  const days = policy.keepDays;
  for (const e of complete) {
    if (now - e.time.getTime() < days * DAY_MS) keep(e, `younger than ${days} day${days === 1 ? '' : 's'}`);
  }

  const periods: [count: number, kind: string, label: (d: Date) => string][] = [
    [policy.keepDaily, 'day', dayLabel],
    [policy.keepWeekly, 'week', isoWeekLabel],
    [policy.keepMonthly, 'month', monthLabel],
  ];
  for (const [count, kind, label] of periods) {
    const seen = new Set<string>();
    for (const e of complete) {
      if (seen.size >= count) break;
      const period = label(e.time);
      if (seen.has(period)) continue;
      seen.add(period);
      keep(e, `newest of ${kind} ${period}`);
    }
  }

  for (const e of complete.slice(0, policy.keepMin)) keep(e, `minimum count ${policy.keepMin}`);

  const newest = complete[0];
  if (newest) keep(newest, 'newest complete backup');
  const newestDrilled = complete.find((e) => e.lastDrill?.verdict === 'pass');
  if (newestDrilled) keep(newestDrilled, 'newest drill-passed backup');

  for (const e of all) {
    if (e.state === 'complete' || isFuture(e)) continue;
    if (e.state === 'damaged') {
      keep(e, 'damaged: never deleted on the strength of its manifest');
      warnings.push(
        `${e.id} is damaged (${e.damage ?? e.manifestError ?? 'its manifest cannot be believed'}): kept, ` +
          `and not counted as a complete backup; inspect db/${e.id}.manifest.json and its objects`,
      );
    } else if (e.keys.some((k) => k.endsWith('.manifest.json'))) {
      keep(e, 'manifest present but unreadable');
      warnings.push(
        `${e.id} has a manifest that could not be read: kept; inspect db/${e.id}.manifest.json ` +
          '(it may have been written by a newer lms-backup)',
      );
    } else if (now - e.time.getTime() <= INCOMPLETE_GRACE_MS) {
      keep(e, 'incomplete, younger than 1 day (may be in progress)');
    } else {
      removeReason.set(e.id, 'incomplete, older than 1 day');
    }
  }

  for (const e of complete) {
    if (!reasons.has(e.id)) {
      removeReason.set(e.id, `older than ${days} day${days === 1 ? '' : 's'} and outside every keep rule`);
    }
  }

  if (complete.length === 0) warnings.push('there is no complete backup in this destination');

  if (newestBackupRunFailed) {
    const held = [...removeReason.keys()];
    for (const id of held) {
      const list = reasons.get(id) ?? [];
      list.push(`newest backup run failed: nothing is deleted (would be: ${removeReason.get(id)})`);
      reasons.set(id, list);
    }
    removeReason.clear();
    warnings.unshift(
      `the newest backup run failed: prune deletes nothing until a backup succeeds` +
        (held.length > 0
          ? ` (${held.length} backup${held.length === 1 ? '' : 's'} would otherwise be removed)`
          : ''),
    );
  }

  const plan: RetentionPlan = { keep: [], remove: [], warnings };
  for (const e of [...all, ...undated]) {
    const why = reasons.get(e.id);
    const gone = removeReason.get(e.id);
    if (why) plan.keep.push({ id: e.id, reasons: why });
    else if (gone !== undefined) plan.remove.push({ id: e.id, reason: gone });
  }
  return plan;
}
