/** What a forget run tells its run record, and its plain-text output (CLI and job log). */
import type { RunOutcome } from '../commands/recorded.js';
import type { ForgetResult } from './forget.js';

export function forgetOutcome(r: ForgetResult): RunOutcome {
  return {
    status: 'success',
    warnings: r.warnings,
    details: {
      erasureId: r.id,
      table: r.table,
      keys: r.keys,
      reference: r.reference,
      destinations: r.stored.length,
      ...(r.applied
        ? {
            appliedIn: r.applied.database,
            rowsRemoved: r.applied.replay.rowsRemoved,
            cascadedRows: r.applied.replay.cascadedRows,
          }
        : {}),
    },
  };
}

export function renderForget(r: ForgetResult): string {
  const lines = [
    `erasure ${r.id} recorded: ${r.keys} key(s) of ${r.table} (${r.columns.join(', ')}), reference ${r.reference}`,
    `  requested   ${r.requestedAt}`,
    `  checked     against the ${r.validatedAgainst}`,
    ...r.stored.map((s) => `  ledger      ${s.destination}/${s.key}`),
    r.applied
      ? `  live        ${r.applied.database}: ${r.applied.replay.rowsRemoved} row(s) removed, ${r.applied.replay.cascadedRows} more by cascade`
      : '  live        not touched (pass --apply to delete there too)',
    '  → every restore and drill replays this erasure; backups taken before it hold the data until they expire (lms-backup report says when)',
    ...r.warnings.map((w) => `  warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}
