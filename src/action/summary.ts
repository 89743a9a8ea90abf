/**
 * Job summaries, one per step, as Markdown strings (pure: tested without a runner). Only display
 * locations and facts from manifests and reports go in: never an input value that could hold a
 * credential. The step writes them in `finally`, so a failed step still explains itself.
 */

import type { DrillReport } from '../catalog/types.js';
import type { BackupResult } from '../commands/backup.js';
import type { CheckReport } from '../commands/check.js';
import type { PruneResult } from '../commands/prune.js';
import type { ReportResult } from '../commands/report.js';
import type { RestoreResult } from '../commands/restore.js';
import type { VerifyResult } from '../commands/verify.js';
import { describeReplay } from '../erasure/replay.js';
import { backupPartRows, restorePartRows } from '../parts/summary.js';
import { formatBytes, formatDuration, formatPercent } from '../report/format.js';
import { mdEscape, renderDrillReportMarkdown } from '../report/markdown.js';

const OK = '✅';
const BAD = '❌';
const WARN = '⚠️';

function code(s: string): string {
  return `\`${s.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** A failure as the summary shows it: the message and the hint, already scrubbed of secrets. */
export function failureSection(message: string): string {
  const lines = message.split('\n');
  return ['', '```text', ...lines.map((l) => l.replace(/```/g, "'''")), '```', ''].join('\n');
}

export interface BackupSummaryInput {
  result?: BackupResult;
  /** Scrubbed failure message, when the step failed. */
  error?: string;
  /** Destinations (display form), when the inputs were valid. */
  displays: string[];
}

export function backupSummary(s: BackupSummaryInput): string {
  const r = s.result;
  if (!r) {
    const out = ['## ❌ Backup failed', ''];
    if (s.displays.length) out.push(`Destinations: ${s.displays.map(code).join(', ')}`, '');
    out.push('Nothing was marked complete: a backup without a manifest is never offered for restore.');
    if (s.error) out.push(failureSection(s.error));
    return `${out.join('\n')}\n`;
  }
  const m = r.manifest;
  const src = m.source;
  const encrypted = m.encryption.scheme === 'age';
  const encryption = encrypted
    ? m.encryption.passphrase
      ? 'age (passphrase)'
      : `age, ${m.encryption.recipients.length} recipient${m.encryption.recipients.length === 1 ? '' : 's'}`
    : `${WARN} not encrypted`;
  const phases = Object.entries(r.phases)
    .map(([k, v]) => `${k.replace(/Ms$/, '')} ${formatDuration(v / 1000)}`)
    .join(', ');
  const rows: string[][] = [
    [
      'Database',
      `${code(src.database)} on ${code(`${src.host}:${src.port}`)}, PostgreSQL ${mdEscape(src.serverVersion)}`,
    ],
    [
      'Contents',
      `${m.inventory.tableCount} tables, ${m.inventory.totalRows.toLocaleString('en-US')} rows (exact, same snapshot as the dump)`,
    ],
    [
      'Dump',
      `${formatBytes(m.dump.bytes)} (pg_dump ${mdEscape(m.tool.pgDumpVersion)}${m.tool.pgDump?.image ? ` in a container from ${mdEscape(m.tool.pgDump.image)}` : ''}, custom format, ${mdEscape(m.dump.compression)})`,
    ],
    ['Stored', `${formatBytes(m.object.bytes)}, ${encryption}`],
    ...backupPartRows(m),
  ];
  const median = r.medianBytes;
  const sizeWarnings = r.warnings.filter((w) => /^The backup (shrank|grew)/.test(w));
  rows.push([
    'Size check',
    median === null
      ? 'no earlier complete backups to compare with'
      : `${sizeWarnings.length ? WARN : OK} ${formatPercent(m.object.bytes / median)} of the median ${formatBytes(median)} of recent complete backups`,
  ]);
  rows.push(
    ['SHA-256 (stored object)', code(m.object.sha256)],
    ['Duration', `${formatDuration(r.durationMs / 1000)}${phases ? ` (${phases})` : ''}`],
  );
  const out = [
    `## ${r.warnings.length ? WARN : OK} Backup ${code(r.id)} complete`,
    '',
    table(['', ''], rows),
    '',
    ...(r.warnings.length
      ? ['### Warnings', '', ...r.warnings.map((w) => `- ${WARN} ${mdEscape(w)}`), '']
      : []),
    '### Stored in',
    '',
    ...r.stored.map(
      (x) => `- ${code(`${x.destination}/${x.key}`)} (+ ${code('.sha256')} sidecar, manifest written last)`,
    ),
    '',
  ];
  return out.join('\n');
}

