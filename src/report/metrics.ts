/**
 * DR readiness metrics over a window of history: pure functions of (now, records).
 *
 * Rules for imperfect history (records come from several machines and clocks, in any order,
 * sometimes twice):
 * - Everything is sorted by time here; input order never matters. Records with the same id
 *   (the same run read from two destinations) count once.
 * - A record's time is when it started (`startedAt`; `createdAt` for a manifest: the snapshot,
 *   which is the recovery point). If that is not a date, its finish time is used; with neither
 *   the record is ignored and reported.
 * - Durations come from the recorded monotonic measurement (`durationMs`, `rto.measuredSeconds`),
 *   never from subtracting wall-clock timestamps, which a clock step can make negative. A record
 *   that finishes before it starts is still counted, and noted as a clock anomaly.
 * - A record dated after `now` by at most `clockSkewSeconds` (default 5 min) is treated as
 *   happening `now` (a runner clock slightly ahead). One dated further in the future is ignored
 *   and reported: a wrong clock must not make a stale backup look fresh.
 * - A successful backup run whose manifest has since been pruned still proves a complete
 *   backup existed that day, so day coverage and gaps use manifests plus successful backup
 *   runs. What exists *now* (newest complete, newest verified, staleness, retention) uses
 *   manifests only: you can only restore what is still stored.
 * - Schedulers start late (GitHub's cron by minutes, sometimes an hour), so a daily backup
 *   leaves gaps of 24 h plus a little. Gaps and the newest backup's age are judged against
 *   RPO + `rpoToleranceSeconds` (default 1 h; 0 for strict); the exact values are always shown.
 * - The window is `windowDays` whole UTC days ending today. Days before the first record of any
 *   kind are not tracked (a new installation is not blamed for days before it existed), and
 *   today only counts once it has a backup (it may simply not have run yet).
 */
import type { DrillReport, Manifest, RunRecord } from '../catalog/types.js';
import { formatDuration, formatPercent, formatUtc, utcDay } from './format.js';

export const READINESS_FORMAT = 'lms-backup/readiness@1';

export const FAIL_ON_CONDITIONS = ['stale', 'rpo', 'rto', 'drill'] as const;
export type FailOnCondition = (typeof FAIL_ON_CONDITIONS)[number];

export type FindingSeverity = 'critical' | 'warning' | 'info';

export interface Finding {
  severity: FindingSeverity;
  /** Stable machine name, e.g. "stale", "missing-days", "future-records". */
  code: string;
  message: string;
}

export interface ReadinessInput {
  now: Date;
  windowDays?: number;
  runs: readonly RunRecord[];
  manifests: readonly Manifest[];
  drills: readonly DrillReport[];
  rpoSeconds?: number;
  rtoSeconds?: number;
  keepDays?: number;
  /** How far in the future a record may be dated and still count as "now". Default 300 s. */
  clockSkewSeconds?: number;
  /** Scheduler lateness accepted on top of the RPO for gaps and staleness. Default 3600 s. */
  rpoToleranceSeconds?: number;
}

export interface BackupRef {
  id: string;
  createdAt: string;
  ageSeconds: number;
  bytes: number | null;
}

export interface DrillRef {
  id: string;
  backupId: string | null;
  at: string;
  verdict: 'pass' | 'fail' | 'could-not-run';
  recoverySeconds: number | null;
  /** First reason a failed drill gave. */
  reason?: string;
}

export interface Gap {
  from: string;
  to: string;
  seconds: number;
  /** True for the gap from the newest backup to now (still growing). */
  open: boolean;
}

