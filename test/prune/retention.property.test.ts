/**
 * The retention safety rules, checked over random histories: complete backups, failed runs
 * (with or without leftovers), interrupted and in-progress backups, unreadable manifests,
 * damaged manifests (swapped, or whose objects are missing), clock skew, random drill verdicts and random policies.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/catalog/catalog.js';
import { backupId, backupKeys } from '../../src/catalog/names.js';
import {
  dayLabel,
  isoWeekLabel,
  monthLabel,
  planRetention,
  type RetentionInput,
  type RetentionPlan,
  type RetentionPolicy,
} from '../../src/catalog/retention.js';
import { ConfigError } from '../../src/errors.js';

const MIN = 60_000;
const DAY = 86_400_000;

type Outcome = 'complete' | 'failed' | 'interrupted' | 'unreadable-manifest' | 'damaged';

interface RunSpec {
  /** Minutes before now; negative means the future (a skewed clock). */
  ageMinutes: number;
  outcome: Outcome;
  /** A failed run may leave a dump behind, or nothing. */
  leftover: boolean;
  drill: 'none' | 'pass' | 'fail';
  /** The manifest's recorded time differs a little from the time in the name. */
  skewSeconds: number;
}

const arbAge = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: -3 * 1440, max: -1 }) },
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 * 1440 }) },
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 70 * 1440 }) },
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 500 * 1440 }) },
);

const arbRun: fc.Arbitrary<RunSpec> = fc.record({
  ageMinutes: arbAge,
  outcome: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Outcome>('complete') },
    { weight: 4, arbitrary: fc.constant<Outcome>('failed') },
    { weight: 2, arbitrary: fc.constant<Outcome>('interrupted') },
    { weight: 1, arbitrary: fc.constant<Outcome>('unreadable-manifest') },
    { weight: 2, arbitrary: fc.constant<Outcome>('damaged') },
  ),
  leftover: fc.boolean(),
  drill: fc.constantFrom('none', 'none', 'pass', 'fail'),
  skewSeconds: fc.integer({ min: -120, max: 120 }),
});

/** Counts are often 0, so each rule is also seen alone (e.g. the newest backup kept by nothing else). */
const arbCount = (max: number) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max }) });

const arbPolicy: fc.Arbitrary<RetentionPolicy> = fc.record({
  keepDays: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 })),
  keepDaily: arbCount(10),
  keepWeekly: arbCount(10),
  keepMonthly: arbCount(15),
  keepMin: arbCount(12),
});

const arbNow = fc.date({
  min: new Date('2001-01-01T00:00:00Z'),
  max: new Date('2099-01-01T00:00:00Z'),
  noInvalidDate: true,
});

/** Builds the catalog a destination would show after these runs. */
function history(now: Date, runs: RunSpec[]): { backups: BackupEntry[]; newestRunFailed: boolean } {
  const used = new Set<string>();
  const backups: BackupEntry[] = [];
  let newest: { at: number; outcome: Outcome } | undefined;
  for (const run of runs) {
    const at = now.getTime() - run.ageMinutes * MIN;
    if (!newest || at > newest.at) newest = { at, outcome: run.outcome };
    if (run.outcome === 'failed' && !run.leftover) continue;
    let seq = 1;
    while (used.has(backupId('lms', new Date(at), seq))) seq += 1;
    const id = backupId('lms', new Date(at), seq);
    used.add(id);
    const keys = backupKeys(id, true);
    const nameTime = new Date(Math.floor(at / 1000) * 1000);
    const e: BackupEntry =
      run.outcome === 'complete'
        ? {
            id,
            time: new Date(at + run.skewSeconds * 1000),
            state: 'complete',
            keys: [keys.dump, keys.manifest, keys.sidecar],
            bytes: 300,
          }
        : run.outcome === 'unreadable-manifest' || run.outcome === 'damaged'
          ? {
              id,
              time: nameTime,
              state: 'damaged',
              damage:
                run.outcome === 'damaged'
                  ? `its dump object ${keys.dump} is missing`
                  : 'manifest unreadable: not valid JSON',
              keys: run.outcome === 'damaged' ? [keys.manifest, keys.sidecar] : [keys.dump, keys.manifest],
              bytes: 100,
            }
          : {
              id,
              time: nameTime,
              state: 'incomplete',
              keys: run.leftover ? [keys.dump, keys.sidecar] : [keys.dump],
              bytes: 100,
            };
    if (run.drill !== 'none')
      e.lastDrill = { id: `drill_${id}`, verdict: run.drill, finishedAt: nameTime.toISOString() };
    backups.push(e);
  }
  return { backups, newestRunFailed: newest?.outcome === 'failed' };
}