export interface DrillSummaryInput {
  report?: DrillReport;
  markdown?: string;
  error?: string;
  from?: string;
  artifact?: string;
}

export function drillSummary(s: DrillSummaryInput): string {
  if (!s.report) {
    const out = ['## ❌ Restore drill did not run', ''];
    if (s.from) out.push(`Backups: ${code(s.from)}`, '');
    if (s.error) out.push(failureSection(s.error));
    return `${out.join('\n')}\n`;
  }
  const out = [s.markdown ?? renderDrillReportMarkdown(s.report)];
  if (s.artifact) out.push('', `Report uploaded as the artifact ${code(s.artifact)}.`, '');
  if (s.error) out.push(failureSection(s.error));
  return out.join('\n');
}

export interface PruneSummaryInput {
  results: { display: string; result: PruneResult }[];
  dryRun: boolean;
  error?: string;
}

export function pruneSummary(s: PruneSummaryInput): string {
  const out = [`## ${s.error ? BAD : OK} Retention${s.dryRun ? ' (dry run: nothing deleted)' : ''}`, ''];
  for (const { display, result } of s.results) {
    const { plan } = result;
    out.push(
      `### ${code(display)}: keeping ${plan.keep.length}, ${s.dryRun ? 'would remove' : 'removed'} ${plan.remove.length}`,
      '',
    );
    for (const w of plan.warnings) out.push(`- ${WARN} ${mdEscape(w)}`);
    if (plan.warnings.length) out.push('');
    const rows = [
      ...plan.remove.map((r) => [code(r.id), s.dryRun ? 'would remove' : 'removed', mdEscape(r.reason)]),
      ...plan.keep.map((k) => [code(k.id), 'kept', mdEscape(k.reasons.join('; '))]),
    ];
    out.push(rows.length ? table(['Backup', 'Action', 'Why'], rows) : 'No backups.', '');
    // Incomplete backups are rows of the table above; the rest is debris of interrupted runs.
    const swept = (result.sweep ?? []).filter((item) => item.kind !== 'incomplete backup');
    if (swept.length) {
      out.push(`Left behind by interrupted runs (${s.dryRun ? 'would remove' : 'removed'}):`, '');
      for (const item of swept) out.push(`- ${item.kind}: ${code(item.name)}`);
      out.push('');
    }
  }
  if (s.error) out.push(failureSection(s.error));
  return out.join('\n');
}

export interface ReportSummaryInput {
  result?: ReportResult;
  error?: string;
  artifact?: string;
}

export function reportSummary(s: ReportSummaryInput): string {
  if (!s.result) {
    return `${['## ❌ DR readiness report failed', '', ...(s.error ? [failureSection(s.error)] : [])].join('\n')}\n`;
  }
  const out = [s.result.markdown];
  if (s.result.failed.length) {
    out.push('', `**Watchdog:** ${BAD} tripped: ${s.result.failed.map(code).join(', ')}`, '');
  }
  if (s.artifact) out.push('', `Report files uploaded as the artifact ${code(s.artifact)}.`, '');
  if (s.error) out.push(failureSection(s.error));
  return out.join('\n');
}

export interface VerifySummaryInput {
  result?: VerifyResult;
  from?: string;
  error?: string;
}

export function verifySummary(s: VerifySummaryInput): string {
  const r = s.result;
  if (!r) {
    const out = ['## ❌ Verify did not run', ''];
    if (s.from) out.push(`Backups: ${code(s.from)}`, '');
    if (s.error) out.push(failureSection(s.error));
    return `${out.join('\n')}\n`;
  }
  const out = [
    `## ${r.ok ? `${OK} Backup ${code(r.backupId)} verified` : `${BAD} Backup ${code(r.backupId)} failed verification`}`,
    '',
    `No database needed: the stored object${s.from ? ` in ${code(s.from)}` : ''} was checked end to end.`,
    '',
    table(
      ['Check', 'Result', 'Detail'],
      r.checks.map((c) => [mdEscape(c.name), c.ok ? OK : BAD, mdEscape(c.detail)]),
    ),
    '',
  ];
  if (r.toc) {
    out.push(
      `Archive contents: ${Object.entries(r.toc)
        .map(([k, v]) => `${v} ${mdEscape(k)}`)
        .join(', ')}.`,
      '',
    );
  }
  return out.join('\n');
}

export interface RestoreSummaryInput {
  result?: RestoreResult;
  error?: string;
}