export interface Readiness {
  format: typeof READINESS_FORMAT;
  generatedAt: string;
  status: 'ready' | 'at-risk' | 'not-ready';
  window: {
    days: number;
    start: string;
    end: string;
    /** Time of the first record of any kind, or null when there is none. */
    trackedFrom: string | null;
  };
  objectives: { rpoSeconds: number; rtoSeconds: number; keepDays: number; rpoToleranceSeconds: number };
  backups: {
    runs: number;
    successful: number;
    failed: number;
    /** successful / runs, null without runs. */
    successRate: number | null;
    /** Tracked whole days in the window (today only once it has a backup). */
    daysTracked: number;
    daysWithBackup: number;
    /** YYYY-MM-DD, oldest first. */
    daysWithout: string[];
    /** Today has no backup yet and is not counted. */
    todayPending: boolean;
    largestGap: (Gap & { ok: boolean }) | null;
    newestComplete: BackupRef | null;
    newestVerified: (BackupRef & { drillId: string; drilledAt: string }) | null;
  };
  drills: {
    /** Drills that ran (restored or failed to): those that could not run are counted apart. */
    count: number;
    passed: number;
    failed: number;
    /** Drills that could not run (no identity, no throwaway server or pg_restore). */
    couldNotRun: number;
    successRate: number | null;
    last: DrillRef | null;
    lastRecovery: { drillId: string; seconds: number; ok: boolean } | null;
    worstRecovery: { drillId: string; seconds: number; ok: boolean } | null;
  };
  retention: {
    /** Stored backups reach back the whole objective, with one for every tracked day. */
    ok: boolean;
    /** Not met only because tracking began less than the objective ago (nothing is missing). */
    pending: boolean;
    keepDays: number;
    oldestComplete: BackupRef | null;
    /** Days since the first record of any kind. */
    historyDays: number;
    message: string;
  };
  /** The `--fail-on` signals. */
  conditions: Record<FailOnCondition, { tripped: boolean; message: string }>;
  findings: Finding[];
  ignored: { futureRecords: string[]; invalidRecords: string[]; clockAnomalies: string[] };
}

export interface ReportSeries {
  window: { start: string; end: string };
  rpoSeconds: number;
  rtoSeconds: number;
  rpoToleranceSeconds: number;
  /** Complete backups in the window, oldest first. */
  backups: { id: string; at: string; bytes: number | null; durationSeconds: number | null }[];
  /** Failed backup runs in the window. */
  backupFailures: { id: string; at: string; reason: string }[];
  /** Drills in the window, oldest first. */
  drills: (DrillRef & { durationSeconds: number | null })[];
  /** Gaps between consecutive complete backups ending in the window, plus the open one. */
  gaps: Gap[];
}

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Normalisation: one pass that applies the rules above and every consumer shares.

interface BackupPoint {
  id: string;
  at: number;
  bytes: number | null;
  durationSeconds: number | null;
  /** The manifest is still stored. */
  stored: boolean;
}

interface DrillPoint extends DrillRef {
  atMs: number;
  durationSeconds: number | null;
}

interface Normalized {
  now: number;
  windowStart: number;
  trackedFrom: number | null;
  backupRuns: { id: string; at: number; ok: boolean; reason: string }[];
  /** All complete backups known (manifests + successful runs), oldest first, up to now. */
  points: BackupPoint[];
  /** Stored manifests, oldest first, up to now. */
  stored: BackupPoint[];
  /** All drills, oldest first, up to now. */
  drills: DrillPoint[];
  ignored: Readiness['ignored'];
}

