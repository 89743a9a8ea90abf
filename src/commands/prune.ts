/**
 * `prune`: apply the retention policy to one destination.
 * Plans with planRetention, then deletes each removed backup manifest first, so a backup
 * interrupted half-way through deletion reads as incomplete, never as complete-but-broken.
 */
import { tmpdir } from 'node:os';
import { listBackups } from '../catalog/catalog.js';
import { RUNS_PREFIX } from '../catalog/layout.js';
import {
  planRetention,
  type RetentionPlan,
  type RetentionPolicy,
  validateRetentionPolicy,
} from '../catalog/retention.js';
import { parseRunRecord, readObjectText, runIdTime } from '../catalog/runs.js';
import type { RunRecord } from '../catalog/types.js';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { sweepStagedDumps } from '../storage/staging.js';
import type { Storage } from '../storage/types.js';
import { sweepProbes } from './check-probe.js';

export interface PruneConfig {
  storage: Storage;
  policy: RetentionPolicy;
  /** Log what would be deleted and why; change nothing. */
  dryRun: boolean;
  now?: Date;
  /** Where backups stage dumps when no destination is local (default: the OS temp dir). */
  stagingDir?: string;
}

export interface PruneDeps {
  logger: Logger;
  /** Whether the newest backup run failed; defaults to reading the run records in `storage`. */
  lastBackupRunFailed?: () => Promise<boolean>;
}

/** Something prune sweeps that is not a complete backup: leftovers of interrupted runs. */
export interface SweepItem {
  kind: 'incomplete backup' | 'staged file' | 'incomplete upload' | 'check probe';
  /** A backup id, a file path, or an upload's key. */
  name: string;
  reason: string;
}

export interface PruneResult {
  plan: RetentionPlan;
  /** Keys deleted, in the order they were deleted (empty on a dry run). */
  deleted: string[];
  /** What was swept (or, on a dry run, would be): incomplete backups, staged files, uploads. */
  sweep: SweepItem[];
}

/** Manifest first (the backup turns incomplete), then the dump, then its checksum sidecar. */
function deletionRank(key: string): number {
  if (key.endsWith('.manifest.json')) return 0;
  if (/\.dump(\.age)?$/.test(key)) return 1;
  if (key.endsWith('.sha256')) return 2;
  return 3;
}

export function deletionOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => deletionRank(a) - deletionRank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

export async function runPrune(config: PruneConfig, deps: PruneDeps): Promise<PruneResult> {
  const { storage, dryRun } = config;
  const { logger } = deps;
  const now = config.now ?? new Date();
  validateRetentionPolicy(config.policy);

  const backups = await listBackups(storage);
  const failed = deps.lastBackupRunFailed
    ? await deps.lastBackupRunFailed()
    : await newestBackupRunFailed(storage, logger);
  const plan = planRetention({ now, backups, newestBackupRunFailed: failed, policy: config.policy });

  for (const w of plan.warnings) logger.warn(w);
  await logger.group(`retention plan for ${storage.display}`, async () => {
    logger.info(
      `${backups.length} backup(s): keeping ${plan.keep.length}, ` +
        `${dryRun ? 'would remove' : 'removing'} ${plan.remove.length}`,
    );
    for (const k of plan.keep) logger.info(`keep ${k.id}: ${k.reasons.join('; ')}`);
    for (const r of plan.remove) logger.info(`${dryRun ? 'would remove' : 'remove'} ${r.id}: ${r.reason}`);
  });

  const sweep: SweepItem[] = plan.remove
    .filter((r) => r.reason.startsWith('incomplete'))
    .map((r) => ({ kind: 'incomplete backup', name: r.id, reason: r.reason }));
  if (dryRun) for (const item of sweep) logger.info(`would sweep ${item.kind} ${item.name}: ${item.reason}`);
  // Debris of interrupted runs is never a backup: swept even when the newest backup failed.
  sweep.push(...(await sweepDebris(config, now, logger)));

  const deleted: string[] = [];
  if (dryRun) {
    if (plan.remove.length > 0 || sweep.length > 0) logger.info('dry run: nothing was deleted');
    return { plan, deleted, sweep };
  }
  if (plan.remove.length === 0) return { plan, deleted, sweep };

  const byId = new Map(backups.map((b) => [b.id, b]));
  await logger.group(`deleting ${plan.remove.length} backup(s) from ${storage.display}`, async () => {
    for (const r of plan.remove) {
      const entry = byId.get(r.id);
      if (!entry) continue;
      for (const key of deletionOrder(entry.keys)) {
        try {
          await storage.delete(key);
        } catch (error) {
          const progress = `prune stopped at ${key} in ${storage.display} (${deleted.length} object(s) deleted before it)`;
          // A configuration problem (e.g. credentials without delete permission) keeps its own
          // error and exit code 2; only the progress is added, as a log line.
          if (error instanceof ConfigError) {
            logger.error(progress);
            throw error;
          }
          throw new JobFailedError(
            `prune could not delete ${key} in ${storage.display}: ${messageOf(error)}` +
              ` (${deleted.length} object(s) deleted before it)`,
            {
              hint:
                'run prune again once the destination is reachable; a partly deleted backup has lost its ' +
                'manifest first, so it reads as incomplete and is never offered for restore',
              cause: error,
            },
          );
        }
        deleted.push(key);
        logger.debug(`deleted ${key}`);
      }
    }
  });
  logger.info(`deleted ${plan.remove.length} backup(s), ${deleted.length} object(s)`);
  return { plan, deleted, sweep };
}