const arbInput: fc.Arbitrary<RetentionInput> = fc
  .record({
    now: arbNow,
    runs: fc.array(arbRun, { maxLength: 80 }),
    policy: arbPolicy,
    flag: fc.oneof(
      { weight: 4, arbitrary: fc.constant<'history' | boolean>('history') },
      { weight: 1, arbitrary: fc.boolean() },
    ),
  })
  .map(({ now, runs, policy, flag }) => {
    const { backups, newestRunFailed } = history(now, runs);
    return { now, backups, policy, newestBackupRunFailed: flag === 'history' ? newestRunFailed : flag };
  });

/** An ISO week index independent of the implementation: weeks since Monday 1970-01-05. */
const weekIndex = (d: Date) => Math.floor((Math.floor(d.getTime() / DAY) - 4) / 7);
const dayIndex = (d: Date) => d.toISOString().slice(0, 10);
const monthIndex = (d: Date) => d.toISOString().slice(0, 7);

const byNewest = (a: BackupEntry, b: BackupEntry) =>
  b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1);

function keptIds(plan: RetentionPlan): Set<string> {
  return new Set(plan.keep.map((k) => k.id));
}

/** Which complete backups the rules protect, computed the simple way. */
function protectedComplete(input: RetentionInput): Set<string> {
  const now = input.now.getTime();
  const { policy } = input;
  const past = input.backups.filter((b) => b.state === 'complete' && b.time.getTime() <= now).sort(byNewest);
  const out = new Set<string>();
  for (const b of input.backups) if (b.time.getTime() > now) out.add(b.id);
  for (const b of past) if (now - b.time.getTime() < policy.keepDays * DAY) out.add(b.id);
  for (const [n, key] of [
    [policy.keepDaily, dayIndex],
    [policy.keepWeekly, weekIndex],
    [policy.keepMonthly, monthIndex],
  ] as const) {
    const seen = new Set<string | number>();
    for (const b of past) {
      const k = key(b.time);
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      out.add(b.id);
    }
  }
  for (const b of past.slice(0, policy.keepMin)) out.add(b.id);
  if (past[0]) out.add(past[0].id);
  const drilled = past.find((b) => b.lastDrill?.verdict === 'pass');
  if (drilled) out.add(drilled.id);
  return out;
}

