/** What each command's result says in its run record: one mapping, shared by the CLI and the action. */
import type { BackupResult } from './backup.js';
import type { DrillResult } from './drill.js';
import type { PruneResult } from './prune.js';
import type { RunOutcome } from './recorded.js';
import type { RestoreResult } from './restore.js';
import type { VerifyResult } from './verify.js';

export function backupOutcome(r: BackupResult): RunOutcome {
  return {
    status: 'success',
    backupId: r.id,
    bytes: r.manifest.object.bytes,
    warnings: r.warnings,
    details: {
      phases: r.phases,
      tables: r.manifest.inventory.tableCount,
      rows: r.manifest.inventory.totalRows,
      ...(r.manifest.files
        ? {
            files: {
              files: r.manifest.files.files,
              bytes: r.manifest.files.bytes,
              changed: r.manifest.files.changed.length,
            },
          }
        : {}),
      ...(r.manifest.redis ? { redis: { keys: r.manifest.redis.keys } } : {}),
    },
  };
}

export function drillOutcome({ report }: DrillResult): RunOutcome {
  const passed = report.verdict === 'pass';
  return {
    status: passed ? 'success' : 'failure',
    ...(passed ? {} : { reason: report.reasons.join('; ') }),
    backupId: report.backupId,
    details: {
      drillId: report.id,
      verdict: report.verdict,
      recoverySeconds: report.rto.measuredSeconds,
      ...(report.files ? { files: { ok: report.files.ok, filesOk: report.files.filesOk } } : {}),
      ...(report.redis ? { redis: { ok: report.redis.ok, keys: report.redis.foundKeys } } : {}),
      ...(report.erasures
        ? {
            erasures: {
              replayed: report.erasures.replayed,
              entries: report.erasures.entries,
              rowsRemoved: report.erasures.rowsRemoved,
              keysStillPresent: report.erasures.keysStillPresent,
            },
          }
        : {}),
    },
  };
}

export function verifyOutcome(r: VerifyResult): RunOutcome {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  return {
    status: r.ok ? 'success' : 'failure',
    backupId: r.backupId,
    ...(r.ok ? {} : { reason: failed.join('; ') }),
  };
}

export function restoreOutcome(r: RestoreResult): RunOutcome {
  return {
    status: r.ok ? 'success' : 'failure',
    backupId: r.plan.backupId,
    ...(r.ok ? {} : { reason: r.reasons.join('; ') }),
    details: {
      dryRun: r.dryRun,
      mode: r.plan.mode,
      ...(r.erasures
        ? {
            erasures: {
              replayed: r.erasures.replayed,
              entries: r.erasures.entries,
              rowsRemoved: r.erasures.rowsRemoved,
              cascadedRows: r.erasures.cascadedRows,
              keysStillPresent: r.erasures.keysStillPresent,
            },
          }
        : {}),
    },
    ...(r.erasures && !r.erasures.replayed
      ? { warnings: [`ERASURES NOT REPLAYED (--no-erasures): ${r.erasures.entries} ledger entries skipped`] }
      : {}),
  };
}

export function pruneOutcome(r: PruneResult, dryRun: boolean): RunOutcome {
  return {
    status: 'success',
    warnings: r.plan.warnings,
    details: { removed: r.plan.remove.length, kept: r.plan.keep.length, dryRun },
  };
}