function parseTime(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function nonNegative(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

function uniqueById<T extends { id: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object' || seen.has(item.id)) continue;
    seen.add(item.id);
    out.push(item);
  }
  return out;
}

function normalize(input: ReadinessInput): Normalized {
  const now = input.now.getTime();
  if (Number.isNaN(now)) throw new RangeError('computeReadiness: `now` is not a valid date');
  const windowDays = input.windowDays ?? 30;
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new RangeError(`windowDays must be a whole number of days >= 1 (got ${windowDays})`);
  }
  const skewMs = (input.clockSkewSeconds ?? 300) * 1000;
  const windowStart = startOfUtcDay(now) - (windowDays - 1) * DAY_MS;
  const ignored: Readiness['ignored'] = { futureRecords: [], invalidRecords: [], clockAnomalies: [] };

  /** The rules for one record's time: null means "ignore it" (and it has been reported). */
  const place = (id: string, start: unknown, finish: unknown): number | null => {
    const s = parseTime(start);
    const f = parseTime(finish);
    const at = s ?? f;
    if (at === null) {
      ignored.invalidRecords.push(id);
      return null;
    }
    if (s !== null && f !== null && f < s) ignored.clockAnomalies.push(id);
    if (at > now + skewMs) {
      ignored.futureRecords.push(id);
      return null;
    }
    return Math.min(at, now);
  };

  const runs = uniqueById(input.runs);
  const manifests = uniqueById(input.manifests);
  const reports = uniqueById(input.drills);

  let trackedFrom: number | null = null;
  const track = (at: number) => {
    trackedFrom = trackedFrom === null ? at : Math.min(trackedFrom, at);
  };

  const backupRuns: Normalized['backupRuns'] = [];
  const runDurations = new Map<string, number>();
  const runPoints: BackupPoint[] = [];
  const drillRuns: { run: RunRecord; at: number }[] = [];
  for (const run of runs) {
    const at = place(run.id, run.startedAt, run.finishedAt);
    if (at === null) continue;
    track(at);
    const ms = nonNegative(run.durationMs);
    if (run.command === 'backup') {
      const ok = run.status === 'success';
      backupRuns.push({ id: run.id, at, ok, reason: run.reason ?? '' });
      if (ok && run.backupId) {
        if (ms !== null) runDurations.set(run.backupId, ms / 1000);
        runPoints.push({
          id: run.backupId,
          at,
          bytes: nonNegative(run.bytes),
          durationSeconds: ms === null ? null : ms / 1000,
          stored: false,
        });
      }
    } else if (run.command === 'drill') {
      drillRuns.push({ run, at });
    }
  }

  const stored: BackupPoint[] = [];
  for (const m of manifests) {
    const at = place(m.id, m.createdAt, m.completedAt);
    if (at === null) continue;
    track(at);
    const created = parseTime(m.createdAt);
    const completed = parseTime(m.completedAt);
    const wall =
      created !== null && completed !== null && completed >= created ? (completed - created) / 1000 : null;
    const dumpMs = nonNegative(m.dump?.durationMs);
    stored.push({
      id: m.id,
      at,
      // Every object of the backup: the dump, the globals, and the files and Redis parts.
      bytes: nonNegative(storedBytes(m)),
      durationSeconds: runDurations.get(m.id) ?? wall ?? (dumpMs === null ? null : dumpMs / 1000),
      stored: true,
    });
  }
  const storedIds = new Set(stored.map((p) => p.id));
  const points = [...stored, ...uniqueById(runPoints).filter((p) => !storedIds.has(p.id))];

  const drills: DrillPoint[] = [];
  const matchedRuns = new Set<string>();
  for (const r of reports) {
    const at = place(r.id, r.startedAt, r.finishedAt);
    if (at === null) continue;
    track(at);
    // The drill run that wrote this report: by the id it recorded, else same backup and time.
    for (const { run } of drillRuns) {
      if (run.details?.drillId === r.id) matchedRuns.add(run.id);
      else if (run.backupId && run.backupId === r.backupId && run.details?.drillId === undefined) {
        const a = parseTime(run.startedAt);
        const b = parseTime(run.finishedAt);
        const lo = Math.min(a ?? Infinity, b ?? Infinity) - 300_000;
        const hi = Math.max(a ?? -Infinity, b ?? -Infinity) + 300_000;
        if (at >= lo && at <= hi) matchedRuns.add(run.id);
      }
    }
    const restored = r.restore?.ok === true;
    const measured = restored ? nonNegative(r.rto?.measuredSeconds) : null;
    const started = parseTime(r.startedAt);
    const finished = parseTime(r.finishedAt);
    // The phases are measured durations; the wall-clock span is the fallback.
    const phaseMs = Object.values(r.phases ?? {}).reduce<number>((sum, v) => sum + (nonNegative(v) ?? 0), 0);
    const wall =
      started !== null && finished !== null && finished >= started ? (finished - started) / 1000 : null;
    const point: DrillPoint = {
      id: r.id,
      backupId: r.backupId ?? null,
      at: new Date(at).toISOString(),
      atMs: at,
      verdict: r.verdict === 'pass' || r.verdict === 'could-not-run' ? r.verdict : 'fail',
      recoverySeconds: r.verdict === 'could-not-run' ? null : measured,
      durationSeconds: phaseMs > 0 ? phaseMs / 1000 : (wall ?? measured),
    };
    const reason = r.reasons?.[0];
    if (point.verdict !== 'pass' && reason) point.reason = reason;
    drills.push(point);
  }
  // A drill that crashed before writing its report still failed to prove anything.
  for (const { run, at } of drillRuns) {
    if (matchedRuns.has(run.id)) continue;
    const recovery = nonNegative(run.details?.recoverySeconds);
    const ms = nonNegative(run.durationMs);
    const point: DrillPoint = {
      id: run.id,
      backupId: run.backupId ?? null,
      at: new Date(at).toISOString(),
      atMs: at,
      verdict:
        run.details?.verdict === 'could-not-run'
          ? 'could-not-run'
          : run.status === 'success' && run.details?.verdict !== 'fail'
            ? 'pass'
            : 'fail',
      recoverySeconds: run.status === 'success' ? recovery : null,
      durationSeconds: ms === null ? null : ms / 1000,
    };
    if (point.verdict !== 'pass') point.reason = run.reason ?? 'the drill did not finish (no drill report)';
    drills.push(point);
  }

  const byTime = <T extends { at: number; id: string }>(a: T, b: T) =>
    a.at - b.at || a.id.localeCompare(b.id);
  return {
    now,
    windowStart,
    trackedFrom,
    backupRuns: backupRuns.sort(byTime),
    points: points.sort(byTime),
    stored: stored.sort(byTime),
    drills: drills.sort((a, b) => a.atMs - b.atMs || a.id.localeCompare(b.id)),
    ignored,
  };
}

