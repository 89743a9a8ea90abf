import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TableInventory } from '../../src/catalog/types.js';
import { checkRowDrops, checkSizeAnomaly, median } from '../../src/report/anomaly.js';

const MiB = 1024 * 1024;

describe('median', () => {
  it('odd, even, empty', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('checkSizeAnomaly', () => {
  const history = [100, 102, 98, 101, 99, 100, 103].map((n) => n * MiB); // median 100 MiB

  it('is ok within [50%, 200%] of the median, boundaries included', () => {
    for (const bytes of [50 * MiB, 100 * MiB, 200 * MiB]) {
      const r = checkSizeAnomaly({ bytes, history });
      expect(r.severity, String(bytes)).toBe('ok');
      expect(r.median).toBe(100 * MiB);
    }
  });

  it('warns when the backup shrank below half the median', () => {
    const r = checkSizeAnomaly({ bytes: 34 * MiB, history });
    expect(r.severity).toBe('warning');
    expect(r.ratio).toBeCloseTo(0.34);
    expect(r.message).toContain('34%');
    expect(r.message).toContain('median 100 MiB of the last 7 complete backups');
    expect(r.message).toMatch(/shrank/);
  });

  it('warns when it more than doubled', () => {
    const r = checkSizeAnomaly({ bytes: 250 * MiB, history });
    expect(r.severity).toBe('warning');
    expect(r.message).toMatch(/grew/);
  });

  it('is critical at 0 bytes and below the absolute minimum, whatever the history', () => {
    expect(checkSizeAnomaly({ bytes: 0, history }).severity).toBe('critical');
    expect(checkSizeAnomaly({ bytes: 0, history: [] }).severity).toBe('critical');
    expect(checkSizeAnomaly({ bytes: Number.NaN, history }).severity).toBe('critical');
    const small = checkSizeAnomaly({ bytes: 90 * MiB, history, minBytes: 95 * MiB });
    expect(small.severity).toBe('critical');
    expect(small.message).toContain('below the minimum of 95.0 MiB');
  });

  it('uses only the last N backups, ignoring zero-byte entries', () => {
    // Old history was 10 MiB; the last 7 are 100 MiB: 100 MiB now is normal.
    const long = [...Array(20).fill(10 * MiB), 0, ...history];
    expect(checkSizeAnomaly({ bytes: 100 * MiB, history: long }).severity).toBe('ok');
    expect(checkSizeAnomaly({ bytes: 100 * MiB, history: long, historySize: 30 }).severity).toBe('warning');
    expect(checkSizeAnomaly({ bytes: 100 * MiB, history: long }).median).toBe(100 * MiB);
  });

  it('is ok with no history (first backup), and honours custom ratios', () => {
    const first = checkSizeAnomaly({ bytes: 5 * MiB, history: [] });
    expect(first).toMatchObject({ severity: 'ok', median: null, ratio: null });
    expect(checkSizeAnomaly({ bytes: 80 * MiB, history, lowRatio: 0.9 }).severity).toBe('warning');
    expect(checkSizeAnomaly({ bytes: 130 * MiB, history, highRatio: 1.25 }).severity).toBe('warning');
    expect(() => checkSizeAnomaly({ bytes: 1, history, lowRatio: 1.5 })).toThrow(RangeError);
    expect(() => checkSizeAnomaly({ bytes: 1, history, highRatio: 0.5 })).toThrow(RangeError);
  });

  it('property: severity is ok exactly when the ratio is within the bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1e9 }), { minLength: 1, maxLength: 15 }),
        fc.integer({ min: 1, max: 4e9 }),
        (hist, bytes) => {
          const r = checkSizeAnomaly({ bytes, history: hist });
          const within = r.ratio! >= 0.5 && r.ratio! <= 2;
          expect(r.severity).toBe(within ? 'ok' : 'warning');
        },
      ),
    );
  });
});

const t = (name: string, rows: number, schema = 'public'): TableInventory => ({ schema, name, rows });

describe('checkRowDrops', () => {
  const previous = [
    t('users', 10_000),
    t('courses', 500),
    t('enrollments', 40_000),
    t('tiny', 12),
    t('logs', 1000, 'audit'),
  ];

  it('names each table that lost more than 20% of its rows', () => {
    const current = [
      t('users', 7_999),
      t('courses', 400),
      t('enrollments', 40_100),
      t('tiny', 0),
      t('logs', 1000, 'audit'),
    ];
    const findings = checkRowDrops(previous, current);
    expect(findings.map((f) => `${f.schema}.${f.name}`)).toEqual(['public.users']);
    expect(findings[0]).toMatchObject({ kind: 'rows-dropped', previousRows: 10_000, currentRows: 7_999 });
    expect(findings[0]!.message).toContain('public.users lost 20% of its rows (10,000 → 7,999)');
  });

  it('exactly 20% is not beyond the threshold; small tables are ignored unless configured', () => {
    const current = [
      t('users', 8_000),
      t('courses', 500),
      t('enrollments', 40_000),
      t('tiny', 0),
      t('logs', 1000, 'audit'),
    ];
    expect(checkRowDrops(previous, current)).toEqual([]);
    const withSmall = checkRowDrops(previous, current, { minRows: 1 });
    expect(withSmall.map((f) => f.name)).toEqual(['tiny']);
    expect(checkRowDrops(previous, current, { dropRatio: 0.1 }).map((f) => f.name)).toEqual(['users']);
  });

  it('reports dropped tables (even small ones), not new ones', () => {
    const current = [
      t('courses', 500),
      t('enrollments', 40_000),
      t('brand_new', 5),
      t('logs', 1000, 'public'),
    ];
    const findings = checkRowDrops(previous, current);
    expect(findings.map((f) => [f.kind, `${f.schema}.${f.name}`])).toEqual([
      ['table-missing', 'audit.logs'],
      ['table-missing', 'public.tiny'],
      ['table-missing', 'public.users'],
    ]);
    expect(findings[0]!.currentRows).toBeNull();
    expect(findings[0]!.message).toContain('Table audit.logs is gone');
  });

  it('an emptied large table is reported', () => {
    const findings = checkRowDrops([t('grades', 5000)], [t('grades', 0)]);
    expect(findings[0]!.message).toContain('lost 100%');
  });

  it('rejects a nonsense threshold', () => {
    expect(() => checkRowDrops([], [], { dropRatio: 0 })).toThrow(RangeError);
  });

  it('property: growing or equal inventories never warn', () => {
    const inventory = fc.uniqueArray(
      fc.record({
        schema: fc.constantFrom('public', 'app'),
        name: fc.string({ minLength: 1, maxLength: 8 }),
        rows: fc.nat(1e7),
      }),
      { selector: (x) => `${x.schema}.${x.name}`, maxLength: 20 },
    );
    fc.assert(
      fc.property(inventory, fc.nat(1000), (prev, extra) => {
        const cur = prev.map((x) => ({ ...x, rows: x.rows + extra }));
        expect(checkRowDrops(prev, cur, { minRows: 0 })).toEqual([]);
      }),
    );
  });
});
