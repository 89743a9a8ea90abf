/**
 * Where each erasure still lives: the backups taken before it (they hold the erased rows, and stay
 * unaltered), and the date the last of them expires under the retention policy, "erasure complete
 * in backups by <date>". Read from the listing alone: the ledger entry's name carries its time, so
 * nothing is decrypted.
 *
 * The date is simulated forward: every day a new complete backup whose drill passes, and a prune
 * with the policy; the day the last of the backups holding the data leaves the plan is the date.
 * A damaged backup is never pruned, so an erasure it holds has no date until it is deleted by hand.
 */
import { type BackupEntry, listBackups } from '../catalog/catalog.js';
import { backupId } from '../catalog/names.js';
import { planRetention, type RetentionPolicy } from '../catalog/retention.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';
import { listLedger } from './ledger.js';

const DAY_MS = 86_400_000;
/** Beyond this the policy keeps backups "forever" for the report's purposes. */
const HORIZON_DAYS = 5 * 366;

export interface ErasureHolding {
  id: string;
  requestedAt: string;
  /** Backups taken before the erasure that still exist: "<destination>: <id>". */
  heldBy: string[];
  /** When the last of them expires (ISO date, UTC); null when none will (damaged, or past the horizon). */
  completeBy: string | null;
  /** Why there is no date, when there is none. */
  note?: string;
}

export interface ErasureStatus {
  entries: number;
  /** Entries some backup still holds. */
  outstanding: number;
  /** The request time of the oldest outstanding entry. */
  oldestOutstanding: string | null;
  /** When every erasure is gone from every backup (null: never, or no outstanding entry). */
  allCompleteBy: string | null;
  perEntry: ErasureHolding[];
  /** The assumption the dates rest on. */
  assumption: string;
}

/**
 * The first day (prune time) at which none of `held` is kept any more, assuming a complete,
 * drill-passed backup at the same time of day every day and a prune after each.
 */
export function expiryOf(
  backups: readonly BackupEntry[],
  held: ReadonlySet<string>,
  policy: RetentionPolicy,
  now: Date,
): Date | null {
  let alive = [...backups];
  const synthetic: BackupEntry[] = [];
  for (let d = 0; d <= HORIZON_DAYS; d++) {
    const at = new Date(now.getTime() + d * DAY_MS);
    if (d > 0) {
      synthetic.push({
        id: backupId('future', at),
        time: at,
        state: 'complete',
        keys: [],
        bytes: 0,
        lastDrill: { id: `drill_${d}`, verdict: 'pass', finishedAt: at.toISOString() },
      });
    }
    const plan = planRetention({
      now: at,
      backups: [...alive, ...synthetic],
      newestBackupRunFailed: false,
      policy,
    });
    const removed = new Set(plan.remove.map((r) => r.id));
    alive = alive.filter((b) => !removed.has(b.id));
    if (!alive.some((b) => held.has(b.id))) return at;
  }
  return null;
}

export async function erasureStatus(
  storages: readonly Storage[],
  policy: RetentionPolicy,
  now: Date,
  logger: Logger,
): Promise<ErasureStatus> {
  const byId = new Map<string, ErasureHolding & { dates: (Date | null)[] }>();
  for (const storage of storages) {
    let ledger: Awaited<ReturnType<typeof listLedger>>;
    let backups: BackupEntry[];
    try {
      ledger = await listLedger(storage);
      backups = await listBackups(storage);
    } catch (error) {
      logger.warn(
        `could not read the erasure ledger of ${storage.display}: ${error instanceof Error ? error.message : String(error)}`,
      );
      continue;
    }
    for (const e of ledger) {
      const h = byId.get(e.id) ?? {
        id: e.id,
        requestedAt: e.time.toISOString(),
        heldBy: [],
        completeBy: null,
        dates: [],
      };
      byId.set(e.id, h);
      // Backups taken before the request hold the data. The name's time is to the second, so a
      // backup of the same second counts as holding it (over-reporting is the safe side).
      const holding = backups.filter(
        (b) =>
          (b.state === 'complete' || b.state === 'damaged') && b.time.getTime() < e.time.getTime() + 1000,
      );
      if (holding.length === 0) continue;
      h.heldBy.push(...holding.map((b) => `${storage.display}: ${b.id}`));
      if (holding.some((b) => b.state === 'damaged')) {
        h.dates.push(null);
        h.note = 'a damaged backup holds it: prune never deletes one; inspect and delete it by hand';
        continue;
      }
      const date = expiryOf(backups, new Set(holding.map((b) => b.id)), policy, now);
      h.dates.push(date);
      if (!date) h.note = `the retention policy keeps a backup holding it beyond ${HORIZON_DAYS} days`;
    }
  }
  const perEntry: ErasureHolding[] = [...byId.values()]
    .sort((a, b) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0))
    .map(({ dates, ...h }) => {
      if (h.heldBy.length && dates.every((d) => d !== null)) {
        const last = new Date(Math.max(...dates.map((d) => d!.getTime())));
        h.completeBy = last.toISOString().slice(0, 10);
      }
      return h;
    });
  const outstanding = perEntry.filter((e) => e.heldBy.length > 0);
  const allDated = outstanding.every((e) => e.completeBy !== null);
  return {
    entries: perEntry.length,
    outstanding: outstanding.length,
    oldestOutstanding: outstanding[0]?.requestedAt ?? null,
    allCompleteBy:
      outstanding.length && allDated
        ? outstanding.map((e) => e.completeBy!).sort()[outstanding.length - 1]!
        : null,
    perEntry,
    assumption: `a complete, drill-passed backup every day and a prune after it, with keep-days ${policy.keepDays}, keep-daily ${policy.keepDaily}, keep-weekly ${policy.keepWeekly}, keep-monthly ${policy.keepMonthly}, keep-min ${policy.keepMin}`,
  };
}

/** The DR report's "Erasures" section (Markdown). */
export function renderErasureStatusMarkdown(s: ErasureStatus): string {
  if (s.entries === 0) return '';
  const out = [
    '',
    '### Erasures',
    '',
    `${s.entries} erasure(s) in the ledger; ${s.outstanding} still held by backups taken before them` +
      (s.oldestOutstanding ? ` (oldest outstanding: requested ${s.oldestOutstanding})` : '') +
      (s.outstanding
        ? s.allCompleteBy
          ? `; every erasure complete in backups by ${s.allCompleteBy}.`
          : '; some have no completion date (see below).'
        : '.'),
    '',
    '| Erasure | Requested | Backups holding it | Complete in backups by |',
    '| --- | --- | --- | --- |',
    ...s.perEntry.map(
      (e) =>
        `| \`${e.id}\` | ${e.requestedAt} | ${e.heldBy.length ? e.heldBy.length : 'none'} | ${
          e.heldBy.length === 0 ? 'complete' : (e.completeBy ?? `never: ${e.note ?? ''}`)
        } |`,
    ),
    '',
    `Every restore and drill replays the ledger. Dates assume ${s.assumption}.`,
    '',
  ];
  for (const e of s.perEntry) {
    if (e.heldBy.length && e.completeBy) {
      out.push(
        `- \`${e.id}\`: erasure complete in backups by ${e.completeBy} (held by ${e.heldBy.join(', ')})`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
