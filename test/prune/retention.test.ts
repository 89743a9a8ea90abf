/** Hand-checked retention plans. Dates are worked out in the comments. */
import { describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/catalog/catalog.js';
import { backupId } from '../../src/catalog/names.js';
import {
  DEFAULT_RETENTION_POLICY,
  isoWeekLabel,
  planRetention,
  type RetentionPolicy,
  retentionPolicy,
} from '../../src/catalog/retention.js';
import { ConfigError, ConfigErrors } from '../../src/errors.js';
import { DAY, entry, HOUR } from './fixtures.js';

const NONE: RetentionPolicy = { keepDays: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 0 };

/** One complete backup a day at 02:00 UTC, from `first` to `last` inclusive (YYYY-MM-DD). */
function daily(first: string, last: string): BackupEntry[] {
  const out: BackupEntry[] = [];
  for (let t = Date.parse(`${first}T02:00:00Z`); t <= Date.parse(`${last}T02:00:00Z`); t += DAY) {
    out.push(entry(backupId('lms', new Date(t)), new Date(t)));
  }
  return out;
}

const id = (day: string) => `lms_${day.replaceAll('-', '')}_020000`;

/** Days from `first` to `last` inclusive, as backup ids. */
function ids(first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); t <= Date.parse(`${last}T00:00:00Z`); t += DAY) {
    out.push(id(new Date(t).toISOString().slice(0, 10)));
  }
  return out;
}

