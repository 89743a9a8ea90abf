/**
 * Job summaries, one per step, as Markdown strings (pure: tested without a runner). Only display
 * locations and facts from manifests and reports go in: never an input value that could hold a
 * credential. The step writes them in `finally`, so a failed step still explains itself.
 */
import type { DrillReport } from '../catalog/types.js';
import type { BackupResult } from '../commands/backup.js';
import type { PruneResult } from '../commands/prune.js';
import type { ReportResult } from '../commands/report.js';
import type { SizeAnomaly } from '../report/anomaly.js';
import { formatBytes, formatDuration } from '../report/format.js';
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
  size?: SizeAnomaly | null;
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
      `${formatBytes(m.dump.bytes)} (pg_dump ${mdEscape(m.tool.pgDumpVersion)}, custom format, ${mdEscape(m.dump.compression)})`,
    ],
    ['Stored', `${formatBytes(m.object.bytes)}, ${encryption}`],
  ];
  if (s.size) {
    const mark = s.size.severity === 'ok' ? OK : s.size.severity === 'warning' ? WARN : BAD;
    rows.push(['Size check', `${mark} ${mdEscape(s.size.message)}`]);
  }
  rows.push(
    ['SHA-256 (stored object)', code(m.object.sha256)],
    ['Duration', `${formatDuration(r.durationMs / 1000)}${phases ? ` (${phases})` : ''}`],
  );
  const out = [
    `## ${OK} Backup ${code(r.id)} complete`,
    '',
    table(['', ''], rows),
    '',
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
