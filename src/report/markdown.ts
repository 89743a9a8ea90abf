/**
 * Markdown renderings: the DR readiness report and a drill report. GitHub-flavoured (job
 * summaries, drill_logs/*.md), readable as plain text too. Every value from a record is escaped.
 */
import type { DrillReport, ToolRecord } from '../catalog/types.js';
import { formatDuration, formatPercent, formatUtc } from './format.js';
import type { Finding, Readiness } from './metrics.js';

/**
 * Escapes text for a Markdown table cell or inline text. Underscores are left alone: GFM does
 * not emphasise inside words, and ids like lms_20240115_020000 stay readable as plain text.
 */
export function mdEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/([`*[\]<>|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function code(s: string): string {
  const clean = s.replace(/\r?\n/g, ' ');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${clean}${fence === '``' ? ' ' : ''}${fence}`;
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const OK = '✅';
const BAD = '❌';
const WARN = '⚠️';
const NONE = '—';

const STATUS_LINE: Record<Readiness['status'], string> = {
  ready: `${OK} Ready`,
  'at-risk': `${WARN} At risk`,
  'not-ready': `${BAD} Not ready`,
};

const FINDING_MARK: Record<Finding['severity'], string> = { critical: BAD, warning: WARN, info: 'ℹ️' };

/** The drill's "Erasures" section: what the ledger replay did, and the proof (keys still present: 0). */
function erasureSection(e: NonNullable<DrillReport['erasures']>): string[] {
  const out = [
    `### Erasures: ${e.keysStillPresent === 0 && e.violations.length === 0 ? OK : BAD} ${e.keysStillPresent} erased key(s) still present`,
    '',
    e.replayed
      ? `${e.entries} ledger entr${e.entries === 1 ? 'y' : 'ies'} (${e.keys} key(s)) replayed; ${e.rowsRemoved} row(s) removed, ${e.cascadedRows} more by ON DELETE CASCADE.`
      : `${WARN} The ledger was NOT replayed (--no-erasures): ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} only looked up.`,
  ];
  if (e.perEntry.length) {
    out.push(
      '',
      table(
        ['Entry', 'Reference', 'Table', 'Keys', 'Rows removed', 'Cascaded', 'Still present', ''],
        e.perEntry.map((x) => [
          code(x.id),
          mdEscape(x.reference),
          code(x.table),
          String(x.keys),
          String(x.rowsRemoved),
          String(x.cascadedRows),
          x.stillPresent === null ? 'unknown' : String(x.stillPresent),
          x.status === 'absent'
            ? 'table not in this backup'
            : x.stillPresent === 0 && x.status === 'applied'
              ? OK
              : BAD,
        ]),
      ),
    );
  }
  for (const v of e.violations) out.push('', `- ${BAD} ${mdEscape(v)}`);
  return out;
}

function rate(n: number, of: number, r: number | null): string {
  return r === null ? NONE : `${n}/${of} (${formatPercent(r)})`;
}

export function renderReadinessMarkdown(r: Readiness): string {
  const { backups: b, drills: d, objectives: o } = r;
  const rpo = formatDuration(o.rpoSeconds);
  const rto = formatDuration(o.rtoSeconds);
  const rows: string[][] = [
    [
      'Backup success rate',
      rate(b.successful, b.runs, b.successRate),
      '100%',
      b.successRate === null ? NONE : b.successRate === 1 ? OK : WARN,
    ],
    [
      'Days with a complete backup',
      `${b.daysWithBackup}/${b.daysTracked}${b.todayPending ? ' (today pending)' : ''}`,
      'every day',
      b.daysTracked === 0 ? NONE : b.daysWithout.length ? BAD : OK,
    ],
    [
      'Largest gap between backups',
      b.largestGap
        ? `${formatDuration(b.largestGap.seconds)}${b.largestGap.open ? ' (ongoing)' : ''}`
        : 'no backup',
      `RPO ${rpo}`,
      r.conditions.rpo.tripped ? BAD : OK,
    ],
    [
      'Newest complete backup',
      b.newestComplete
        ? `${code(b.newestComplete.id)}, ${formatDuration(b.newestComplete.ageSeconds)} ago`
        : 'none',
      `within ${rpo}`,
      r.conditions.stale.tripped ? BAD : OK,
    ],
    [
      'Newest verified backup',
      b.newestVerified
        ? `${code(b.newestVerified.id)}, ${formatDuration(b.newestVerified.ageSeconds)} ago (drill ${code(b.newestVerified.drillId)})`
        : 'none',
      'a drill passed',
      b.newestVerified ? OK : BAD,
    ],
    [
      'Drill success rate',
      rate(d.passed, d.count, d.successRate),
      '100%',
      d.successRate === null ? BAD : d.successRate === 1 ? OK : WARN,
    ],
    [
      'Last drill',
      d.last
        ? `${d.last.verdict === 'pass' ? 'passed' : 'failed'}, ${formatUtc(d.last.at)}${d.couldNotRun ? ` (${d.couldNotRun} could not run)` : ''}`
        : d.couldNotRun
          ? `none ran in the window (${d.couldNotRun} could not run)`
          : 'none in the window',
      'pass',
      r.conditions.drill.tripped ? BAD : OK,
    ],
    [
      'Last recovery time',
      d.lastRecovery ? formatDuration(d.lastRecovery.seconds) : 'not measured',
      `RTO ${rto}`,
      r.conditions.rto.tripped ? BAD : OK,
    ],
    [
      'Worst recovery time',
      d.worstRecovery ? formatDuration(d.worstRecovery.seconds) : 'not measured',
      `RTO ${rto}`,
      d.worstRecovery ? (d.worstRecovery.ok ? OK : WARN) : NONE,
    ],
    [
      'Retention',
      r.retention.oldestComplete
        ? `oldest ${formatDuration(r.retention.oldestComplete.ageSeconds)} old`
        : 'nothing stored',
      `${o.keepDays} days`,
      r.retention.ok ? OK : r.retention.pending ? WARN : BAD,
    ],
  ];

  const out: string[] = [
    `## DR readiness: ${STATUS_LINE[r.status]}`,
    '',
    `Window: the last ${r.window.days} days (${formatUtc(r.window.start)} to ${formatUtc(r.window.end)}). ` +
      `Objectives: RPO ${rpo}${o.rpoToleranceSeconds ? ` (+${formatDuration(o.rpoToleranceSeconds)} scheduling tolerance)` : ''}, RTO ${rto}, keep ${o.keepDays} days.` +
      (r.window.trackedFrom && r.window.trackedFrom > r.window.start
        ? ` History starts ${formatUtc(r.window.trackedFrom)}.`
        : ''),
    '',
    table(['Metric', 'Value', 'Objective', 'Status'], rows),
  ];

  if (r.findings.length) {
    out.push('', '### Findings', '');
    for (const f of r.findings) out.push(`- ${FINDING_MARK[f.severity]} ${mdEscape(f.message)}`);
  }
  if (b.daysWithout.length) {
    out.push('', `Days without a complete backup: ${b.daysWithout.join(', ')}.`);
  }
  out.push('', `Retention: ${mdEscape(r.retention.message)}`, '');
  return out.join('\n');
}

function phaseRows(phases: Record<string, number>): string[][] {
  const order = [
    'download',
    'verify',
    'decrypt',
    'offsets',
    'list',
    'start',
    'restore',
    'validate',
    'teardown',
  ];
  const keys = Object.keys(phases).sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || a.localeCompare(b);
  });
  const total = keys.reduce((s, k) => s + (phases[k] ?? 0), 0);
  const rows = keys.map((k) => [mdEscape(k), formatDuration((phases[k] ?? 0) / 1000)]);
  if (keys.length) rows.push(['**total**', `**${formatDuration(total / 1000)}**`]);
  return rows;
}

