import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DrillReport, Manifest, RunRecord } from '../../src/catalog/types.js';
import {
  buildReportSeries,
  computeReadiness,
  type ReadinessInput,
  trippedConditions,
} from '../../src/report/metrics.js';
import { backupId, DAY, HOUR, iso, makeBackup, makeDrill, makeManifest, makeRun } from './fixtures.js';

const NOW = Date.UTC(2024, 0, 31, 10, 0, 0); // Wednesday 31 Jan 2024, 10:00 UTC
const at = (day: number, hour = 2, minute = 0) => Date.UTC(2024, 0, day, hour, minute);

function daily(fromMs: number, toMs: number) {
  const runs: RunRecord[] = [];
  const manifests: Manifest[] = [];
  for (let t = fromMs; t <= toMs; t += DAY) {
    const b = makeBackup(t);
    runs.push(b.run);
    manifests.push(b.manifest);
  }
  return { runs, manifests };
}

describe('a healthy history', () => {
  // Daily backups at 02:00 since 20 Dec, weekly drills on Sundays (7, 14, 21, 28 Jan) of that day's backup.
  const { runs, manifests } = daily(Date.UTC(2023, 11, 20, 2), at(31));
  const drills = [7, 14, 21, 28].map((d) => makeDrill(at(d, 3, 30), backupId(at(d))));
  const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills });

  it('meets every objective', () => {
    expect(r.status).toBe('ready');
    expect(r.findings).toEqual([]);
    expect(r.window).toEqual({
      days: 30,
      start: '2024-01-02T00:00:00.000Z',
      end: '2024-01-31T10:00:00.000Z',
      trackedFrom: '2023-12-20T02:00:00.000Z',
    });
    expect(r.backups).toMatchObject({
      runs: 30,
      successful: 30,
      failed: 0,
      successRate: 1,
      daysTracked: 30,
      daysWithBackup: 30,
      daysWithout: [],
      todayPending: false,
    });
    // Exactly 24 h between backups: equal to the RPO is within it.
    expect(r.backups.largestGap).toMatchObject({ seconds: 86_400, ok: true, open: false });
    expect(r.backups.newestComplete).toMatchObject({ id: 'lms_20240131_020000', ageSeconds: 8 * 3600 });
    expect(r.backups.newestVerified).toMatchObject({
      id: 'lms_20240128_020000',
      ageSeconds: 3 * 86_400 + 8 * 3600,
      drillId: 'drill_20240128_033000',
    });
    expect(r.drills).toMatchObject({ count: 4, passed: 4, failed: 0, successRate: 1 });
    expect(r.drills.last).toMatchObject({
      id: 'drill_20240128_033000',
      verdict: 'pass',
      recoverySeconds: 180,
    });
    expect(r.drills.lastRecovery).toEqual({ drillId: 'drill_20240128_033000', seconds: 180, ok: true });
    expect(r.retention).toMatchObject({ ok: true, keepDays: 30 });
    expect(r.retention.oldestComplete?.id).toBe('lms_20231220_020000');
    expect(Object.values(r.conditions).map((c) => c.tripped)).toEqual([false, false, false, false]);
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const shuffle = <T>(xs: T[]) => {
          const out = [...xs];
          let s = seed;
          for (let i = out.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        };
        const again = computeReadiness({
          now: new Date(NOW),
          runs: shuffle(runs),
          manifests: shuffle(manifests),
          drills: shuffle(drills),
        });
        expect(again).toEqual(r);
      }),
      { numRuns: 25 },
    );
  });
});

