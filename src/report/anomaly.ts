/**
 * Anomaly checks run after a backup: a dump that shrank or grew sharply, and tables that lost
 * rows (the accidental-deletion signal) or disappeared. Pure functions; the caller turns the
 * results into run-record warnings and notifications.
 */
import type { TableInventory } from '../catalog/types.js';
import { formatBytes, formatPercent } from './format.js';

export type AnomalySeverity = 'ok' | 'warning' | 'critical';

export interface SizeAnomalyInput {
  /** Stored bytes of the backup just taken. */
  bytes: number;
  /** Stored bytes of earlier complete backups, oldest first; the last `historySize` are used. */
  history: readonly number[];
  /** Below this fraction of the median: warning. Default 0.5. */
  lowRatio?: number;
  /** Above this multiple of the median: warning. Default 2.0. */
  highRatio?: number;
  /** Below this many bytes: critical, whatever the history says. Default 1 (only 0 is critical). */
  minBytes?: number;
  /** How many recent backups form the baseline. Default 7. */
  historySize?: number;
}

export interface SizeAnomaly {
  severity: AnomalySeverity;
  message: string;
  /** Median of the baseline, or null when there was no usable history. */
  median: number | null;
  /** bytes / median, or null without a baseline. */
  ratio: number | null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function checkSizeAnomaly(input: SizeAnomalyInput): SizeAnomaly {
  const { bytes, lowRatio = 0.5, highRatio = 2.0, minBytes = 1, historySize = 7 } = input;
  if (!(lowRatio > 0 && lowRatio < 1))
    throw new RangeError(`lowRatio must be between 0 and 1 (got ${lowRatio})`);
  if (!(highRatio > 1)) throw new RangeError(`highRatio must be above 1 (got ${highRatio})`);
  // Zero or nonsense sizes in the history (a failed run recorded as 0) would drag the median down.
  const baseline = input.history.filter((b) => Number.isFinite(b) && b > 0).slice(-historySize);
  const med = median(baseline);
  const ratio = med === null ? null : bytes / med;
  const against =
    med === null
      ? ''
      : ` (${formatPercent(ratio!)} of the median ${formatBytes(med)} of the last ${baseline.length} complete backup${baseline.length === 1 ? '' : 's'})`;

  if (!Number.isFinite(bytes) || bytes <= 0) {
    return {
      severity: 'critical',
      message: `The backup is empty (${Number.isFinite(bytes) ? bytes : 'unknown'} bytes): nothing was dumped.`,
      median: med,
      ratio,
    };
  }
  if (bytes < minBytes) {
    return {
      severity: 'critical',
      message: `The backup is ${formatBytes(bytes)}, below the minimum of ${formatBytes(minBytes)}${against}: check that the right database was dumped.`,
      median: med,
      ratio,
    };
  }
  if (med === null || ratio === null) {
    return {
      severity: 'ok',
      message: `The backup is ${formatBytes(bytes)}; no earlier backups to compare with.`,
      median: null,
      ratio: null,
    };
  }
  if (ratio < lowRatio) {
    return {
      severity: 'warning',
      message: `The backup shrank to ${formatBytes(bytes)}${against}, below the ${formatPercent(lowRatio)} threshold: were data or tables deleted?`,
      median: med,
      ratio,
    };
  }
  if (ratio > highRatio) {
    return {
      severity: 'warning',
      message: `The backup grew to ${formatBytes(bytes)}${against}, above the ${formatPercent(highRatio)} threshold: check for runaway tables or bloat.`,
      median: med,
      ratio,
    };
  }
  return { severity: 'ok', message: `The backup is ${formatBytes(bytes)}${against}.`, median: med, ratio };
}

export interface RowDropOptions {
  /** A table that lost more than this fraction of its rows is reported. Default 0.2. */
  dropRatio?: number;
  /** Tables that had fewer rows than this are not compared (small tables churn). Default 100. */
  minRows?: number;
}

export interface RowDropFinding {
  kind: 'rows-dropped' | 'table-missing';
  schema: string;
  name: string;
  previousRows: number;
  /** Null when the table is gone. */
  currentRows: number | null;
  message: string;
}

function qualified(t: { schema: string; name: string }): string {
  return `${t.schema}.${t.name}`;
}

/**
 * Compares two inventories (previous complete backup vs this one). A missing table is always
 * reported; a row-count drop only for tables that had at least `minRows` rows and lost more
 * than `dropRatio` of them. Results are in the previous inventory's order, schema.name sorted.
 */
export function checkRowDrops(
  previous: readonly TableInventory[],
  current: readonly TableInventory[],
  options: RowDropOptions = {},
): RowDropFinding[] {
  const { dropRatio = 0.2, minRows = 100 } = options;
  if (!(dropRatio > 0 && dropRatio <= 1))
    throw new RangeError(`dropRatio must be in (0, 1] (got ${dropRatio})`);
  const now = new Map(current.map((t) => [qualified(t), t.rows]));
  const findings: RowDropFinding[] = [];
  const before = [...previous].sort((a, b) => qualified(a).localeCompare(qualified(b)));
  for (const t of before) {
    const name = qualified(t);
    const rows = now.get(name);
    if (rows === undefined) {
      findings.push({
        kind: 'table-missing',
        schema: t.schema,
        name: t.name,
        previousRows: t.rows,
        currentRows: null,
        message: `Table ${name} is gone (it had ${t.rows.toLocaleString('en-US')} rows in the previous backup).`,
      });
      continue;
    }
    if (t.rows < minRows || t.rows <= 0) continue;
    const lost = (t.rows - rows) / t.rows;
    if (lost > dropRatio) {
      findings.push({
        kind: 'rows-dropped',
        schema: t.schema,
        name: t.name,
        previousRows: t.rows,
        currentRows: rows,
        message: `Table ${name} lost ${formatPercent(lost)} of its rows (${t.rows.toLocaleString('en-US')} → ${rows.toLocaleString('en-US')}) since the previous backup.`,
      });
    }
  }
  return findings;
}