describe('planRetention, worked examples', () => {
  // 90 daily backups: Jan 3–31 (29) + Feb 1–29 (29, leap year) + Mar 1–31 (31) + Apr 1 (1).
  const ninety = daily('2024-01-03', '2024-04-01');
  const now = new Date('2024-04-01T12:00:00Z');

  it('90 daily backups, keepDays 30, keepWeekly 4, keepMonthly 3', () => {
    expect(ninety).toHaveLength(90);
    const plan = planRetention({
      now,
      backups: ninety,
      newestBackupRunFailed: false,
      policy: { keepDays: 30, keepDaily: 0, keepWeekly: 4, keepMonthly: 3, keepMin: 7 },
    });
    // Younger than 30 days: newer than Mar 2 12:00, so Mar 3 … Apr 1 (30 backups).
    // Weeks: Apr 1 is a Monday (W14); W13 → Mar 31, W12 → Mar 24, W11 → Mar 17: all already young.
    // Months: Apr → Apr 1, Mar → Mar 31, Feb → Feb 29 (the only addition).
    const expectedKeep = [...ids('2024-03-03', '2024-04-01'), id('2024-02-29')].sort().reverse();
    expect(plan.keep.map((k) => k.id)).toEqual(expectedKeep);
    expect(plan.remove).toHaveLength(59);
    expect(plan.warnings).toEqual([]);

    const reasons = new Map(plan.keep.map((k) => [k.id, k.reasons]));
    expect(reasons.get(id('2024-04-01'))).toEqual([
      'younger than 30 days',
      'newest of week 2024-W14',
      'newest of month 2024-04',
      'minimum count 7',
      'newest complete backup',
    ]);
    expect(reasons.get(id('2024-03-31'))).toEqual([
      'younger than 30 days',
      'newest of week 2024-W13',
      'newest of month 2024-03',
      'minimum count 7',
    ]);
    expect(reasons.get(id('2024-03-24'))).toEqual(['younger than 30 days', 'newest of week 2024-W12']);
    expect(reasons.get(id('2024-03-17'))).toEqual(['younger than 30 days', 'newest of week 2024-W11']);
    expect(reasons.get(id('2024-03-03'))).toEqual(['younger than 30 days']);
    expect(reasons.get(id('2024-02-29'))).toEqual(['newest of month 2024-02']);
    expect(plan.remove[0]).toEqual({
      id: id('2024-03-02'),
      reason: 'older than 30 days and outside every keep rule',
    });
    expect(plan.remove.at(-1)?.id).toBe(id('2024-01-03'));
  });

  it('grandfather-father-son beyond the age window: keepDays 7, daily 10, weekly 6, monthly 4, min 3', () => {
    const plan = planRetention({
      now,
      backups: ninety,
      newestBackupRunFailed: false,
      policy: { keepDays: 7, keepDaily: 10, keepWeekly: 6, keepMonthly: 4, keepMin: 3 },
    });
    // Young: Mar 26 … Apr 1. Daily 10: Mar 23 … Apr 1.
    // Weekly 6: W14 Apr 1, W13 Mar 31, W12 Mar 24, W11 Mar 17, W10 (Mar 4–10) Mar 10, W09 (Feb 26–Mar 3) Mar 3.
    // Monthly 4: Apr 1, Mar 31, Feb 29, Jan 31.
    const expected = [
      ...ids('2024-03-23', '2024-04-01'),
      id('2024-03-17'),
      id('2024-03-10'),
      id('2024-03-03'),
      id('2024-02-29'),
      id('2024-01-31'),
    ]
      .sort()
      .reverse();
    expect(plan.keep.map((k) => k.id)).toEqual(expected);
    expect(plan.remove).toHaveLength(90 - 15);
    const reasons = new Map(plan.keep.map((k) => [k.id, k.reasons]));
    expect(reasons.get(id('2024-03-23'))).toEqual(['newest of day 2024-03-23']);
    expect(reasons.get(id('2024-03-03'))).toEqual(['newest of week 2024-W09']);
    expect(reasons.get(id('2024-01-31'))).toEqual(['newest of month 2024-01']);
    expect(reasons.get(id('2024-03-30'))).toEqual([
      'younger than 7 days',
      'newest of day 2024-03-30',
      'minimum count 3',
    ]);
  });

  it('keeps only the newest of several backups in one day, week or month', () => {
    const backups = [
      entry('lms_20240110_010000', new Date('2024-01-10T01:00:00Z')),
      entry('lms_20240110_130000', new Date('2024-01-10T13:00:00Z')),
      entry('lms_20240110_230000', new Date('2024-01-10T23:00:00Z')),
    ];
    const plan = planRetention({
      now: new Date('2024-03-01T00:00:00Z'),
      backups,
      newestBackupRunFailed: false,
      policy: { ...NONE, keepDaily: 5 },
    });
    expect(plan.keep).toEqual([
      { id: 'lms_20240110_230000', reasons: ['newest of day 2024-01-10', 'newest complete backup'] },
    ]);
    expect(plan.remove.map((r) => r.id)).toEqual(['lms_20240110_130000', 'lms_20240110_010000']);
  });

  it('backups that stopped long ago: the newest is kept even when no other rule keeps it', () => {
    const old = daily('2023-06-01', '2023-06-20');
    const plan = planRetention({ now, backups: old, newestBackupRunFailed: false, policy: NONE });
    expect(plan.keep).toEqual([{ id: id('2023-06-20'), reasons: ['newest complete backup'] }]);
    expect(plan.remove).toHaveLength(19);

    const withMin = planRetention({
      now,
      backups: old,
      newestBackupRunFailed: false,
      policy: { ...NONE, keepMin: 7 },
    });
    expect(withMin.keep.map((k) => k.id)).toEqual(ids('2023-06-14', '2023-06-20').reverse());
    expect(withMin.keep.at(-1)?.reasons).toEqual(['minimum count 7']);
  });

  it('keeps the newest backup whose last drill passed, however old', () => {
    const backups = daily('2024-02-01', '2024-04-01').map((e) => {
      if (e.id === id('2024-02-10')) return entry(e.id, e.time, { drill: 'pass' });
      if (e.id === id('2024-02-03')) return entry(e.id, e.time, { drill: 'pass' });
      if (e.id >= id('2024-02-11')) return entry(e.id, e.time, { drill: 'fail' });
      return e;
    });
    const plan = planRetention({
      now,
      backups,
      newestBackupRunFailed: false,
      policy: { ...NONE, keepDays: 30 },
    });
    const kept = new Map(plan.keep.map((k) => [k.id, k.reasons]));
    expect(kept.get(id('2024-02-10'))).toEqual(['newest drill-passed backup']);
    expect(kept.has(id('2024-02-03'))).toBe(false);
    expect(plan.keep).toHaveLength(31);
  });

  it('deletes nothing, not even old incomplete leftovers, when the newest backup run failed', () => {
    const backups = [
      ...daily('2023-01-01', '2023-01-10'),
      entry('lms_20240301_020000', new Date('2024-03-01T02:00:00Z'), { state: 'incomplete' }),
    ];
    const plan = planRetention({ now, backups, newestBackupRunFailed: true, policy: NONE });
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toHaveLength(11);
    expect(plan.warnings[0]).toBe(
      'the newest backup run failed: prune deletes nothing until a backup succeeds (10 backups would otherwise be removed)',
    );
    const incomplete = plan.keep.find((k) => k.id === 'lms_20240301_020000');
    expect(incomplete?.reasons).toEqual([
      'newest backup run failed: nothing is deleted (would be: incomplete, older than 1 day)',
    ]);
  });

  it('removes incomplete backups older than a day, keeps younger ones (they may be in progress)', () => {
    const t = now.getTime();
    const backups = [
      entry('lms_20240401_020000', new Date(t - 10 * HOUR)),
      entry('lms_20240401_090000', new Date(t - 3 * HOUR), { state: 'incomplete' }),
      entry('lms_20240331_120000', new Date(t - DAY), { state: 'incomplete' }),
      entry('lms_20240330_020000', new Date(t - 2 * DAY - 10 * HOUR), { state: 'incomplete' }),
    ];
    const plan = planRetention({ now, backups, newestBackupRunFailed: false, policy: NONE });
    expect(plan.keep).toEqual([
      {
        id: 'lms_20240401_090000',
        reasons: ['incomplete, younger than 1 day (may be in progress)'],
      },
      {
        id: 'lms_20240401_020000',
        reasons: ['younger than 1 day', 'newest complete backup'],
      },
      // exactly one day old: not yet older than a day
      {
        id: 'lms_20240331_120000',
        reasons: ['incomplete, younger than 1 day (may be in progress)'],
      },
    ]);
    expect(plan.remove).toEqual([{ id: 'lms_20240330_020000', reason: 'incomplete, older than 1 day' }]);
  });

  it('keeps an incomplete backup whose manifest exists but could not be read, and warns', () => {
    const keys = ['db/lms_20240101_020000.dump.age', 'db/lms_20240101_020000.manifest.json'];
    const plan = planRetention({
      now,
      backups: [
        entry('lms_20240101_020000', new Date('2024-01-01T02:00:00Z'), { state: 'incomplete', keys }),
      ],
      newestBackupRunFailed: false,
      policy: NONE,
    });
    expect(plan.remove).toEqual([]);
    expect(plan.keep[0]?.reasons).toEqual(['manifest present but unreadable']);
    expect(plan.warnings).toContain(
      'lms_20240101_020000 has a manifest that could not be read: kept; inspect db/lms_20240101_020000.manifest.json (it may have been written by a newer lms-backup)',
    );
  });

  it('keeps future-dated backups with a warning, and they do not displace the newest real one', () => {
    const backups = [
      entry('lms_20250101_020000', new Date('2025-01-01T02:00:00Z')),
      entry('lms_20240501_020000', new Date('2024-05-01T02:00:00Z'), { state: 'incomplete' }),
      entry('lms_20240201_020000', new Date('2024-02-01T02:00:00Z')),
      entry('lms_20240101_020000', new Date('2024-01-01T02:00:00Z')),
    ];
    const plan = planRetention({ now, backups, newestBackupRunFailed: false, policy: NONE });
    expect(plan.keep).toEqual([
      { id: 'lms_20250101_020000', reasons: ['dated in the future (clock skew?)'] },
      { id: 'lms_20240501_020000', reasons: ['dated in the future (clock skew?)'] },
      { id: 'lms_20240201_020000', reasons: ['newest complete backup'] },
    ]);
    expect(plan.remove.map((r) => r.id)).toEqual(['lms_20240101_020000']);
    expect(plan.warnings).toEqual([
      'lms_20250101_020000 is dated 2025-01-01T02:00:00.000Z, after now (2024-04-01T12:00:00.000Z): kept; check the clock of the machine or database that took it',
      'lms_20240501_020000 is dated 2024-05-01T02:00:00.000Z, after now (2024-04-01T12:00:00.000Z): kept; check the clock of the machine or database that took it',
    ]);
  });

  it('ages come from the recorded time, not the time in the name', () => {
    // Named 60 days ago, but the manifest says the snapshot was taken 2 hours ago.
    const plan = planRetention({
      now,
      backups: [
        entry('lms_20240201_020000', new Date(now.getTime() - 2 * HOUR)),
        entry('lms_20240301_020000', new Date('2024-01-01T00:00:00Z')),
      ],
      newestBackupRunFailed: false,
      policy: { ...NONE, keepDays: 30 },
    });
    expect(plan.keep).toEqual([
      { id: 'lms_20240201_020000', reasons: ['younger than 30 days', 'newest complete backup'] },
    ]);
    expect(plan.remove.map((r) => r.id)).toEqual(['lms_20240301_020000']);
  });

  it('keeps a backup with no valid recorded time, and warns', () => {
    const plan = planRetention({
      now,
      backups: [entry('lms_20200101_020000', new Date(Number.NaN)), ...daily('2024-03-30', '2024-04-01')],
      newestBackupRunFailed: false,
      policy: NONE,
    });
    expect(plan.keep.map((k) => k.id)).toContain('lms_20200101_020000');
    expect(plan.warnings).toEqual([
      'lms_20200101_020000 has no valid recorded time: kept; inspect db/lms_20200101_020000.manifest.json',
    ]);
  });

  it('warns when there is no complete backup at all', () => {
    const plan = planRetention({ now, backups: [], newestBackupRunFailed: false, policy: NONE });
    expect(plan).toEqual({
      keep: [],
      remove: [],
      warnings: ['there is no complete backup in this destination'],
    });
  });
});