describe('a troubled history (hand-computed)', () => {
  // Daily 02:00 backups 1–31 Jan, except: 10 and 11 Jan failed; 20 Jan left no run record (its
  // manifest is there); 25 Jan ran late at 05:00; 15 Jan's record finishes before it starts
  // (clock stepped back); a backup dated now + 2 min (fast clock, within tolerance); a manifest
  // dated 3 Feb (wrong clock, ignored); one run record read twice (two destinations).
  const runs: RunRecord[] = [];
  const manifests: Manifest[] = [];
  for (let d = 1; d <= 31; d++) {
    if (d === 10 || d === 11) {
      runs.push(
        makeRun('backup', at(d), { status: 'failure', reason: `pg_dump: connection refused (day ${d})` }),
      );
      continue;
    }
    const b = makeBackup(d === 25 ? at(25, 5) : at(d));
    if (d !== 20) runs.push(b.run);
    manifests.push(b.manifest);
  }
  const skewed = runs.find((r) => r.startedAt === iso(at(15)))!;
  skewed.finishedAt = iso(at(15) - 30_000);
  runs.push({ ...runs[3]! }); // duplicate id
  const fast = makeBackup(NOW + 120_000);
  runs.push(fast.run);
  manifests.push(fast.manifest);
  manifests.push(makeManifest(Date.UTC(2024, 1, 3, 2)));

  const drills: DrillReport[] = [
    makeDrill(at(21, 3, 30), backupId(at(21)), { verdict: 'fail', recoverySeconds: 100 }),
    makeDrill(at(7, 3, 30), backupId(at(7)), { recoverySeconds: 200 }),
    makeDrill(at(14, 3, 30), backupId(at(14)), { recoverySeconds: 15_000 }),
  ];
  // The drill runs: two name their report, one matches by backup and time, one crashed without a report.
  runs.push(
    makeRun('drill', at(7, 3, 29), {
      backupId: backupId(at(7)),
      details: { drillId: 'drill_20240107_033000' },
    }),
  );
  runs.push(makeRun('drill', at(14, 3, 29), { backupId: backupId(at(14)), durationMs: 15_100_000 }));
  runs.push(
    makeRun('drill', at(21, 3, 29), {
      status: 'failure',
      backupId: backupId(at(21)),
      details: { drillId: 'drill_20240121_033000' },
    }),
  );
  runs.push(
    makeRun('drill', at(28, 3, 30), {
      status: 'failure',
      backupId: backupId(at(28)),
      reason: 'no Docker engine answered and no local PostgreSQL binaries were found',
    }),
  );

  const input: ReadinessInput = { now: new Date(NOW), runs: [...runs].reverse(), manifests, drills };
  const r = computeReadiness(input);

  it('backup success rate: 28 of 30 runs (20 Jan has no record; the duplicate counts once)', () => {
    expect(r.backups).toMatchObject({ runs: 30, successful: 28, failed: 2 });
    // 29 daily records in the window (2–31 Jan minus 20 Jan) + the "now + 2 min" run = 30; 28 ok.
    expect(r.backups.successRate).toBeCloseTo(28 / 30, 10);
  });

  it('days: 28 of 30 with a backup, 10 and 11 Jan missing', () => {
    expect(r.backups).toMatchObject({
      daysTracked: 30,
      daysWithBackup: 28,
      daysWithout: ['2024-01-10', '2024-01-11'],
      todayPending: false,
    });
  });

  it('largest gap: 72 h from 9 to 12 Jan, over the RPO', () => {
    expect(r.backups.largestGap).toEqual({
      from: '2024-01-09T02:00:00.000Z',
      to: '2024-01-12T02:00:00.000Z',
      seconds: 72 * 3600,
      open: false,
      ok: false,
    });
    const series = buildReportSeries(input);
    const gaps = series.gaps.map((g) => g.seconds / 3600);
    expect(gaps).toContain(27); // 24 Jan 02:00 → 25 Jan 05:00
    expect(gaps).toContain(21); // 25 Jan 05:00 → 26 Jan 02:00
    expect(series.gaps.at(-2)).toMatchObject({
      from: '2024-01-31T02:00:00.000Z',
      to: iso(NOW),
      seconds: 8 * 3600,
    });
    expect(series.gaps.at(-1)).toMatchObject({ seconds: 0, open: true });
    expect(series.backupFailures.map((f) => f.at)).toEqual([iso(at(10)), iso(at(11))]);
  });

  it('a record within the skew tolerance counts as now; one far in the future is ignored', () => {
    expect(r.backups.newestComplete).toMatchObject({
      id: fast.manifest.id,
      createdAt: iso(NOW),
      ageSeconds: 0,
    });
    expect(r.ignored.futureRecords).toEqual(['lms_20240203_020000']);
    expect(r.findings.find((f) => f.code === 'future-records')?.message).toMatch(/check the clock/);
  });

  it('a record that finishes before it starts still counts, and is noted', () => {
    expect(r.ignored.clockAnomalies).toEqual([skewed.id]);
    expect(r.findings.find((f) => f.code === 'clock-anomalies')?.severity).toBe('info');
    const series = buildReportSeries(input);
    expect(series.backups.find((b) => b.id === 'lms_20240115_020000')?.durationSeconds).toBe(120);
  });

  it('drills: 2 of 4 passed; the crashed drill (no report) is the last and failed', () => {
    expect(r.drills).toMatchObject({ count: 4, passed: 2, failed: 2, successRate: 0.5 });
    expect(r.drills.last).toMatchObject({ verdict: 'fail', backupId: 'lms_20240128_020000' });
    expect(r.drills.last?.reason).toMatch(/no Docker engine/);
    // The failed drill of 21 Jan restored (its rows did not match): its recovery time counts.
    expect(r.drills.lastRecovery).toEqual({ drillId: 'drill_20240121_033000', seconds: 100, ok: true });
    expect(r.drills.worstRecovery).toEqual({ drillId: 'drill_20240114_033000', seconds: 15_000, ok: false });
    expect(r.findings.find((f) => f.code === 'rto-worst')?.message).toContain('4 h 10 min');
  });

  it('newest verified: 14 Jan (21 and 28 Jan failed their drills)', () => {
    expect(r.backups.newestVerified).toMatchObject({
      id: 'lms_20240114_020000',
      drillId: 'drill_20240114_033000',
      ageSeconds: 17 * 86_400 + 8 * 3600,
    });
  });

  it('retention: reaches back 30 days, but days are missing', () => {
    expect(r.retention.ok).toBe(false);
    expect(r.retention.oldestComplete?.id).toBe('lms_20240101_020000');
    expect(r.retention.message).toBe('2 days in the window have no backup to restore from.');
  });

  it('conditions and status', () => {
    expect(r.conditions.stale.tripped).toBe(false);
    expect(r.conditions.rpo.tripped).toBe(true);
    expect(r.conditions.rto.tripped).toBe(false);
    expect(r.conditions.drill.tripped).toBe(true);
    expect(r.conditions.drill.message).toMatch(
      /^The last drill \(run_20240128_033000_drill_\w{4}\) failed: no Docker/,
    );
    expect(trippedConditions(r, ['stale', 'rpo', 'rto', 'drill', 'rpo'])).toEqual(['rpo', 'drill']);
    expect(r.status).toBe('not-ready');
    expect(r.findings[0]!.severity).toBe('critical');
    expect(r.findings.map((f) => f.code)).toEqual([
      'drill',
      'backup-failures',
      'missing-days',
      'rto-worst',
      'rpo',
      'future-records',
      'clock-anomalies',
    ]);
  });
});