function count(n: number | null): string {
  return n === null ? NONE : n.toLocaleString('en-US');
}

function toolLine(t: ToolRecord): string {
  if (t.where === 'compose')
    return `${mdEscape(t.version)} in compose service ${code(t.compose?.service ?? '?')}`;
  return t.where === 'container'
    ? `${mdEscape(t.version)} in a container from ${code(t.image ?? '?')}`
    : `${mdEscape(t.version)} (local)`;
}

function throwawayServerLine(report: DrillReport): string {
  const e = report.engine;
  if (e.kind === 'none') {
    return `- Throwaway server: **none started**${e.requested ? ` (engine ${mdEscape(e.requested)})` : ''}: nothing was restored or validated`;
  }
  const auto = e.requested === 'auto' ? ' (chosen by auto)' : '';
  return `- Throwaway server: ${mdEscape(e.kind)} engine${auto}, ${mdEscape(e.description)}${e.serverVersion ? `, server ${mdEscape(e.serverVersion)}` : ''}`;
}

export function renderDrillReportMarkdown(report: DrillReport): string {
  const pass = report.verdict === 'pass';
  const couldNotRun = report.verdict === 'could-not-run';
  const out: string[] = [
    `## Restore drill ${code(report.id)}: ${pass ? `${OK} PASS` : couldNotRun ? `${WARN} COULD NOT RUN` : `${BAD} FAIL`}`,
    '',
    pass
      ? `Backup ${code(report.backupId)} restored and validated: every check below passed.`
      : couldNotRun
        ? `The drill of backup ${code(report.backupId)} could not run, so it proved nothing either way (the backup keeps the verdict of its last drill that ran):`
        : `Backup ${code(report.backupId)} did **not** prove restorable:`,
  ];
  if (!pass) {
    if (report.reasons.length) for (const reason of report.reasons) out.push(`- ${mdEscape(reason)}`);
    else out.push('- (no reason recorded: see the job log)');
  }

  out.push(
    '',
    '### Recovery objectives',
    '',
    report.restore.ok
      ? `- Recovery time: **${formatDuration(report.rto.measuredSeconds)}** against an RTO of ${formatDuration(report.rto.objectiveSeconds)} ${report.rto.ok ? OK : BAD}`
      : `- Recovery time: **not reached** (the restore did not complete; ${formatDuration(report.rto.measuredSeconds)} spent) against an RTO of ${formatDuration(report.rto.objectiveSeconds)} ${BAD}`,
    `- Backup age: **${formatDuration(report.rpo.backupAgeSeconds)}** against an RPO of ${formatDuration(report.rpo.objectiveSeconds)} ${report.rpo.ok ? OK : BAD}`,
    `- Backup taken ${formatUtc(report.backupCreatedAt)}; drill ran ${formatUtc(report.startedAt)} to ${formatUtc(report.finishedAt)}`,
    throwawayServerLine(report),
    ...(report.engine.fallbacks ?? []).map(
      (f) =>
        `  - ${report.engine.kind === 'none' ? 'tried' : 'passed over'}: ${mdEscape(f.split('\n')[0] ?? f)}`,
    ),
    ...(report.tools?.pgRestore ? [`- pg_restore ${toolLine(report.tools.pgRestore)}`] : []),
  );
  // Nothing restored: the checks that need a server were not run, rather than failed with 0 of 0.
  const started = report.engine.kind !== 'none';
  const notRun = 'not run: no throwaway server started';

  out.push(
    '',
    '### Checks',
    '',
    table(
      ['Check', 'Result', 'Detail'],
      [
        [
          'Checksum',
          report.checksum.ok ? OK : BAD,
          report.checksum.ok
            ? `SHA-256 ${code(report.checksum.expected.slice(0, 16))}… matches`
            : `expected ${code(report.checksum.expected)}, got ${report.checksum.actual ? code(report.checksum.actual) : 'nothing'}`,
        ],
        ...(report.sidecar
          ? [['Checksum sidecar', report.sidecar.ok ? OK : BAD, mdEscape(report.sidecar.detail)]]
          : []),
        [
          'Decryption',
          report.decryption.ok ? OK : BAD,
          report.decryption.scheme === 'none'
            ? 'not encrypted'
            : report.decryption.ok
              ? 'authenticated (age)'
              : mdEscape(report.decryption.error ?? 'failed'),
        ],
        [
          'Restore',
          report.restore.ok ? OK : started ? BAD : NONE,
          report.restore.ok
            ? `completed with no errors (${report.restore.jobs} job${report.restore.jobs === 1 ? '' : 's'})`
            : !started
              ? notRun
              : report.restore.errors.length
                ? `${report.restore.errors.length} error(s), shown below`
                : 'did not complete (see the reasons above)',
        ],
        [
          'Table count',
          started ? (report.tableCount.ok ? OK : BAD) : NONE,
          started
            ? `${count(report.tableCount.found)} found, at least ${report.tableCount.min} required`
            : notRun,
        ],
        [
          'Row counts',
          started ? (report.tables.every((t) => t.ok) ? OK : BAD) : NONE,
          !started
            ? notRun
            : report.restore.ok || report.tables.length === 0
              ? `${report.tables.filter((t) => t.ok).length}/${report.tables.length} tables match the manifest`
              : 'not checked: the restore failed',
        ],
        ...(report.objects
          ? [
              [
                'Owners, privileges, policies, objects',
                report.objects.every((o) => o.ok) ? OK : BAD,
                `${report.objects.filter((o) => o.ok).length}/${report.objects.length} match the manifest`,
              ],
            ]
          : []),
        ...(report.rolesCreated
          ? [
              [
                "Backup's roles",
                OK,
                report.rolesCreated.length
                  ? `created (NOLOGIN, no passwords): ${report.rolesCreated.map(code).join(', ')}`
                  : 'all existed in the throwaway server',
              ],
            ]
          : []),
        ...partRows(report).map(([name, ok, detail]) => [name, ok ? OK : BAD, mdEscape(detail)]),
        ...report.checks.map((c) => [
          `Health check: ${mdEscape(c.name)}`,
          c.ok ? OK : BAD,
          c.error
            ? mdEscape(c.error)
            : `expected ${code(c.expected)}, got ${c.actual === null ? 'nothing' : code(c.actual)}`,
        ]),
      ],
    ),
  );

  if (report.restore.errors.length) {
    const shown = report.restore.errors.slice(0, 50);
    out.push('', '### Restore errors', '', '```text', ...shown.map((l) => l.replace(/```/g, "'''")), '```');
    if (report.restore.errors.length > shown.length)
      out.push(`(${report.restore.errors.length - shown.length} more lines not shown)`);
  }

  out.push(
    '',
    `### Tables (${report.tables.length})`,
    '',
    report.tables.length
      ? table(
          ['Table', 'Expected rows', 'Found rows', ''],
          report.tables.map((t) => [
            code(`${t.schema}.${t.name}`),
            count(t.expected),
            t.note ? mdEscape(t.note) : count(t.found),
            t.ok ? OK : t.note ? NONE : BAD,
          ]),
        )
      : 'No tables recorded.',
  );

  if (report.objects?.length) {
    out.push(
      '',
      `### Owners, privileges, policies and other objects (${report.objects.length})`,
      '',
      table(
        ['Check', 'Object', 'Expected', 'Found', ''],
        report.objects.map((o) => [
          mdEscape(o.kind),
          o.object ? code(o.object) : NONE,
          code(o.expected),
          o.found === null ? 'missing' : code(o.found),
          o.ok ? OK : BAD,
        ]),
      ),
    );
  }

  if (report.extensions.length) {
    out.push(
      '',
      '### Extensions',
      '',
      table(
        ['Extension', 'Expected', 'Found', ''],
        report.extensions.map((e) => [
          code(e.name),
          mdEscape(e.expected),
          e.found === null ? 'missing' : mdEscape(e.found),
          e.ok ? OK : BAD,
        ]),
      ),
    );
  }

  if (report.erasures) out.push('', ...erasureSection(report.erasures));

  const phases = phaseRows(report.phases);
  if (phases.length) out.push('', '### Phase times', '', table(['Phase', 'Time'], phases));
  out.push('');
  return out.join('\n');
}

/** The files and Redis parts' rows of the drill's checks (src/parts/proofs.ts fills them). */
function partRows(report: DrillReport): [string, boolean, string][] {
  const rows: [string, boolean, string][] = [];
  if (report.files)
    rows.push(['Files (restored, every SHA-256 compared)', report.files.ok, report.files.detail]);
  if (report.redis)
    rows.push([
      `Redis ${report.redis.serverVersion} (loaded in a throwaway redis-server)`,
      report.redis.ok,
      report.redis.ok ? `${report.redis.foundKeys} keys, as the manifest says` : report.redis.detail,
    ]);
  return rows;
}