describe('ISO week labels', () => {
  it.each([
    ['2024-01-15T02:00:00Z', '2024-W03'],
    ['2024-01-01T00:00:00Z', '2024-W01'], // a Monday
    ['2021-01-03T23:59:59Z', '2020-W53'], // Sunday: still the previous ISO year
    ['2021-01-04T00:00:00Z', '2021-W01'],
    ['2024-12-30T00:00:00Z', '2025-W01'], // Monday of the week holding 2025's first Thursday
    ['2026-12-31T12:00:00Z', '2026-W53'],
    ['2027-01-01T12:00:00Z', '2026-W53'], // Friday
    ['2027-01-04T00:00:00Z', '2027-W01'],
  ])('%s is in %s', (iso, week) => {
    expect(isoWeekLabel(new Date(iso))).toBe(week);
  });
});

describe('retention policy', () => {
  it('defaults: 30 days, minimum 7', () => {
    expect(retentionPolicy()).toEqual(DEFAULT_RETENTION_POLICY);
    expect(DEFAULT_RETENTION_POLICY.keepDays).toBe(30);
    expect(DEFAULT_RETENTION_POLICY.keepMin).toBe(7);
    expect(retentionPolicy({ keepDays: 14 })).toEqual({ ...DEFAULT_RETENTION_POLICY, keepDays: 14 });
  });

  it('refuses keepDays below 1 with a ConfigError naming the input and the fix', () => {
    const err = (() => {
      try {
        retentionPolicy({ keepDays: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as ConfigError).message).toBe(
      'retention keep-days is 0: it must be a whole number, at least 1',
    );
    expect((err as ConfigError).hint).toMatch(/set keep-days to 1 or more \(default 30\)/);
    expect(() =>
      planRetention({
        now: new Date(),
        backups: [],
        newestBackupRunFailed: false,
        policy: { ...DEFAULT_RETENTION_POLICY, keepDays: 0.5 },
      }),
    ).toThrow(ConfigError);
  });

  it('reports every bad field together', () => {
    try {
      retentionPolicy({ keepDays: -1, keepMin: 2.5, keepWeekly: Number.NaN });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigErrors);
      expect((e as ConfigErrors).problems.map((p) => p.message)).toEqual([
        'retention keep-days is -1: it must be a whole number, at least 1',
        'retention keep-weekly is NaN: it must be a whole number, at least 0',
        'retention keep-min is 2.5: it must be a whole number, at least 0',
      ]);
    }
  });
});