describe('edge cases', () => {
  it('no history at all: everything trips, nothing crashes', () => {
    const r = computeReadiness({ now: new Date(NOW), runs: [], manifests: [], drills: [] });
    expect(r.status).toBe('not-ready');
    expect(r.backups).toMatchObject({
      runs: 0,
      successRate: null,
      daysTracked: 0,
      largestGap: null,
      newestComplete: null,
      newestVerified: null,
    });
    expect(r.drills).toMatchObject({ count: 0, successRate: null, last: null, lastRecovery: null });
    expect(trippedConditions(r, ['stale', 'rpo', 'rto', 'drill'])).toEqual(['stale', 'rpo', 'rto', 'drill']);
    expect(r.retention.ok).toBe(false);
    expect(r.window.trackedFrom).toBeNull();
  });

  it('a new installation is not blamed for days before it existed', () => {
    // Installed 29 Jan: that first run failed, then daily success.
    const runs = [makeRun('backup', at(29), { status: 'failure', reason: 'wrong password' })];
    const manifests: Manifest[] = [];
    for (const d of [30, 31]) {
      const b = makeBackup(at(d));
      runs.push(b.run);
      manifests.push(b.manifest);
    }
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [] });
    expect(r.backups).toMatchObject({ daysTracked: 3, daysWithBackup: 2, daysWithout: ['2024-01-29'] });
    // Leading gap from the first record to the first backup.
    expect(buildReportSeries({ now: new Date(NOW), runs, manifests, drills: [] }).gaps[0]).toMatchObject({
      from: iso(at(29)),
      to: iso(at(30)),
      seconds: 86_400,
    });
    expect(r.retention.ok).toBe(false);

    const clean = computeReadiness({ now: new Date(NOW), runs: runs.slice(1), manifests, drills: [] });
    expect(clean.backups).toMatchObject({ daysTracked: 2, daysWithBackup: 2, daysWithout: [] });
    // Only 32 h of history: not blamed (no finding), but not met either until it spans 30 days.
    expect(clean.retention).toMatchObject({ ok: false, pending: true });
    expect(clean.retention.message).toMatch(/History is 32 h long/);
    expect(clean.findings.map((f) => f.code)).not.toContain('retention');
  });

  it('today only counts once it has a backup', () => {
    const { runs, manifests } = daily(at(1), at(30));
    const r = computeReadiness({ now: new Date(at(31, 1)), runs, manifests, drills: [] });
    // Window 2–31 Jan; today (31 Jan) is pending, so 29 tracked days.
    expect(r.backups).toMatchObject({
      daysTracked: 29,
      daysWithBackup: 29,
      daysWithout: [],
      todayPending: true,
    });
    expect(r.conditions.stale.tripped).toBe(false); // 23 h old
    expect(r.findings.map((f) => f.code)).toContain('today-pending');
  });

  it('stale: the open gap is the largest; one critical finding, no duplicate RPO warning', () => {
    const { runs, manifests } = daily(at(1), at(29));
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [] });
    expect(r.conditions.stale.tripped).toBe(true);
    expect(r.conditions.stale.message).toContain('56 h old');
    expect(r.backups.largestGap).toMatchObject({ open: true, seconds: 2 * 86_400 + 8 * 3600, ok: false });
    expect(r.conditions.rpo.tripped).toBe(true);
    expect(r.findings.filter((f) => f.code === 'stale' || f.code === 'rpo').map((f) => f.code)).toEqual([
      'stale',
    ]);
    expect(r.backups.daysWithout).toEqual(['2024-01-30']);
  });

  it('pruned manifests: successful runs still prove coverage, but only stored backups count now', () => {
    const { runs, manifests } = daily(at(1), at(31));
    const stored = manifests.slice(-7); // prune kept a week
    const r = computeReadiness({ now: new Date(NOW), runs, manifests: stored, drills: [] });
    expect(r.backups.daysWithout).toEqual([]);
    expect(r.backups.largestGap?.seconds).toBe(86_400);
    expect(r.retention.oldestComplete?.id).toBe('lms_20240125_020000');
    expect(r.retention.ok).toBe(false);
    expect(r.retention.message).toMatch(/deleted too early or lost/);
  });

  it('a future-dated newest backup does not hide staleness', () => {
    const { runs, manifests } = daily(at(1), at(28));
    manifests.push(makeManifest(NOW + 6 * HOUR));
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [] });
    expect(r.conditions.stale.tripped).toBe(true);
    expect(r.ignored.futureRecords).toHaveLength(1);
    // A larger tolerance accepts it (and clamps it to now).
    const lenient = computeReadiness({
      now: new Date(NOW),
      runs,
      manifests,
      drills: [],
      clockSkewSeconds: 7 * 3600,
    });
    expect(lenient.conditions.stale.tripped).toBe(false);
    expect(lenient.backups.newestComplete?.ageSeconds).toBe(0);
  });

  it('records with no valid date are ignored and reported', () => {
    const bad = makeRun('backup', at(30), { startedAt: 'garbage', finishedAt: 'also garbage' });
    const half = makeRun('backup', at(30), { startedAt: 'garbage' });
    const r = computeReadiness({
      now: new Date(NOW),
      runs: [bad, { ...half, id: 'half' }],
      manifests: [],
      drills: [],
    });
    expect(r.ignored.invalidRecords).toEqual([bad.id]);
    expect(r.backups.runs).toBe(1); // the half-valid one is placed at its finish time
  });

  it('RTO: over the objective trips; no measured drill trips; worst equals last gives one finding', () => {
    const { runs, manifests } = daily(at(1), at(31));
    const slow = [makeDrill(at(28, 3), backupId(at(28)), { recoverySeconds: 5 * 3600 })];
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: slow });
    expect(r.conditions.rto).toMatchObject({ tripped: true });
    expect(r.conditions.rto.message).toContain('5 h');
    expect(r.findings.filter((f) => f.code.startsWith('rto'))).toHaveLength(1);
    const broken = [
      makeDrill(at(28, 3), backupId(at(28)), {
        verdict: 'fail',
        restore: { ok: false, jobs: 1, errors: ['x'] },
      }),
    ];
    const r2 = computeReadiness({ now: new Date(NOW), runs, manifests, drills: broken });
    expect(r2.drills.lastRecovery).toBeNull();
    expect(r2.conditions.rto.message).toMatch(/No drill in the last 30 days measured/);
  });

  it('drills outside the window do not count; a shorter window narrows everything', () => {
    const { runs, manifests } = daily(Date.UTC(2023, 11, 1, 2), at(31));
    const drills = [makeDrill(Date.UTC(2023, 11, 10, 3), backupId(Date.UTC(2023, 11, 10, 2)))];
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills });
    expect(r.drills.count).toBe(0);
    expect(r.conditions.drill.message).toBe('No restore drill in the last 30 days.');
    // Verified still holds: the drill passed and that backup is stored.
    expect(r.backups.newestVerified?.id).toBe('lms_20231210_020000');
    const week = computeReadiness({ now: new Date(NOW), windowDays: 7, runs, manifests, drills });
    expect(week.backups).toMatchObject({ runs: 7, daysTracked: 7 });
    expect(week.window.start).toBe('2024-01-25T00:00:00.000Z');
  });

  it('RPO tolerance: a late scheduler is accepted up to the tolerance, exact values kept', () => {
    // Daily backups that start 30 min later each day: gaps of 24 h 30 min.
    const runs: RunRecord[] = [];
    const manifests: Manifest[] = [];
    for (let d = 1; d <= 31; d++) {
      const b = makeBackup(at(d) + (d - 1) * 30 * 60_000 - 16 * HOUR);
      runs.push(b.run);
      manifests.push(b.manifest);
    }
    const now = new Date(Date.parse(manifests.at(-1)!.createdAt) + 24.5 * HOUR);
    const lenient = computeReadiness({ now, runs, manifests, drills: [] });
    expect(lenient.backups.largestGap).toMatchObject({ seconds: 24.5 * 3600, ok: true });
    expect(lenient.conditions.stale.tripped).toBe(false);
    expect(lenient.conditions.rpo.tripped).toBe(false);
    expect(lenient.objectives.rpoToleranceSeconds).toBe(3600);
    const strict = computeReadiness({ now, runs, manifests, drills: [], rpoToleranceSeconds: 0 });
    expect(strict.backups.largestGap).toMatchObject({ seconds: 24.5 * 3600, ok: false });
    expect(strict.conditions.stale.tripped).toBe(true);
    expect(strict.conditions.rpo.message).toContain('24 h 30 min');
    expect(strict.conditions.rpo.message).toMatch(/RPO 24 h\.$/);
    expect(lenient.conditions.rpo.message).toMatch(/RPO 24 h \(\+1 h tolerance\)\.$/);
  });

  it('rejects a bad window or now', () => {
    expect(() =>
      computeReadiness({ now: new Date(NOW), windowDays: 0, runs: [], manifests: [], drills: [] }),
    ).toThrow(RangeError);
    expect(() => computeReadiness({ now: new Date('x'), runs: [], manifests: [], drills: [] })).toThrow(
      RangeError,
    );
  });
});