function computeGaps(n: Normalized): Gap[] {
  const gaps: Gap[] = [];
  const { points, now, windowStart } = n;
  const iso = (ms: number) => new Date(ms).toISOString();
  const firstInWindow = points.findIndex((p) => p.at >= windowStart);
  // Nothing before the window: the stretch from the start of tracking to the first backup
  // is a gap too (e.g. the first days' backups all failed).
  if (firstInWindow === 0 && n.trackedFrom !== null) {
    const from = Math.max(windowStart, n.trackedFrom);
    const first = points[0]!;
    if (first.at > from)
      gaps.push({ from: iso(from), to: iso(first.at), seconds: (first.at - from) / 1000, open: false });
  }
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1]!;
    const cur = points[i]!;
    if (cur.at < windowStart) continue;
    gaps.push({ from: iso(prev.at), to: iso(cur.at), seconds: (cur.at - prev.at) / 1000, open: false });
  }
  const last = points.at(-1);
  if (last) gaps.push({ from: iso(last.at), to: iso(now), seconds: (now - last.at) / 1000, open: true });
  return gaps;
}

function ref(p: BackupPoint, now: number): BackupRef {
  return {
    id: p.id,
    createdAt: new Date(p.at).toISOString(),
    ageSeconds: (now - p.at) / 1000,
    bytes: p.bytes,
  };
}

function drillRef(d: DrillPoint): DrillRef {
  const out: DrillRef = {
    id: d.id,
    backupId: d.backupId,
    at: d.at,
    verdict: d.verdict,
    recoverySeconds: d.recoverySeconds,
  };
  if (d.reason) out.reason = d.reason;
  return out;
}

function listIds(ids: string[]): string {
  const shown = ids.slice(0, 3).join(', ');
  return ids.length > 3 ? `${shown} and ${ids.length - 3} more` : shown;
}

