import { describe, expect, it } from 'vitest';
import { mdEscape, renderDrillReportMarkdown, renderReadinessMarkdown } from '../../src/report/markdown.js';
import { computeReadiness } from '../../src/report/metrics.js';
import { backupId, DAY, makeBackup, makeDrill } from './fixtures.js';

const NOW = Date.UTC(2024, 0, 31, 10);

describe('renderDrillReportMarkdown', () => {
  it('a pass: verdict first, then RTO/RPO lines, checks, every table, phase times', () => {
    const report = makeDrill(Date.UTC(2024, 0, 28, 3, 30), 'lms_20240128_020000', { recoverySeconds: 192 });
    report.tables = [
      { schema: 'public', name: 'users', expected: 1200, found: 1200, ok: true },
      { schema: 'public', name: 'courses', expected: 40, found: 40, ok: true },
    ];
    report.checks = [{ name: 'admin exists', sql: 'select 1', expected: '1', actual: '1', ok: true }];
    const md = renderDrillReportMarkdown(report);
    const lines = md.split('\n');
    expect(lines[0]).toBe('## Restore drill `drill_20240128_033000`: ✅ PASS');
    expect(md).toContain('Recovery time: **3 min 12 s** against an RTO of 4 h ✅');
    expect(md).toContain('Backup age: **24 h** against an RPO of 24 h ✅');
    expect(md).toContain('| `public.users` | 1,200 | 1,200 | ✅ |');
    expect(md).toContain('| `public.courses` | 40 | 40 | ✅ |');
    expect(md).toContain('| Health check: admin exists | ✅ | expected `1`, got `1` |');
    expect(md).toContain('### Phase times');
    expect(md).toMatch(
      /\| download \| 1 s \|\n\| decrypt \| 0\.5 s \|\n\| restore \| 3 min 10 s \|\n\| validate \| 0\.5 s \|/,
    );
    expect(md).toContain('| **total** | **3 min 12 s** |');
    // The verdict comes before any detail.
    expect(md.indexOf('PASS')).toBeLessThan(md.indexOf('### Checks'));
  });

  it('a fail: reasons right under the verdict, mismatches and restore errors shown', () => {
    const report = makeDrill(Date.UTC(2024, 0, 21, 3, 30), 'lms_20240121_020000', { verdict: 'fail' });
    report.reasons = [
      'Table public.users has 9 rows; the manifest says 10.',
      'pg_restore reported 1 error | ignored',
    ];
    report.restore = { ok: false, jobs: 1, errors: ['pg_restore: error: could not create ```x```'] };
    report.tables.push({ schema: 'public', name: 'gone', expected: 5, found: null, ok: false });
    report.rto.ok = false;
    const md = renderDrillReportMarkdown(report);
    const lines = md.split('\n');
    expect(lines[0]).toContain('❌ FAIL');
    expect(lines.slice(2, 5)).toEqual([
      'Backup `lms_20240121_020000` did **not** prove restorable:',
      '- Table public.users has 9 rows; the manifest says 10.',
      '- pg_restore reported 1 error \\| ignored',
    ]);
    expect(md).toContain('| `public.users` | 10 | 9 | ❌ |');
    expect(md).toContain('| `public.gone` | 5 | — | ❌ |');
    expect(md).toContain("```text\npg_restore: error: could not create '''x'''\n```");
    expect(md).toContain('| Restore | ❌ | 1 error(s), shown below |');
    expect(md).toMatch(/Recovery time: \*\*not reached\*\* \(the restore did not complete; 3 min spent\)/);
  });

  it('lists owners, privileges and other objects with expected and found; unchecked tables say so', () => {
    const report = makeDrill(Date.UTC(2024, 0, 21, 3, 30), 'lms_20240121_020000', { verdict: 'fail' });
    report.objects = [
      { kind: 'owner', object: 'app.users', expected: 'app_owner', found: 'app_owner', ok: true },
      { kind: 'policies', object: 'app.secrets', expected: '2 (abc)', found: null, ok: false },
      { kind: 'schema fingerprint', object: '', expected: '0123', found: '0123', ok: true },
    ];
    report.rolesCreated = ['app_owner'];
    const md = renderDrillReportMarkdown(report);
    expect(md).toContain('### Owners, privileges, policies and other objects (3)');
    expect(md).toContain('| owner | `app.users` | `app_owner` | `app_owner` | ✅ |');
    expect(md).toContain('| policies | `app.secrets` | `2 (abc)` | missing | ❌ |');
    expect(md).toContain('| schema fingerprint | — | `0123` | `0123` | ✅ |');
    expect(md).toContain('| Owners, privileges, policies, objects | ❌ | 2/3 match the manifest |');
    expect(md).toContain("| Backup's roles | ✅ | created (NOLOGIN, no passwords): `app_owner` |");

    report.restore = { ok: false, jobs: 1, errors: ['pg_restore: error: x'] };
    report.tables = [
      {
        schema: 'public',
        name: 'big',
        expected: 10,
        found: null,
        ok: false,
        note: 'not checked: the restore failed',
      },
    ];
    const failed = renderDrillReportMarkdown(report);
    expect(failed).toContain('| `public.big` | 10 | not checked: the restore failed | — |');
    expect(failed).toContain('| Row counts | ❌ | not checked: the restore failed |');
  });

  it('escapes what could break a table', () => {
    expect(mdEscape('a|b <script> *x* `y` lms_2024_01')).toBe(
      'a\\|b \\<script\\> \\*x\\* \\`y\\` lms_2024_01',
    );
  });
});

describe('renderReadinessMarkdown', () => {
  it('status first, a metrics table, findings and missing days', () => {
    const runs = [];
    const manifests = [];
    for (let d = 1; d <= 31; d++) {
      if (d === 12) continue;
      const b = makeBackup(Date.UTC(2024, 0, d, 2));
      runs.push(b.run);
      manifests.push(b.manifest);
    }
    const drills = [makeDrill(Date.UTC(2024, 0, 28, 3), backupId(Date.UTC(2024, 0, 28, 2)))];
    const r = computeReadiness({ now: new Date(NOW), runs, manifests, drills });
    const md = renderReadinessMarkdown(r);
    expect(md.split('\n')[0]).toBe('## DR readiness: ⚠️ At risk');
    expect(md).toContain('| Metric | Value | Objective | Status |');
    expect(md).toContain('| Backup success rate | 29/29 (100%) | 100% | ✅ |');
    expect(md).toContain('| Days with a complete backup | 29/30 | every day | ❌ |');
    expect(md).toContain('| Largest gap between backups | 48 h | RPO 24 h | ❌ |');
    expect(md).toContain('| Newest complete backup | `lms_20240131_020000`, 8 h ago | within 24 h | ✅ |');
    expect(md).toContain('| Last recovery time | 3 min | RTO 4 h | ✅ |');
    expect(md).toContain('### Findings');
    expect(md).toContain('Days without a complete backup: 2024-01-12.');
    expect(md).not.toContain('undefined');
    expect(md).not.toContain('NaN');
  });

  it('an empty history renders without crashing', () => {
    const md = renderReadinessMarkdown(
      computeReadiness({ now: new Date(NOW - DAY), runs: [], manifests: [], drills: [] }),
    );
    expect(md).toContain('❌ Not ready');
    expect(md).toContain('| Newest complete backup | none |');
    expect(md).not.toContain('undefined');
  });
});