describe('a drill that could not run', () => {
  const { runs, manifests } = daily(Date.UTC(2023, 11, 20, 2), at(31));
  const passed = makeDrill(at(21, 3, 30), backupId(at(21)));
  const notRun = makeDrill(at(28, 3, 30), backupId(at(28)), {
    verdict: 'could-not-run',
    reasons: ['could not run: no throwaway PostgreSQL 15 started, so nothing was restored: docker is down'],
    recoverySeconds: 0,
  });

  it('is counted apart, does not fail the drill condition, and warns', () => {
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [passed, notRun] });
    expect(r.drills).toMatchObject({ count: 1, passed: 1, failed: 0, couldNotRun: 1 });
    expect(r.drills.last?.id).toBe(passed.id);
    expect(r.conditions.drill.tripped).toBe(false);
    const finding = r.findings.find((f) => f.code === 'drill-not-run');
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toMatch(/could not run: no throwaway PostgreSQL 15 started/);
    // Its zero "recovery" is no measurement.
    expect(r.drills.lastRecovery?.drillId).toBe(passed.id);
  });

  it('does not cost a backup the verified status its last drill that ran gave it', () => {
    const again = makeDrill(at(29, 3, 30), backupId(at(21)), {
      verdict: 'could-not-run',
      reasons: ['could not run: x'],
    });
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [passed, again] });
    expect(r.backups.newestVerified).toMatchObject({ id: backupId(at(21)), drillId: passed.id });
  });

  it('alone, trips the drill condition: nothing was proven in the window', () => {
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills: [notRun] });
    expect(r.drills).toMatchObject({ count: 0, couldNotRun: 1 });
    expect(r.conditions.drill.tripped).toBe(true);
  });
});

describe('retention', () => {
  it('is met only when stored backups reach back the whole objective', () => {
    const full = daily(Date.UTC(2023, 11, 20, 2), at(31));
    const met = computeReadiness({ now: new Date(NOW), ...full, drills: [], keepDays: 30 });
    expect(met.retention).toMatchObject({ ok: true, pending: false });
    const young = daily(at(25), at(31));
    const notYet = computeReadiness({ now: new Date(NOW), ...young, drills: [], keepDays: 30 });
    expect(notYet.retention).toMatchObject({ ok: false, pending: true });
    expect(notYet.findings.map((f) => f.code)).not.toContain('retention');
  });
});