export function computeReadiness(input: ReadinessInput): Readiness {
  const n = normalize(input);
  const windowDays = input.windowDays ?? 30;
  const rpoSeconds = input.rpoSeconds ?? 86_400;
  const rtoSeconds = input.rtoSeconds ?? 14_400;
  const keepDays = input.keepDays ?? 30;
  const rpoToleranceSeconds = input.rpoToleranceSeconds ?? 3600;
  const rpoLimit = rpoSeconds + rpoToleranceSeconds;
  const rpoText = `RPO ${formatDuration(rpoSeconds)}${rpoToleranceSeconds ? ` (+${formatDuration(rpoToleranceSeconds)} tolerance)` : ''}`;
  const { now, windowStart } = n;
  const inWindow = (at: number) => at >= windowStart && at <= now;
  const findings: Finding[] = [];

  // Backup runs.
  const runs = n.backupRuns.filter((r) => inWindow(r.at));
  const successful = runs.filter((r) => r.ok).length;
  const failedRuns = runs.filter((r) => !r.ok);
  const successRate = runs.length ? successful / runs.length : null;
  if (failedRuns.length) {
    const last = failedRuns.at(-1)!;
    findings.push({
      severity: 'warning',
      code: 'backup-failures',
      message: `${failedRuns.length} of ${runs.length} backup runs failed in the window; the latest (${formatUtc(new Date(last.at))})${last.reason ? `: ${last.reason}` : ''}.`,
    });
  }

  // Day coverage.
  const covered = new Set(n.points.filter((p) => inWindow(p.at)).map((p) => utcDay(p.at)));
  const today = startOfUtcDay(now);
  const trackStart = n.trackedFrom === null ? null : Math.max(windowStart, startOfUtcDay(n.trackedFrom));
  const daysWithout: string[] = [];
  let daysTracked = 0;
  let daysWithBackup = 0;
  const todayPending = !covered.has(utcDay(today));
  if (trackStart !== null) {
    for (let d = trackStart; d <= today; d += DAY_MS) {
      const day = utcDay(d);
      if (covered.has(day)) {
        daysTracked += 1;
        daysWithBackup += 1;
      } else if (d !== today) {
        daysTracked += 1;
        daysWithout.push(day);
      }
    }
  }
  if (daysWithout.length) {
    findings.push({
      severity: 'warning',
      code: 'missing-days',
      message: `${daysWithout.length} of ${daysTracked} days in the window ${daysWithout.length === 1 ? 'has' : 'have'} no complete backup: ${listIds(daysWithout)}.`,
    });
  }

  // Gaps against the RPO.
  const gaps = computeGaps(n);
  const largest = gaps.reduce<Gap | null>((a, g) => (a === null || g.seconds > a.seconds ? g : a), null);
  const largestGap = largest ? { ...largest, ok: largest.seconds <= rpoLimit } : null;

  // What exists now.
  const newestStored = n.stored.at(-1);
  const newestComplete = newestStored ? ref(newestStored, now) : null;
  const latestDrillOf = new Map<string, DrillPoint>();
  // A drill that could not run proves nothing either way: the backup keeps what the last one that ran said.
  for (const d of n.drills) if (d.backupId && d.verdict !== 'could-not-run') latestDrillOf.set(d.backupId, d);
  let newestVerified: Readiness['backups']['newestVerified'] = null;
  for (let i = n.stored.length - 1; i >= 0 && !newestVerified; i--) {
    const p = n.stored[i]!;
    const d = latestDrillOf.get(p.id);
    if (d?.verdict === 'pass') newestVerified = { ...ref(p, now), drillId: d.id, drilledAt: d.at };
  }

  // Drills.
  const attempts = n.drills.filter((d) => inWindow(d.atMs));
  const drills = attempts.filter((d) => d.verdict !== 'could-not-run');
  const couldNotRun = attempts.length - drills.length;
  const passed = drills.filter((d) => d.verdict === 'pass').length;
  const lastPoint = drills.at(-1);
  const last = lastPoint ? drillRef(lastPoint) : null;
  const lastAttempt = attempts.at(-1);
  if (lastAttempt && lastAttempt.verdict === 'could-not-run') {
    findings.push({
      severity: 'warning',
      code: 'drill-not-run',
      message: `The newest drill (${lastAttempt.id}, ${formatUtc(lastAttempt.at)}) could not run${lastAttempt.reason ? `: ${lastAttempt.reason.replace(/^could not run: /, '')}` : '.'}`,
    });
  }
  const measured = drills.filter((d) => d.recoverySeconds !== null);
  const lastMeasured = measured.at(-1);
  const worstMeasured = measured.reduce<DrillPoint | null>(
    (a, d) => (a === null || d.recoverySeconds! > a.recoverySeconds! ? d : a),
    null,
  );
  const recovery = (d: DrillPoint | null | undefined) =>
    d ? { drillId: d.id, seconds: d.recoverySeconds!, ok: d.recoverySeconds! <= rtoSeconds } : null;
  const lastRecovery = recovery(lastMeasured);
  const worstRecovery = recovery(worstMeasured);
  if (worstRecovery && !worstRecovery.ok && worstRecovery.drillId !== lastRecovery?.drillId) {
    findings.push({
      severity: 'warning',
      code: 'rto-worst',
      message: `Drill ${worstRecovery.drillId} took ${formatDuration(worstRecovery.seconds)} to recover, over the RTO of ${formatDuration(rtoSeconds)}.`,
    });
  }

  // Retention.
  const oldestStored = n.stored[0];
  const oldestComplete = oldestStored ? ref(oldestStored, now) : null;
  const historyDays = n.trackedFrom === null ? 0 : (now - n.trackedFrom) / DAY_MS;
  // One day of slack: a daily prune may already have removed the backup from exactly keepDays ago.
  const reachesBack = oldestComplete !== null && oldestComplete.ageSeconds >= (keepDays - 1) * 86_400;
  const young = n.trackedFrom !== null && historyDays < keepDays;
  let retentionMessage: string;
  if (!oldestComplete) retentionMessage = 'No complete backup is stored.';
  else if (!reachesBack && !young)
    retentionMessage = `The oldest stored backup (${oldestComplete.id}) is ${formatDuration(oldestComplete.ageSeconds)} old; ${keepDays} days are required: backups were deleted too early or lost.`;
  else if (daysWithout.length)
    retentionMessage = `${daysWithout.length} day${daysWithout.length === 1 ? ' in the window has' : 's in the window have'} no backup to restore from.`;
  else if (reachesBack)
    retentionMessage = `Backups reach back ${formatDuration(oldestComplete.ageSeconds)} (${keepDays} days required), with one for every tracked day.`;
  else
    retentionMessage = `History is ${formatDuration(historyDays * 86_400)} long, shorter than the ${keepDays} days to keep; every tracked day has a backup.`;
  // Met only when stored backups reach back the whole objective: a young history is not yet met.
  const retentionOk = oldestComplete !== null && reachesBack && daysWithout.length === 0;
  const retentionPending = !retentionOk && young && oldestComplete !== null && daysWithout.length === 0;
  // Missing days already have their own finding; this one is about backups not reaching back.
  if (oldestComplete && !reachesBack && !young) {
    findings.push({
      severity: 'warning',
      code: 'retention',
      message: `Retention not met: ${retentionMessage}`,
    });
  }

  // The --fail-on signals.
  const stale = !newestComplete || newestComplete.ageSeconds > rpoLimit;
  const conditions: Readiness['conditions'] = {
    stale: {
      tripped: stale,
      message: !newestComplete
        ? 'No complete backup is stored.'
        : `The newest complete backup (${newestComplete.id}) is ${formatDuration(newestComplete.ageSeconds)} old; ${rpoText}.`,
    },
    rpo: {
      tripped: !largestGap?.ok,
      message: !largestGap
        ? 'No complete backup in the history: the gap is unbounded.'
        : `The largest gap between complete backups in the window is ${formatDuration(largestGap.seconds)} (${formatUtc(largestGap.from)} to ${largestGap.open ? 'now' : formatUtc(largestGap.to)}); ${rpoText}.`,
    },
    rto: {
      tripped: !lastRecovery?.ok,
      message: !lastRecovery
        ? `No drill in the last ${windowDays} days measured a recovery time.`
        : `The last measured recovery took ${formatDuration(lastRecovery.seconds)} (drill ${lastRecovery.drillId}); RTO ${formatDuration(rtoSeconds)}.`,
    },
    drill: {
      tripped: !last || last.verdict === 'fail',
      message: !last
        ? `No restore drill in the last ${windowDays} days.`
        : last.verdict === 'fail'
          ? `The last drill (${last.id}) failed${last.reason ? `: ${last.reason}` : '.'}`
          : `The last drill (${last.id}, ${formatUtc(last.at)}) passed.`,
    },
  };
  if (conditions.stale.tripped)
    findings.unshift({ severity: 'critical', code: 'stale', message: conditions.stale.message });
  if (conditions.drill.tripped)
    findings.push({ severity: 'critical', code: 'drill', message: conditions.drill.message });
  // When the largest gap is the open one, the critical "stale" finding already says it.
  if (conditions.rpo.tripped && largestGap && !(largestGap.open && stale))
    findings.push({ severity: 'warning', code: 'rpo', message: conditions.rpo.message });
  // With no drill at all, the critical "drill" finding already says it.
  if (conditions.rto.tripped && last)
    findings.push({ severity: 'warning', code: 'rto', message: conditions.rto.message });

  if (n.ignored.futureRecords.length) {
    findings.push({
      severity: 'warning',
      code: 'future-records',
      message: `${n.ignored.futureRecords.length} record(s) are dated in the future and were ignored (${listIds(n.ignored.futureRecords)}): check the clock of the machine that wrote them.`,
    });
  }
  if (n.ignored.invalidRecords.length) {
    findings.push({
      severity: 'warning',
      code: 'invalid-records',
      message: `${n.ignored.invalidRecords.length} record(s) have no valid date and were ignored (${listIds(n.ignored.invalidRecords)}).`,
    });
  }
  if (n.ignored.clockAnomalies.length) {
    findings.push({
      severity: 'info',
      code: 'clock-anomalies',
      message: `${n.ignored.clockAnomalies.length} record(s) finish before they start (a clock step during the run): ${listIds(n.ignored.clockAnomalies)}. Their measured durations were used.`,
    });
  }
  if (todayPending && newestComplete && !stale) {
    findings.push({
      severity: 'info',
      code: 'today-pending',
      message: 'No backup yet today (not counted as a missing day).',
    });
  }
  const order: Record<FindingSeverity, number> = { critical: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  const status = findings.some((f) => f.severity === 'critical')
    ? 'not-ready'
    : findings.some((f) => f.severity === 'warning')
      ? 'at-risk'
      : 'ready';

  return {
    format: READINESS_FORMAT,
    generatedAt: new Date(now).toISOString(),
    status,
    window: {
      days: windowDays,
      start: new Date(windowStart).toISOString(),
      end: new Date(now).toISOString(),
      trackedFrom: n.trackedFrom === null ? null : new Date(n.trackedFrom).toISOString(),
    },
    objectives: { rpoSeconds, rtoSeconds, keepDays, rpoToleranceSeconds },
    backups: {
      runs: runs.length,
      successful,
      failed: failedRuns.length,
      successRate,
      daysTracked,
      daysWithBackup,
      daysWithout,
      todayPending,
      largestGap,
      newestComplete,
      newestVerified,
    },
    drills: {
      count: drills.length,
      passed,
      failed: drills.length - passed,
      couldNotRun,
      successRate: drills.length ? passed / drills.length : null,
      last,
      lastRecovery,
      worstRecovery,
    },
    retention: {
      ok: retentionOk,
      pending: retentionPending,
      keepDays,
      oldestComplete,
      historyDays,
      message: retentionMessage,
    },
    conditions,
    findings,
    ignored: n.ignored,
  };
}

/** The conditions from `failOn` that tripped, in the order given. */
export function trippedConditions(
  readiness: Readiness,
  failOn: readonly FailOnCondition[],
): FailOnCondition[] {
  return [...new Set(failOn)].filter((c) => readiness.conditions[c].tripped);
}

/** The data behind the HTML charts, under the same rules as the metrics. */
export function buildReportSeries(input: ReadinessInput): ReportSeries {
  const n = normalize(input);
  const inWindow = (at: number) => at >= n.windowStart && at <= n.now;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    window: { start: iso(n.windowStart), end: iso(n.now) },
    rpoSeconds: input.rpoSeconds ?? 86_400,
    rtoSeconds: input.rtoSeconds ?? 14_400,
    rpoToleranceSeconds: input.rpoToleranceSeconds ?? 3600,
    backups: n.points
      .filter((p) => inWindow(p.at))
      .map((p) => ({ id: p.id, at: iso(p.at), bytes: p.bytes, durationSeconds: p.durationSeconds })),
    backupFailures: n.backupRuns
      .filter((r) => !r.ok && inWindow(r.at))
      .map((r) => ({ id: r.id, at: iso(r.at), reason: r.reason })),
    drills: n.drills
      .filter((d) => inWindow(d.atMs))
      .map((d) => ({ ...drillRef(d), durationSeconds: d.durationSeconds })),
    gaps: computeGaps(n),
  };
}

/** One line for logs and alerts: "at-risk: 96.7% backups ok, last drill passed, …". */
export function summarizeReadiness(r: Readiness): string {
  const parts = [
    r.backups.successRate === null
      ? 'no backup runs'
      : `${formatPercent(r.backups.successRate)} of backup runs ok`,
    `${r.backups.daysWithBackup}/${r.backups.daysTracked} days covered`,
    r.drills.last
      ? `last drill ${r.drills.last.verdict === 'pass' ? 'passed' : 'failed'}${r.drills.couldNotRun ? ` (${r.drills.couldNotRun} could not run)` : ''}`
      : r.drills.couldNotRun
        ? `no drill ran (${r.drills.couldNotRun} could not run)`
        : 'no drill',
  ];
  return `${r.status}: ${parts.join(', ')}`;
}

/** A backup's stored bytes over all its objects (manifest@1: the dump alone). */
function storedBytes(m: Manifest): number | undefined {
  if (!Array.isArray(m.objects)) return m.object?.bytes;
  let total = 0;
  for (const o of m.objects) {
    if (typeof o?.bytes !== 'number') return m.object?.bytes;
    total += o.bytes;
  }
  return total;
}
