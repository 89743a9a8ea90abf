/**
 * The DR readiness report as one self-contained HTML page: inline CSS, inline SVG charts, no
 * script, no external resource (a Content-Security-Policy forbids any), readable offline from
 * an artifact or a storage bucket. Every chart has a title, a description and its data as a
 * table for screen readers.
 */
import type { ErasureStatus } from '../erasure/status.js';
import { formatBytes, formatDuration, formatPercent, formatUtc } from './format.js';
import type { Readiness, ReportSeries } from './metrics.js';

export interface HtmlReportOptions {
  /** The erasure ledger's status (the section is left out when the ledger is empty). */
  erasures?: ErasureStatus;
  /** Page title; default "DR readiness report". */
  title?: string;
  /** Where the records were read from (credential-free display strings). */
  sources?: string[];
  /** Tool version for the footer. */
  version?: string;
  /** The database the report covers (a fleet's name for it). */
  database?: string;
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const esc = escapeHtml;

// ---------------------------------------------------------------------------------------------
// Scales

// Sized so that two charts side by side on a laptop screen draw text near its nominal size.
const W = 560;
const H = 270;
const M = { left: 74, right: 14, top: 34, bottom: 32 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

interface Unit {
  size: number;
  label: string;
  /** Chosen only when the maximum is at least this many units. Default 2. */
  from?: number;
  /** Preferred tick steps in this unit (e.g. 6, 12, 24 hours); else 1-2-5 steps. */
  steps?: number[];
}

const BYTE_UNITS: Unit[] = [
  { size: 1, label: 'B' },
  { size: 1024, label: 'KiB' },
  { size: 1024 ** 2, label: 'MiB' },
  { size: 1024 ** 3, label: 'GiB' },
  { size: 1024 ** 4, label: 'TiB' },
];
const TIME_UNITS: Unit[] = [
  { size: 1, label: 's', steps: [1, 2, 5, 10, 15, 30, 60] },
  { size: 60, label: 'min', steps: [1, 2, 5, 10, 15, 30, 60] },
  { size: 3600, label: 'h', steps: [1, 2, 3, 6, 12, 24, 48] },
  // Days only beyond three of them, as in formatDuration: "RPO 24 h", not "1 d".
  { size: 86400, label: 'd', from: 4 },
];

/** The largest unit in which `max` is at least 2 (so ticks are not all fractions). */
function pickUnit(max: number, units: Unit[]): Unit {
  let chosen = units[0]!;
  for (const u of units) if (max / u.size >= (u.from ?? 2)) chosen = u;
  return chosen;
}

/** Ticks 0..top in steps of 1, 2 or 5 × 10^k units, about four of them, covering `max`. */
function niceTicks(max: number, unit: Unit): { top: number; ticks: number[] } {
  const v = Math.max(max / unit.size, 1e-9);
  const raw = v / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = unit.steps?.find((m) => m >= raw) ?? ([1, 2, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
  const n = Math.max(1, Math.ceil(v / step));
  const ticks = Array.from({ length: n + 1 }, (_, i) => i * step * unit.size);
  return { top: n * step * unit.size, ticks };
}

function trim(n: number): string {
  return String(Number(n.toPrecision(6)));
}

function fmtTick(v: number, unit: Unit): string {
  return `${trim(v / unit.size)} ${unit.label}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function shortDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

function f1(n: number): string {
  return n.toFixed(1);
}

interface TimeScale {
  t0: number;
  t1: number;
  x(ms: number): number;
  /** Width of one day in px. */
  day: number;
}

function timeScale(series: ReportSeries): TimeScale {
  const t0 = Date.parse(series.window.start);
  const t1 = Math.max(Date.parse(series.window.end), t0 + 3_600_000);
  const x = (ms: number) => M.left + ((Math.min(Math.max(ms, t0), t1) - t0) / (t1 - t0)) * PW;
  return { t0, t1, x, day: (86_400_000 / (t1 - t0)) * PW };
}

function timeAxis(ts: TimeScale): string {
  const days = Math.ceil((ts.t1 - ts.t0) / 86_400_000);
  const every = Math.max(1, Math.ceil(days / 7));
  const parts: string[] = [];
  for (let i = 0; i <= days; i += every) {
    const ms = ts.t0 + i * 86_400_000;
    if (ms > ts.t1) break;
    const x = f1(ts.x(ms));
    parts.push(
      `<line class="tick" x1="${x}" x2="${x}" y1="${M.top + PH}" y2="${M.top + PH + 4}"/>`,
      `<text class="axis-label" x="${x}" y="${M.top + PH + 18}" text-anchor="middle">${shortDay(ms)}</text>`,
    );
  }
  parts.push(`<line class="axis" x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}"/>`);
  return parts.join('');
}

function valueAxis(ticks: number[], top: number, unit: Unit): { y: (v: number) => number; svg: string } {
  const y = (v: number) => M.top + PH - (Math.min(v, top) / top) * PH;
  const svg = ticks
    .map((t) => {
      const yy = f1(y(t));
      return (
        `<line class="grid" x1="${M.left}" x2="${M.left + PW}" y1="${yy}" y2="${yy}"/>` +
        `<text class="axis-label" x="${M.left - 8}" y="${yy}" dy="0.32em" text-anchor="end">${esc(fmtTick(t, unit))}</text>`
      );
    })
    .join('');
  return { y, svg };
}

interface LegendItem {
  cls: string;
  label: string;
  shape?: 'line' | 'box' | 'dash' | 'none';
}

function legend(items: LegendItem[]): string {
  let x = M.left;
  const keys = items
    .map((item) => {
      const mark =
        item.shape === 'none'
          ? ''
          : item.shape === 'line'
            ? `<line class="${item.cls}" x1="${x}" x2="${x + 16}" y1="12" y2="12"/>`
            : item.shape === 'dash'
              ? `<line class="${item.cls}" x1="${x}" x2="${x + 16}" y1="12" y2="12"/>`
              : `<rect class="${item.cls}" x="${x}" y="6" width="12" height="12" rx="2"/>`;
      const tx = item.shape === 'none' ? x : x + 21;
      const text = `<text class="legend" x="${tx}" y="12" dy="0.32em">${esc(item.label)}</text>`;
      x = tx + 12 + item.label.length * 6.4;
      return mark + text;
    })
    .join('');
  return `<g class="legend" aria-hidden="true">${keys}</g>`;
}

/** Data marks live in their own group, apart from axes and legend. */
function data(svg: string): string {
  return `<g class="data">${svg}</g>`;
}

function svgChart(id: string, title: string, desc: string, body: string): string {
  const tid = `${id}-title`;
  const did = `${id}-desc`;
  return (
    `<svg class="chart" id="${id}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${tid} ${did}" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${tid}">${esc(title)}</title><desc id="${did}">${esc(desc)}</desc>` +
    `<rect class="plot-bg" x="${M.left}" y="${M.top}" width="${PW}" height="${PH}"/>` +
    body +
    '</svg>'
  );
}

function emptyNote(text: string): string {
  return `<text class="empty" x="${M.left + PW / 2}" y="${M.top + PH / 2}" text-anchor="middle">${esc(text)}</text>`;
}

function dataTable(caption: string, head: string[], rows: string[][]): string {
  if (!rows.length) return '';
  return (
    `<details><summary>${esc(caption)} (${rows.length} row${rows.length === 1 ? '' : 's'})</summary>` +
    `<div class="table-wrap"><table><thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table></div></details>'
  );
}

// ---------------------------------------------------------------------------------------------
// Charts

function sizeChart(series: ReportSeries): string {
  const ts = timeScale(series);
  const pts = series.backups.filter((b) => b.bytes !== null) as { id: string; at: string; bytes: number }[];
  const max = Math.max(1, ...pts.map((p) => p.bytes));
  const unit = pickUnit(max, BYTE_UNITS);
  const { top, ticks } = niceTicks(max * 1.1, unit);
  const axis = valueAxis(ticks, top, unit);
  let body = (pts.length ? axis.svg : '') + timeAxis(ts);
  if (pts.length) {
    const xy = pts.map((p) => [ts.x(Date.parse(p.at)), axis.y(p.bytes)] as const);
    const line = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${f1(x)},${f1(y)}`).join('');
    const base = f1(M.top + PH);
    const area = `${line}L${f1(xy.at(-1)![0])},${base}L${f1(xy[0]![0])},${base}Z`;
    body += data(
      `<path class="area size" d="${area}"/><path class="line size" d="${line}"/>` +
        pts
          .map(
            (p, i) =>
              `<circle class="dot size" cx="${f1(xy[i]![0])}" cy="${f1(xy[i]![1])}" r="3.5"><title>${esc(`${p.id}: ${formatBytes(p.bytes)} (${formatUtc(p.at)})`)}</title></circle>`,
          )
          .join(''),
    );
  } else body += emptyNote('No complete backup in the window');
  body += legend([{ cls: 'line size', label: 'Stored backup size', shape: 'line' }]);
  const sizes = pts.map((p) => p.bytes);
  const desc = pts.length
    ? `${pts.length} backups, from ${formatBytes(Math.min(...sizes))} to ${formatBytes(Math.max(...sizes))}; the newest is ${formatBytes(sizes.at(-1)!)}.`
    : 'No complete backup in the window.';
  return (
    svgChart('chart-size', 'Backup size over time', desc, body) +
    dataTable(
      'Backup sizes',
      ['Backup', 'Taken', 'Size'],
      pts.map((p) => [p.id, formatUtc(p.at), formatBytes(p.bytes)]),
    )
  );
}

function durationChart(series: ReportSeries): string {
  const ts = timeScale(series);
  const backups = series.backups.filter((b) => b.durationSeconds !== null) as {
    id: string;
    at: string;
    durationSeconds: number;
  }[];
  const drills = series.drills.filter(
    (d) => d.durationSeconds !== null,
  ) as (ReportSeries['drills'][number] & {
    durationSeconds: number;
  })[];
  const dataMax = Math.max(
    1,
    ...backups.map((b) => b.durationSeconds),
    ...drills.map((d) => d.durationSeconds),
  );
  // The RTO line only when it fits on a scale that still shows the data.
  const showRto = series.rtoSeconds <= dataMax * 3;
  const max = Math.max(dataMax, showRto ? series.rtoSeconds : 0) * 1.1;
  const unit = pickUnit(max, TIME_UNITS);
  const { top, ticks } = niceTicks(max, unit);
  const axis = valueAxis(ticks, top, unit);
  const empty = !backups.length && !drills.length;
  let body = (empty ? '' : axis.svg) + timeAxis(ts);
  if (showRto && !empty) {
    const y = f1(axis.y(series.rtoSeconds));
    body +=
      `<line class="objective" x1="${M.left}" x2="${M.left + PW}" y1="${y}" y2="${y}"/>` +
      `<text class="objective-label" x="${M.left + PW - 4}" y="${y}" dy="-0.4em" text-anchor="end">RTO ${esc(formatDuration(series.rtoSeconds))}</text>`;
  }
  const plot = (items: { id: string; at: string; durationSeconds: number }[], cls: string, what: string) => {
    if (!items.length) return '';
    const xy = items.map((p) => [ts.x(Date.parse(p.at)), axis.y(p.durationSeconds)] as const);
    const line = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${f1(x)},${f1(y)}`).join('');
    return (
      `<path class="line ${cls}" d="${line}"/>` +
      items
        .map(
          (p, i) =>
            `<circle class="dot ${cls}" cx="${f1(xy[i]![0])}" cy="${f1(xy[i]![1])}" r="3.5"><title>${esc(`${what} ${p.id}: ${formatDuration(p.durationSeconds)} (${formatUtc(p.at)})`)}</title></circle>`,
        )
        .join('')
    );
  };
  body += data(plot(backups, 'backup-dur', 'Backup') + plot(drills, 'drill-dur', 'Drill'));
  if (empty) body += emptyNote('No measured durations in the window');
  const items: LegendItem[] = [
    { cls: 'line backup-dur', label: 'Backup duration', shape: 'line' },
    { cls: 'line drill-dur', label: 'Drill duration', shape: 'line' },
  ];
  items.push(
    showRto
      ? { cls: 'objective', label: `RTO ${formatDuration(series.rtoSeconds)}`, shape: 'dash' }
      : { cls: 'note', label: `RTO ${formatDuration(series.rtoSeconds)}: above the scale`, shape: 'none' },
  );
  body += legend(items);
  const worst = (xs: number[]) => (xs.length ? formatDuration(Math.max(...xs)) : 'none');
  const desc =
    `Backups: ${backups.length}, longest ${worst(backups.map((b) => b.durationSeconds))}. ` +
    `Drills: ${drills.length}, longest ${worst(drills.map((d) => d.durationSeconds))}. RTO ${formatDuration(series.rtoSeconds)}` +
    (showRto ? '.' : ' (above the chart scale).');
  return (
    svgChart('chart-durations', 'Backup and drill durations', desc, body) +
    dataTable(
      'Durations',
      ['Run', 'Kind', 'When', 'Duration'],
      [
        ...backups.map((b) => [b.id, 'backup', formatUtc(b.at), formatDuration(b.durationSeconds)]),
        ...drills.map((d) => [d.id, 'drill', formatUtc(d.at), formatDuration(d.durationSeconds)]),
      ],
    )
  );
}

function resultsChart(series: ReportSeries): string {
  const ts = timeScale(series);
  const rowH = 56;
  const rows = [
    { label: 'Backups', y: M.top + 22 },
    { label: 'Drills', y: M.top + 22 + rowH + 36 },
  ];
  const w = Math.max(4, Math.min(18, ts.day * 0.7));
  let body = timeAxis(ts);
  for (const r of rows) {
    body +=
      `<text class="row-label" x="6" y="${r.y + rowH / 2}" dy="0.32em">${r.label}</text>` +
      `<line class="grid" x1="${M.left}" x2="${M.left + PW}" y1="${r.y + rowH / 2}" y2="${r.y + rowH / 2}"/>`;
  }
  const [backupRow, drillRow] = rows as [(typeof rows)[number], (typeof rows)[number]];
  type Mark = { ms: number; cls: string; tip: string; symbol?: string };
  /** The runs of one day side by side in that day's slot, never drawn over each other. */
  const place = (items: Mark[], row: (typeof rows)[number]): string => {
    const byDay = new Map<number, Mark[]>();
    for (const m of [...items].sort((a, b) => a.ms - b.ms)) {
      const day = Math.floor(m.ms / 86_400_000);
      byDay.set(day, [...(byDay.get(day) ?? []), m]);
    }
    let out = '';
    for (const [day, group] of byDay) {
      const k = group.length;
      const width = k === 1 ? w : Math.max(2, Math.min(w, (ts.day * 0.8) / k - 1));
      const center = k === 1 ? ts.x(group[0]!.ms) : ts.x(day * 86_400_000 + 43_200_000);
      group.forEach((m, i) => {
        const x = center + (i - (k - 1) / 2) * (width + 1);
        out += `<rect class="mark ${m.cls}" x="${f1(x - width / 2)}" y="${row.y}" width="${f1(width)}" height="${rowH}" rx="2"><title>${esc(m.tip)}</title></rect>`;
        if (m.symbol)
          out += `<text class="verdict ${m.cls}" x="${f1(x)}" y="${row.y - 6}" text-anchor="middle" aria-hidden="true">${m.symbol}</text>`;
      });
    }
    return out;
  };
  const verdictText = (v: string) => (v === 'pass' ? 'passed' : v === 'fail' ? 'failed' : 'could not run');
  let marks = place(
    [
      ...series.backups.map((b) => ({
        ms: Date.parse(b.at),
        cls: 'pass',
        tip: `Backup ${b.id}: complete (${formatUtc(b.at)})`,
      })),
      ...series.backupFailures.map((f) => ({
        ms: Date.parse(f.at),
        cls: 'fail',
        tip: `Backup run ${f.id} failed (${formatUtc(f.at)})${f.reason ? `: ${f.reason}` : ''}`,
      })),
    ],
    backupRow,
  );
  marks += place(
    series.drills.map((d) => ({
      ms: Date.parse(d.at),
      cls: d.verdict,
      tip: `Drill ${d.id} ${verdictText(d.verdict)} (${formatUtc(d.at)})${d.reason ? `: ${d.reason}` : ''}`,
      symbol: d.verdict === 'pass' ? '✓' : d.verdict === 'fail' ? '✗' : '–',
    })),
    drillRow,
  );
  body += data(marks);
  if (!series.drills.length)
    body += `<text class="empty" x="${M.left + PW / 2}" y="${drillRow.y + rowH / 2}" dy="0.32em" text-anchor="middle">No drill in the window</text>`;
  body += legend([
    { cls: 'mark pass', label: 'Complete / passed' },
    { cls: 'mark fail', label: 'Failed' },
    { cls: 'mark could-not-run', label: 'Could not run' },
  ]);
  const passed = series.drills.filter((d) => d.verdict === 'pass').length;
  const notRun = series.drills.filter((d) => d.verdict === 'could-not-run').length;
  const desc =
    `${series.backups.length} complete backups and ${series.backupFailures.length} failed backup runs; ` +
    `${series.drills.length} drills, ${passed} passed and ${series.drills.length - passed - notRun} failed` +
    (notRun ? `, ${notRun} could not run.` : '.');
  return (
    svgChart('chart-results', 'Backup and drill results over time', desc, body) +
    dataTable(
      'Drill results',
      ['Drill', 'Backup', 'When', 'Verdict', 'Recovery time', 'Reason'],
      series.drills.map((d) => [
        d.id,
        d.backupId ?? '',
        formatUtc(d.at),
        d.verdict,
        d.recoverySeconds === null ? '' : formatDuration(d.recoverySeconds),
        d.reason ?? '',
      ]),
    )
  );
}

function gapChart(series: ReportSeries): string {
  const ts = timeScale(series);
  const limit = series.rpoSeconds + series.rpoToleranceSeconds;
  const gaps = series.gaps.filter((g) => Date.parse(g.to) >= ts.t0);
  const max = Math.max(limit * 1.2, ...gaps.map((g) => g.seconds)) * 1.05;
  const unit = pickUnit(max, TIME_UNITS);
  const { top, ticks } = niceTicks(max, unit);
  const axis = valueAxis(ticks, top, unit);
  let body = axis.svg + timeAxis(ts);
  const rpoY = axis.y(series.rpoSeconds);
  if (series.rpoToleranceSeconds > 0) {
    const limitY = axis.y(limit);
    body += `<rect class="tolerance" x="${M.left}" y="${f1(limitY)}" width="${PW}" height="${f1(rpoY - limitY)}"/>`;
  }
  let bars = '';
  for (const g of gaps) {
    const x0 = ts.x(Date.parse(g.from));
    const x1 = ts.x(Date.parse(g.to));
    const width = Math.max(2, x1 - x0 - 1.5);
    const y = axis.y(g.seconds);
    const cls = `gap ${g.seconds > limit ? 'over' : 'within'}${g.open ? ' open' : ''}`;
    const tip = `${formatDuration(g.seconds)} ${g.open ? 'since the newest backup' : 'between backups'} (${formatUtc(g.from)} to ${g.open ? 'now' : formatUtc(g.to)})`;
    bars += `<rect class="${cls}" x="${f1(x0 + 0.75)}" y="${f1(y)}" width="${f1(width)}" height="${f1(M.top + PH - y)}"><title>${esc(tip)}</title></rect>`;
  }
  body += data(bars);
  const rpoLabel = `RPO ${formatDuration(series.rpoSeconds)}`;
  body +=
    `<line class="objective" x1="${M.left}" x2="${M.left + PW}" y1="${f1(rpoY)}" y2="${f1(rpoY)}"/>` +
    `<text class="objective-label" x="${M.left + PW - 4}" y="${f1(axis.y(limit))}" dy="-0.4em" text-anchor="end">${esc(rpoLabel)}</text>`;
  if (!gaps.length) body += emptyNote('No complete backup yet');
  const keys: LegendItem[] = [
    { cls: 'gap within', label: 'Within RPO' },
    { cls: 'gap over', label: 'Over RPO' },
    { cls: 'objective', label: rpoLabel, shape: 'dash' },
  ];
  if (series.rpoToleranceSeconds > 0)
    keys.push({
      cls: 'tolerance',
      label: `+${formatDuration(series.rpoToleranceSeconds)} schedule tolerance`,
    });
  body += legend(keys);
  const over = gaps.filter((g) => g.seconds > limit).length;
  const largest = gaps.reduce((a, g) => Math.max(a, g.seconds), 0);
  const tolerance = series.rpoToleranceSeconds
    ? ` plus ${formatDuration(series.rpoToleranceSeconds)} tolerance`
    : '';
  const desc = gaps.length
    ? `${gaps.length} gaps; the largest is ${formatDuration(largest)}; ${over} exceed the RPO of ${formatDuration(series.rpoSeconds)}${tolerance}.`
    : 'No complete backup yet, so no gaps to show.';
  return (
    svgChart('chart-gaps', 'Gaps between backups against the RPO', desc, body) +
    dataTable(
      'Gaps',
      ['From', 'To', 'Gap', 'Within RPO'],
      gaps.map((g) => [
        formatUtc(g.from),
        g.open ? 'now' : formatUtc(g.to),
        formatDuration(g.seconds),
        g.seconds > limit ? 'no' : 'yes',
      ]),
    )
  );
}

// ---------------------------------------------------------------------------------------------
// Page

type CardState = 'ok' | 'warn' | 'bad' | 'none';
const STATE_TEXT: Record<CardState, string> = { ok: 'OK', warn: 'Warning', bad: 'Missed', none: 'No data' };

function card(label: string, value: string, detail: string, state: CardState): string {
  return (
    `<section class="card ${state}" aria-label="${esc(label)}: ${esc(value)}, ${STATE_TEXT[state]}">` +
    `<div class="card-head"><h3>${esc(label)}</h3><span class="state">${STATE_TEXT[state]}</span></div>` +
    `<p class="value">${esc(value)}</p><p class="detail">${esc(detail)}</p></section>`
  );
}

function cards(r: Readiness): string {
  const { backups: b, drills: d, objectives: o } = r;
  const rpo = formatDuration(o.rpoSeconds);
  const rto = formatDuration(o.rtoSeconds);
  return [
    card(
      'Backup success rate',
      b.successRate === null ? '—' : formatPercent(b.successRate),
      b.runs ? `${b.successful} of ${b.runs} backup runs succeeded` : 'no backup runs in the window',
      b.successRate === null ? 'none' : b.successRate === 1 ? 'ok' : 'warn',
    ),
    card(
      'Days with a backup',
      `${b.daysWithBackup} / ${b.daysTracked}`,
      b.daysTracked === 0
        ? 'no backup history yet'
        : b.daysWithout.length
          ? `${b.daysWithout.length} day${b.daysWithout.length === 1 ? '' : 's'} without one${b.todayPending ? '; today pending' : ''}`
          : b.todayPending
            ? 'every tracked day; today pending'
            : 'every tracked day',
      b.daysTracked === 0 ? 'none' : b.daysWithout.length ? 'bad' : 'ok',
    ),
    card(
      'Newest complete backup',
      b.newestComplete ? `${formatDuration(b.newestComplete.ageSeconds)} ago` : 'none',
      b.newestComplete ? `${b.newestComplete.id} · RPO ${rpo}` : `RPO ${rpo}`,
      r.conditions.stale.tripped ? 'bad' : 'ok',
    ),
    card(
      'Largest gap',
      b.largestGap ? formatDuration(b.largestGap.seconds) : '—',
      `RPO ${rpo}${b.largestGap?.open ? ' · ongoing' : ''}`,
      r.conditions.rpo.tripped ? 'bad' : 'ok',
    ),
    card(
      'Drill success rate',
      d.successRate === null ? '—' : formatPercent(d.successRate),
      d.count
        ? `${d.passed} of ${d.count} drills passed · last ${d.last?.verdict === 'pass' ? 'passed' : 'FAILED'}${d.couldNotRun ? ` · ${d.couldNotRun} could not run` : ''}`
        : d.couldNotRun
          ? `no drill ran in the window · ${d.couldNotRun} could not run`
          : 'no drill in the window',
      d.successRate === null
        ? 'bad'
        : r.conditions.drill.tripped
          ? 'bad'
          : d.successRate === 1
            ? 'ok'
            : 'warn',
    ),
    card(
      'Last recovery time',
      d.lastRecovery ? formatDuration(d.lastRecovery.seconds) : '—',
      `RTO ${rto}`,
      r.conditions.rto.tripped ? 'bad' : 'ok',
    ),
    card(
      'Worst recovery time',
      d.worstRecovery ? formatDuration(d.worstRecovery.seconds) : '—',
      `RTO ${rto}`,
      d.worstRecovery ? (d.worstRecovery.ok ? 'ok' : 'warn') : 'none',
    ),
    card(
      'Newest verified backup',
      b.newestVerified ? `${formatDuration(b.newestVerified.ageSeconds)} ago` : 'none',
      b.newestVerified ? `${b.newestVerified.id} · drill passed` : 'no stored backup has passed a drill',
      b.newestVerified ? 'ok' : 'bad',
    ),
    card(
      'Retention',
      r.retention.ok ? 'Met' : r.retention.pending ? 'Not yet' : 'Not met',
      r.retention.oldestComplete
        ? `oldest ${formatDuration(r.retention.oldestComplete.ageSeconds)} · keep ${o.keepDays} d`
        : `keep ${o.keepDays} d`,
      r.retention.ok ? 'ok' : r.retention.pending ? 'warn' : 'bad',
    ),
  ].join('');
}

const STATUS_TEXT: Record<Readiness['status'], string> = {
  ready: 'Ready',
  'at-risk': 'At risk',
  'not-ready': 'Not ready',
};

const CSS = `
:root{--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--card:#fff;--line:#d1d9e0;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;
--ok-bg:#dafbe1;--warn-bg:#fff8c5;--bad-bg:#ffebe9;--blue:#0969da;--violet:#8250df;--grid:#eaeef2}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#151b23;--line:#3d444d;
--ok:#3fb950;--warn:#d29922;--bad:#f85149;--ok-bg:#12261e;--warn-bg:#272115;--bad-bg:#2d1214;--blue:#4493f8;--violet:#ab7df8;--grid:#262c36}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
header{display:flex;flex-wrap:wrap;align-items:center;gap:12px 20px;margin-bottom:6px}
h1{font-size:26px;margin:0;font-weight:650;letter-spacing:-.01em}
.badge{display:inline-block;padding:4px 14px;border-radius:999px;font-weight:650;font-size:15px;border:1px solid}
.badge.ready{color:var(--ok);background:var(--ok-bg);border-color:var(--ok)}
.badge.at-risk{color:var(--warn);background:var(--warn-bg);border-color:var(--warn)}
.badge.not-ready{color:var(--bad);background:var(--bad-bg);border-color:var(--bad)}
.meta{color:var(--muted);margin:0 0 22px}
h2{font-size:18px;margin:30px 0 12px;font-weight:650}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--line);border-radius:8px;padding:12px 14px 10px}
.card-head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px}
.card h3{margin:0;font-size:12.5px;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.03em}
.card .value{margin:4px 0 2px;font-size:26px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.25}
.card .detail{margin:0;color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.card .state{flex:none;font-size:11.5px;font-weight:700;padding:1px 7px;border-radius:999px;background:var(--bg)}
.card.ok{border-left-color:var(--ok)}.card.ok .state{color:var(--ok);background:var(--ok-bg)}
.card.warn{border-left-color:var(--warn)}.card.warn .state{color:var(--warn);background:var(--warn-bg)}
.card.bad{border-left-color:var(--bad)}.card.bad .state{color:var(--bad);background:var(--bad-bg)}
.card.none .state{color:var(--muted)}
.findings{list-style:none;padding:0;margin:0;display:grid;gap:6px}
.findings li{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:8px 12px 8px 12px;display:flex;gap:10px}
.findings .sev{font-weight:700;font-size:12px;text-transform:uppercase;min-width:64px;padding-top:2px}
.findings .critical .sev{color:var(--bad)}.findings .warning .sev{color:var(--warn)}.findings .info .sev{color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
figure{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 14px 10px}
figcaption{font-weight:650;margin:0 0 4px}
svg.chart{display:block;width:100%;height:auto}
.plot-bg{fill:var(--card)}
.grid{stroke:var(--grid);stroke-width:1}
.axis{stroke:var(--line);stroke-width:1}.tick{stroke:var(--line)}
.axis-label,.legend,.row-label{fill:var(--muted);font-size:12.5px;font-family:inherit}
.row-label{font-weight:600}
.empty{fill:var(--muted);font-size:14px;font-style:italic}
.line{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
.line.size{stroke:var(--blue)}.area.size{fill:var(--blue);opacity:.12}.dot.size{fill:var(--blue)}
.line.backup-dur{stroke:var(--blue)}.dot.backup-dur{fill:var(--blue)}
.line.drill-dur{stroke:var(--violet)}.dot.drill-dur{fill:var(--violet)}
.objective{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:6 4}
.objective-label{fill:var(--bad);font-size:12px;font-weight:600;paint-order:stroke;stroke:var(--card);stroke-width:4px;stroke-linejoin:round}
.mark.pass{fill:var(--ok)}.mark.fail{fill:var(--bad)}.mark.could-not-run{fill:var(--warn)}
.verdict{font-size:13px;font-weight:700}.verdict.pass{fill:var(--ok)}.verdict.fail{fill:var(--bad)}.verdict.could-not-run{fill:var(--warn)}
.tolerance{fill:var(--warn);opacity:.14}
.gap.within{fill:var(--ok);opacity:.7}.gap.over{fill:var(--bad);opacity:.85}.gap.open{opacity:.45}
details{margin-top:6px;font-size:13px}summary{cursor:pointer;color:var(--muted)}
.table-wrap{max-height:260px;overflow:auto;margin-top:6px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);white-space:nowrap}
th{color:var(--muted);font-weight:600}
footer{margin-top:30px;color:var(--muted);font-size:13px}
table.drills td{white-space:normal}section{margin-top:34px;border-top:2px solid var(--line)}
@media print{.table-wrap{max-height:none;overflow:visible}}
@media (max-width:560px){.charts{grid-template-columns:1fr}main{padding:18px 12px}}
`;

/** The ledger's totals and, per erasure, when the backups holding it are gone. */
function erasuresHtml(e: ErasureStatus): string {
  const rows = e.perEntry
    .map(
      (x) =>
        `<tr><td>${esc(x.id)}</td><td>${esc(x.requestedAt)}</td><td>${x.heldBy.length}</td><td>${esc(
          x.heldBy.length === 0 ? 'complete' : (x.completeBy ?? `never: ${x.note ?? ''}`),
        )}</td></tr>`,
    )
    .join('');
  return `<h2>Erasures</h2>
<p>${e.entries} erasure(s) in the ledger; ${e.outstanding} still held by backups taken before them${
    e.oldestOutstanding ? ` (oldest outstanding: requested ${esc(e.oldestOutstanding)})` : ''
  }${e.allCompleteBy ? `; every erasure complete in backups by ${esc(e.allCompleteBy)}` : ''}. Every restore and drill replays the ledger.</p>
<div class="table-wrap"><table><thead><tr><th>Erasure</th><th>Requested</th><th>Backups holding it</th><th>Complete in backups by</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function renderReadinessHtml(
  readiness: Readiness,
  series: ReportSeries,
  options: HtmlReportOptions = {},
): string {
  const r = readiness;
  const title = options.title ?? 'DR readiness report';
  const sources = options.sources?.length ? ` Records from ${options.sources.map(esc).join(', ')}.` : '';
  const covers = options.database ? ` Database <strong>${esc(options.database)}</strong>.` : '';
  return page(
    `${title}${options.database ? `: ${options.database}` : ''}`,
    r.status,
    `<header><h1>${esc(title)}${options.database ? `: ${esc(options.database)}` : ''}</h1><span class="badge ${r.status}" role="status">${STATUS_TEXT[r.status]}</span></header>
<p class="meta">${meta(r)}${covers}${sources}</p>
${readinessBody(r, series, 'h2')}
${options.erasures?.entries ? erasuresHtml(options.erasures) : ''}`,
    r.generatedAt,
    r.format,
    options.version,
  );
}

/** One page for a fleet: a table of every database's status, then each database's report. */
export function renderFleetHtml(
  entries: readonly {
    database: string;
    readiness: Readiness;
    series: ReportSeries;
    sources: string[];
    erasures?: ErasureStatus;
  }[],
  options: { status: Readiness['status']; generatedAt: string; version?: string },
): string {
  const rows = entries
    .map(
      ({ database, readiness: r }) =>
        `<tr><td><a href="#db-${esc(database)}">${esc(database)}</a></td><td><span class="badge ${r.status}">${STATUS_TEXT[r.status]}</span></td>` +
        `<td>${r.backups.newestComplete ? `${esc(formatUtc(r.backups.newestComplete.createdAt))} (${esc(formatDuration(r.backups.newestComplete.ageSeconds))} ago)` : 'none'}</td>` +
        `<td>${r.drills.last ? `${r.drills.last.verdict} ${esc(formatUtc(r.drills.last.at))}` : 'none'}</td>` +
        `<td>${r.findings.length}</td></tr>`,
    )
    .join('');
  const sections = entries
    .map(
      ({ database, readiness: r, series, sources, erasures }) =>
        `<section id="db-${esc(database)}"><h2>${esc(database)} <span class="badge ${r.status}">${STATUS_TEXT[r.status]}</span></h2>
<p class="meta">${meta(r)}${sources.length ? ` Records from ${sources.map(esc).join(', ')}.` : ''}</p>
${readinessBody(r, series, 'h3')}
${erasures?.entries ? erasuresHtml(erasures) : ''}</section>`,
    )
    .join('\n');
  const names = entries.map((e) => e.database);
  return page(
    `DR readiness: ${names.length} databases`,
    options.status,
    `<header><h1>DR readiness: ${names.length} database${names.length === 1 ? '' : 's'}</h1><span class="badge ${options.status}" role="status">${STATUS_TEXT[options.status]}</span></header>
<p class="meta">Covers ${names.map(esc).join(', ')}.</p>
<table><thead><tr><th>Database</th><th>Status</th><th>Newest complete backup</th><th>Last drill</th><th>Findings</th></tr></thead><tbody>${rows}</tbody></table>
${sections}`,
    options.generatedAt,
    entries[0]?.readiness.format ?? 'lms-backup/readiness@1',
    options.version,
  );
}

function meta(r: Readiness): string {
  return `The last ${r.window.days} days: ${esc(formatUtc(r.window.start))} to ${esc(formatUtc(r.window.end))}.
RPO ${esc(formatDuration(r.objectives.rpoSeconds))}${r.objectives.rpoToleranceSeconds ? ` (+${esc(formatDuration(r.objectives.rpoToleranceSeconds))} scheduling tolerance)` : ''}, RTO ${esc(formatDuration(r.objectives.rtoSeconds))}, keep ${r.objectives.keepDays} days.`;
}

function readinessBody(r: Readiness, series: ReportSeries, h: 'h2' | 'h3'): string {
  const findings = r.findings.length
    ? `<ul class="findings">${r.findings
        .map(
          (f) =>
            `<li class="${f.severity}"><span class="sev">${f.severity}</span><span>${esc(f.message)}</span></li>`,
        )
        .join('')}</ul>`
    : '<p>No findings: every objective is met.</p>';
  const figure = (caption: string, content: string) =>
    `<figure><figcaption>${esc(caption)}</figcaption>${content}</figure>`;
  return `<${h}>Metrics</${h}>
<div class="cards">${cards(r)}</div>
<${h}>Findings</${h}>
${findings}
<${h}>Charts</${h}>
<div class="charts">
${figure('Backup size over time', sizeChart(series))}
${figure('Backup and drill durations', durationChart(series))}
${figure('Backup and drill results over time', resultsChart(series))}
${figure('Gaps between backups against the RPO', gapChart(series))}
</div>
<${h}>Drills</${h}>
${drillList(series)}`;
}

/** Every drill of the window as a plain table: on screen and on paper, never folded away. */
function drillList(series: ReportSeries): string {
  if (!series.drills.length) return '<p>No drill in the window.</p>';
  const rows = [...series.drills]
    .reverse()
    .map(
      (d) =>
        `<tr><td>${esc(formatUtc(d.at))}</td><td>${esc(d.backupId ?? '')}</td><td>${d.verdict}</td>` +
        `<td>${d.recoverySeconds === null ? '' : esc(formatDuration(d.recoverySeconds))}</td><td>${esc(d.reason ?? '')}</td></tr>`,
    )
    .join('');
  return `<table class="drills"><thead><tr><th>When</th><th>Backup</th><th>Verdict</th><th>Recovery</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function page(
  title: string,
  status: Readiness['status'],
  body: string,
  generatedAt: string,
  format: string,
  version: string | undefined,
): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${esc(title)}: ${STATUS_TEXT[status]}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
<footer>Generated ${esc(formatUtc(generatedAt))} by lms-backup${version ? ` ${esc(version)}` : ''}. Format ${esc(format)}.</footer>
</main>
</body>
</html>
`;
}