/**
 * Debris of interrupted runs, never a backup: dumps staged by killed backups (in the staging
 * directory, and temporary files in a local destination), and uploads a killed backup started
 * in the destination and never finished (S3 multipart uploads). Only what is older than a day,
 * or whose writer is gone: a backup running now keeps its files. A failed sweep is a warning.
 */
async function sweepDebris(config: PruneConfig, now: Date, logger: Logger): Promise<SweepItem[]> {
  const { storage, dryRun } = config;
  const before = new Date(now.getTime() - 24 * 3600 * 1000);
  const verb = dryRun ? 'would remove' : 'removed';
  const items: SweepItem[] = [];
  const reason = 'left behind by an interrupted run';
  const attempt = async (what: string, fn: () => Promise<void>) => {
    await fn().catch((error: unknown) => logger.warn(`could not sweep ${what}: ${messageOf(error)}`));
  };
  await attempt(`staged dumps in ${config.stagingDir ?? tmpdir()}`, async () => {
    for (const path of await sweepStagedDumps(config.stagingDir ?? tmpdir(), before, dryRun))
      items.push({ kind: 'staged file', name: path, reason });
  });
  if (storage.sweepTemporary) {
    await attempt(`temporary files in ${storage.display}`, async () => {
      for (const path of await storage.sweepTemporary!(before, dryRun))
        items.push({ kind: 'staged file', name: path, reason });
    });
  }
  if (storage.sweepIncomplete) {
    await attempt(`incomplete uploads in ${storage.display}`, async () => {
      const result = await storage.sweepIncomplete!(before, dryRun);
      for (const f of result.found) items.push({ kind: 'incomplete upload', name: f.key, reason });
    });
  }
  await attempt(`check probes in ${storage.display}`, async () => {
    for (const key of await sweepProbes(storage, before, dryRun))
      items.push({ kind: 'check probe', name: key, reason });
  });
  for (const item of items) {
    logger.info(
      `${verb} ${item.kind === 'incomplete upload' ? `incomplete upload of ${item.name} in ${storage.display}` : item.name}, ${reason}`,
    );
  }
  return items;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

/**
 * Whether the newest `backup` run recorded under `runs/` failed. Record names carry their start
 * time (`run_YYYYMMDD_HHmmss_backup_xxxx.json`), so normally only the newest one or two are read.
 * When the newest backup record cannot be read, that is treated as a failure: prune must not
 * delete while it cannot tell whether the last backup worked. Files whose names carry no time
 * are read only when no named backup record exists, and unreadable ones are skipped.
 */
export async function newestBackupRunFailed(storage: Storage, logger?: Logger): Promise<boolean> {
  const named: { key: string; time: number }[] = [];
  const unnamed: string[] = [];
  for await (const obj of storage.list(RUNS_PREFIX)) {
    if (!obj.key.endsWith('.json')) continue;
    const base = obj.key.slice(RUNS_PREFIX.length);
    const time = runIdTime(base);
    if (time) {
      if (/^run_\d{8}_\d{6}_backup_/.test(base)) named.push({ key: obj.key, time: time.getTime() });
    } else {
      unnamed.push(obj.key);
    }
  }

  const read = async (key: string): Promise<RunRecord | string> => {
    try {
      return parseRunRecord(JSON.parse(await readObjectText(storage, key)));
    } catch (error) {
      return `unreadable (${messageOf(error)})`;
    }
  };

  if (named.length > 0) {
    // Every record from the newest second: two backups started in one second both count.
    const newestTime = named.reduce((max, n) => Math.max(max, n.time), -Infinity);
    const newest = named.filter((n) => n.time === newestTime).sort((a, b) => (a.key < b.key ? -1 : 1));
    let failed = false;
    for (const { key } of newest) {
      const record = await read(key);
      if (typeof record === 'string' || record.command !== 'backup') {
        logger?.warn(
          `cannot tell whether the newest backup run succeeded: ${key} is not a backup run record ` +
            `(${typeof record === 'string' ? record : `command "${record.command}"`}); treating it as failed`,
        );
        failed = true;
      } else if (record.status === 'failure') {
        logger?.debug(`newest backup run ${record.id} failed${record.reason ? `: ${record.reason}` : ''}`);
        failed = true;
      }
    }
    return failed;
  }

  let newest: RunRecord | undefined;
  for (const key of unnamed) {
    const record = await read(key);
    if (typeof record === 'string') {
      logger?.debug(`skipping ${key}: ${record}`);
      continue;
    }
    if (record.command !== 'backup') continue;
    if (
      !newest ||
      Date.parse(record.startedAt) > Date.parse(newest.startedAt) ||
      (record.startedAt === newest.startedAt && record.status === 'failure')
    ) {
      newest = record;
    }
  }
  return newest?.status === 'failure';
}