export function restoreSummary(s: RestoreSummaryInput): string {
  const r = s.result;
  if (!r) {
    return `${['## ❌ Restore failed', '', 'Nothing was restored.', ...(s.error ? [failureSection(s.error)] : [])].join('\n')}\n`;
  }
  const p = r.plan;
  const title = r.dryRun
    ? `📋 Restore plan for ${code(p.backupId)} (dry run: nothing changed)`
    : r.ok
      ? `${OK} Restored ${code(p.backupId)}`
      : `${BAD} Restore of ${code(p.backupId)} failed`;
  const rows: string[][] = [
    [
      'Backup',
      `${code(p.backupId)}, taken ${mdEscape(p.backupTakenAt)} (${formatDuration(p.backupAgeSeconds)} before the restore), PostgreSQL ${mdEscape(p.backupServerVersion)}`,
    ],
    ['Checksum / decryption', `${p.checksumOk ? OK : BAD} / ${p.decryptionOk ? OK : BAD}`],
    [
      'Target',
      `${code(p.target)}, PostgreSQL ${mdEscape(p.targetServerVersion)}; ${p.targetExists ? `${p.targetUserTables} table(s) before` : 'did not exist'}`,
    ],
    ['Versions', mdEscape(p.versionCheck)],
    ['Mode', `${p.mode}${p.sideDatabase ? ` into the side database ${code(p.sideDatabase)}` : ''}`],
    [
      'Archive',
      Object.entries(p.toc)
        .map(([k, v]) => `${v} ${mdEscape(k)}`)
        .join(', '),
    ],
  ];
  if (p.selectedTables) rows.push(['Tables', p.selectedTables.map(code).join(', ')]);
  rows.push([
    'Owners / privileges',
    `${p.owners ? 'kept' : 'not restored (no-owner)'} / ${p.privileges ? 'kept' : 'not restored (no-privileges)'}` +
      (p.missingRoles.length ? `; the target lacked ${p.missingRoles.map(code).join(', ')}` : ''),
  ]);
  rows.push(...restorePartRows(r.parts));
  if (r.createdRoles?.length)
    rows.push(['Roles created', `${r.createdRoles.map(code).join(', ')} (NOLOGIN, no passwords)`]);
  if (r.safetyBackup)
    rows.push(['Safety backup', `${code(r.safetyBackup.id)} in ${code(r.safetyBackup.destination)}`]);
  if (r.validation) {
    const ok = r.validation.tables.filter((t) => t.ok).length;
    rows.push(['Validation', `${ok}/${r.validation.tables.length} tables with exact row counts`]);
  }
  if (r.objects) {
    const ok = r.objects.filter((o) => o.ok).length;
    rows.push(['Objects', `${ok}/${r.objects.length} owners, privileges, policies and other objects match`]);
  }
  if (r.erasures) {
    rows.push([
      'Erasures',
      `${r.erasures.replayed && r.erasures.keysStillPresent === 0 && r.erasures.violations.length === 0 ? OK : BAD} ${mdEscape(describeReplay(r.erasures))}`,
    ]);
  }
  const out = [`## ${title}`, '', table(['', ''], rows), ''];
  if (r.reasons.length) out.push(...r.reasons.map((x) => `- ${BAD} ${mdEscape(x)}`), '');
  if (r.nextSteps.length) out.push('### Next steps', '', ...r.nextSteps.map((x) => `- ${mdEscape(x)}`), '');
  if (s.error) out.push(failureSection(s.error));
  return out.join('\n');
}

export interface CheckSummaryInput {
  report?: CheckReport;
  /** Scrubbed failure message, when the step failed before or after checking. */
  error?: string;
}

export function checkSummary(s: CheckSummaryInput): string {
  const r = s.report;
  if (!r) {
    const out = ['## ❌ Check did not run', ''];
    if (s.error) out.push(failureSection(s.error));
    return `${out.join('\n')}\n`;
  }
  const out = [
    `## ${r.ok ? `${OK} Setup checked: every check passed` : `${BAD} Setup checked: ${r.failed} check(s) failed`}`,
    '',
    `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped. Nothing was posted and no backup was touched.`,
    '',
    table(
      ['Check', 'Result', 'Detail', 'Fix'],
      r.checks.map((c) => [
        mdEscape(c.name),
        c.skipped ? '–' : c.ok ? OK : BAD,
        mdEscape(c.detail),
        c.fix && (!c.ok || c.skipped) ? mdEscape(c.fix) : '',
      ]),
    ),
    '',
  ];
  return out.join('\n');
}