describe('planRetention invariants (property-based)', () => {
  const runs = { numRuns: 400 };

  it('keep and remove partition the backups, every decision has a reason', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const plan = planRetention(input);
        const kept = plan.keep.map((k) => k.id);
        const removed = plan.remove.map((r) => r.id);
        expect([...kept, ...removed].sort()).toEqual(input.backups.map((b) => b.id).sort());
        expect(new Set([...kept, ...removed]).size).toBe(kept.length + removed.length);
        for (const k of plan.keep) expect(k.reasons.length).toBeGreaterThan(0);
        for (const r of plan.remove) expect(r.reason).toMatch(/\S/);
      }),
      runs,
    );
  });

  it('never removes the newest complete backup, nor the newest drill-passed one', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const kept = keptIds(planRetention(input));
        const complete = input.backups.filter((b) => b.state === 'complete').sort(byNewest);
        if (complete[0]) expect(kept).toContain(complete[0].id);
        const drilled = complete.find((b) => b.lastDrill?.verdict === 'pass');
        if (drilled) expect(kept).toContain(drilled.id);
        // Also the newest ones that are not future-dated: a skewed clock must not displace them.
        const past = complete.filter((b) => b.time <= input.now);
        if (past[0]) expect(kept).toContain(past[0].id);
        const pastDrilled = past.find((b) => b.lastDrill?.verdict === 'pass');
        if (pastDrilled) expect(kept).toContain(pastDrilled.id);
      }),
      runs,
    );
  });

  it('keeps at least min(keepMin, complete) complete backups, the newest ones', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const kept = keptIds(planRetention(input));
        const complete = input.backups.filter((b) => b.state === 'complete').sort(byNewest);
        const keptComplete = complete.filter((b) => kept.has(b.id));
        expect(keptComplete.length).toBeGreaterThanOrEqual(Math.min(input.policy.keepMin, complete.length));
        const past = complete.filter((b) => b.time <= input.now);
        for (const b of past.slice(0, input.policy.keepMin)) expect(kept).toContain(b.id);
      }),
      runs,
    );
  });

  it('never removes a complete backup younger than keepDays, or a future-dated one', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const plan = planRetention(input);
        const byId = new Map(input.backups.map((b) => [b.id, b]));
        for (const r of plan.remove) {
          const b = byId.get(r.id)!;
          expect(b.time.getTime()).toBeLessThanOrEqual(input.now.getTime());
          if (b.state === 'complete') {
            expect(input.now.getTime() - b.time.getTime()).toBeGreaterThanOrEqual(
              input.policy.keepDays * DAY,
            );
          }
        }
        for (const b of input.backups) {
          if (b.time > input.now) expect(plan.warnings.some((w) => w.includes(b.id))).toBe(true);
        }
      }),
      runs,
    );
  });

  it('removes nothing at all when the newest backup run failed, and says so', () => {
    fc.assert(
      fc.property(
        arbInput.map((i) => ({ ...i, newestBackupRunFailed: true })),
        (input) => {
          const plan = planRetention(input);
          expect(plan.remove).toEqual([]);
          expect(plan.keep).toHaveLength(input.backups.length);
          expect(plan.warnings[0]).toMatch(/newest backup run failed/);
        },
      ),
      runs,
    );
  });

  it('removes incomplete backups only when older than a day and without a manifest', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const plan = planRetention(input);
        const removed = new Set(plan.remove.map((r) => r.id));
        for (const b of input.backups) {
          if (b.state !== 'incomplete') continue;
          const expected =
            !input.newestBackupRunFailed &&
            input.now.getTime() - b.time.getTime() > DAY &&
            !b.keys.some((k) => k.endsWith('.manifest.json'));
          expect(removed.has(b.id)).toBe(expected);
        }
      }),
      runs,
    );
  });

  it('never removes a damaged backup, warns about each, and never lets one stand in for a complete one', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const plan = planRetention(input);
        const removed = new Set(plan.remove.map((r) => r.id));
        const keptReasons = new Map(plan.keep.map((k) => [k.id, k.reasons]));
        for (const b of input.backups) {
          if (b.state !== 'damaged') continue;
          expect(removed.has(b.id)).toBe(false);
          expect(plan.warnings.some((w) => w.includes(b.id))).toBe(true);
          // Kept only as damaged (or future-dated): no rule that protects complete backups names it.
          for (const r of keptReasons.get(b.id) ?? []) {
            expect(r).toMatch(/damaged|future|newest backup run failed|not a valid date/);
          }
        }
        // The same plan for the complete backups as if the damaged ones were not there at all.
        const without = planRetention({
          ...input,
          backups: input.backups.filter((b) => b.state !== 'damaged'),
        });
        expect(plan.remove).toEqual(without.remove);
      }),
      runs,
    );
  });

  it('removes exactly the complete backups no rule protects (grandfather-father-son included)', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const plan = planRetention(input);
        const protectedIds = protectedComplete(input);
        const removed = new Set(plan.remove.map((r) => r.id));
        for (const b of input.backups) {
          if (b.state !== 'complete') continue;
          expect(removed.has(b.id)).toBe(!input.newestBackupRunFailed && !protectedIds.has(b.id));
        }
      }),
      runs,
    );
  });

  it('is deterministic: the same answer for any input order', () => {
    fc.assert(
      fc.property(
        arbInput.chain((input) =>
          fc
            .shuffledSubarray([...input.backups], {
              minLength: input.backups.length,
              maxLength: input.backups.length,
            })
            .map((shuffled) => ({ input, shuffled })),
        ),
        ({ input, shuffled }) => {
          const a = planRetention(input);
          expect(planRetention(input)).toEqual(a);
          expect(planRetention({ ...input, backups: shuffled })).toEqual(a);
        },
      ),
      runs,
    );
  });

  it('does not change its input', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const before = input.backups.map((b) => ({ ...b, time: b.time.getTime() }));
        planRetention(input);
        expect(input.backups.map((b) => ({ ...b, time: b.time.getTime() }))).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses keepDays below 1 and negative or fractional counts', () => {
    fc.assert(
      fc.property(
        arbPolicy,
        fc.constantFrom<keyof RetentionPolicy>(
          'keepDays',
          'keepDaily',
          'keepWeekly',
          'keepMonthly',
          'keepMin',
        ),
        fc.oneof(fc.integer({ max: -1 }), fc.constant(Number.NaN), fc.double({ min: 0.1, max: 0.9 })),
        (policy, field, bad) => {
          expect(() =>
            planRetention({
              now: new Date(),
              backups: [],
              newestBackupRunFailed: false,
              policy: { ...policy, [field]: bad },
            }),
          ).toThrow(ConfigError);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('period labels (property-based)', () => {
  const arbDate = fc.date({
    min: new Date('1990-01-01T00:00:00Z'),
    max: new Date('2100-01-01T00:00:00Z'),
    noInvalidDate: true,
  });

  it('two times share an ISO week label exactly when they fall in the same Monday-to-Sunday week', () => {
    fc.assert(
      fc.property(arbDate, fc.integer({ min: -20 * DAY, max: 20 * DAY }), (a, delta) => {
        const b = new Date(a.getTime() + delta);
        expect(isoWeekLabel(a) === isoWeekLabel(b)).toBe(weekIndex(a) === weekIndex(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('labels days and months in UTC', () => {
    fc.assert(
      fc.property(arbDate, (d) => {
        expect(dayLabel(d)).toBe(d.toISOString().slice(0, 10));
        expect(monthLabel(d)).toBe(d.toISOString().slice(0, 7));
        expect(isoWeekLabel(d)).toMatch(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/);
      }),
      { numRuns: 500 },
    );
  });
});
