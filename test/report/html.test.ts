import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, formatPercent } from '../../src/report/format.js';
import { escapeHtml, renderReadinessHtml } from '../../src/report/html.js';
import { buildReportSeries, computeReadiness, type ReadinessInput } from '../../src/report/metrics.js';
import { demoHistory, HOUR, makeBackup, makeDrill } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts');
const NOW = Date.UTC(2024, 0, 31, 10);

let userDataDir: string;
let context: BrowserContext;

beforeAll(async () => {
  userDataDir = await mkdtemp(join(tmpdir(), 'lms-report-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await rm(userDataDir, { recursive: true, force: true });
});

/** What a reader sees: Playwright's innerText is the rendered text, hidden elements excluded. */
function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text is the point of this check
  return locator.innerText();
}

interface Opened {
  page: Page;
  problems: string[];
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests: requests.filter((r) => r !== url) };
}

describe('HTML readiness report in Chromium', () => {
  const input: ReadinessInput = { now: new Date(NOW), ...demoHistory(NOW) };
  const readiness = computeReadiness(input);
  const series = buildReportSeries(input);

  it('renders with no console errors, no requests, the metrics visible and every chart drawn', async () => {
    const html = renderReadinessHtml(readiness, series, {
      sources: ['local:/var/backups/lms', 's3://lms-backups/prod'],
    });
    const file = join(ARTIFACTS, 'report.html');
    await writeFile(file, html);
    const { page, problems, requests } = await open(file);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([]); // fully self-contained

      await expect(page.title()).resolves.toBe('DR readiness report: At risk');
      const text = await visibleText(page.locator('body'));
      const b = readiness.backups;
      const d = readiness.drills;
      for (const value of [
        formatPercent(b.successRate!),
        `${b.daysWithBackup} / ${b.daysTracked}`,
        formatDuration(b.largestGap!.seconds),
        formatPercent(d.successRate!),
        formatDuration(d.lastRecovery!.seconds),
        formatDuration(d.worstRecovery!.seconds),
        b.newestComplete!.id,
        b.newestVerified!.id,
      ]) {
        expect(text, value).toContain(value);
      }
      for (const f of readiness.findings) expect(text).toContain(f.message);

      const counts = {
        size: await page.locator('#chart-size g.data path').count(),
        sizeDots: await page.locator('#chart-size g.data circle').count(),
        durations: await page.locator('#chart-durations g.data path').count(),
        durationDots: await page.locator('#chart-durations g.data circle').count(),
        results: await page.locator('#chart-results g.data rect').count(),
        failedMarks: await page.locator('#chart-results g.data rect.fail').count(),
        gaps: await page.locator('#chart-gaps g.data rect').count(),
        gapsOver: await page.locator('#chart-gaps g.data rect.over').count(),
      };
      expect(counts).toEqual({
        size: 2, // area + line
        sizeDots: series.backups.length,
        durations: 2, // backups + drills
        durationDots: series.backups.length + series.drills.length,
        results: series.backups.length + series.backupFailures.length + series.drills.length,
        failedMarks: series.backupFailures.length + series.drills.filter((x) => x.verdict === 'fail').length,
        gaps: series.gaps.filter((g) => Date.parse(g.to) >= Date.parse(series.window.start)).length,
        gapsOver: series.gaps.filter((g) => g.seconds > series.rpoSeconds + series.rpoToleranceSeconds)
          .length,
      });
      expect(counts.gapsOver).toBeGreaterThan(0);

      // Each chart is an image with an accessible name, and actually has a size on screen.
      for (const name of [
        'Backup size over time',
        'Backup and drill durations',
        'Backup and drill results over time',
        'Gaps between backups against the RPO',
      ]) {
        const chart = page.getByRole('img', { name });
        await expect(chart.count()).resolves.toBe(1);
        const box = await chart.boundingBox();
        expect(box!.width).toBeGreaterThan(300);
        expect(box!.height).toBeGreaterThan(100);
      }
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
      await expect(visibleText(page.getByRole('status'))).resolves.toBe('At risk');

      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('an empty history still renders cleanly', async () => {
    const empty: ReadinessInput = { now: new Date(NOW), runs: [], manifests: [], drills: [] };
    const html = renderReadinessHtml(computeReadiness(empty), buildReportSeries(empty));
    const file = join(ARTIFACTS, 'report-empty.html');
    await writeFile(file, html);
    const { page, problems, requests } = await open(file);
    try {
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      const text = await visibleText(page.locator('body'));
      expect(text).toContain('No complete backup in the window');
      expect(text).toContain('No drill in the window');
      expect(await page.locator('svg.chart').count()).toBe(4);
      await page.screenshot({ path: join(ARTIFACTS, 'report-empty.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('escapes every value from the records', () => {
    const hostile = demoHistory(NOW);
    hostile.runs[0]!.reason = '<img src=x onerror=alert(1)>';
    hostile.runs.push({
      ...hostile.runs[0]!,
      id: '<script>alert(1)</script>',
      status: 'failure',
      command: 'backup',
    });
    const inp: ReadinessInput = { now: new Date(NOW), ...hostile };
    const html = renderReadinessHtml(computeReadiness(inp), buildReportSeries(inp), {
      sources: ['<b>x</b>'],
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain(escapeHtml('<b>x</b>'));
    expect(html).not.toMatch(/https?:\/\//); // no external resource of any kind
  });
});

describe('HTML report: what a reader needs', () => {
  it('draws same-day runs side by side, names its database, and prints its drill list', async () => {
    const input: ReadinessInput = { now: new Date(NOW), ...demoHistory(NOW) };
    // Three runs on one day: a morning backup, a failed retry, an evening backup; two drills that day.
    const day = Date.UTC(2024, 0, 30);
    const extra = [5, 5.2, 20].map((h) => makeBackup(day + h * HOUR));
    extra[1]!.run.status = 'failure';
    extra[1]!.run.reason = 'pg_dump: connection lost';
    const history = {
      ...input,
      runs: [...input.runs, ...extra.map((e) => e.run)],
      manifests: [...input.manifests, extra[0]!.manifest, extra[2]!.manifest],
      drills: [
        ...input.drills,
        makeDrill(day + 3 * HOUR, extra[0]!.manifest.id),
        makeDrill(day + 3.1 * HOUR, extra[0]!.manifest.id, {
          verdict: 'could-not-run',
          reasons: ['could not run: x'],
        }),
      ],
    };
    const series = buildReportSeries(history);
    const html = renderReadinessHtml(computeReadiness(history), series, { database: 'lms-prod' });
    const file = join(ARTIFACTS, 'report-same-day.html');
    await writeFile(file, html);
    const { page, problems } = await open(file);
    try {
      expect(problems).toEqual([]);
      await expect(page.title()).resolves.toMatch(/^DR readiness report: lms-prod: /);
      await expect(visibleText(page.locator('h1'))).resolves.toBe('DR readiness report: lms-prod');
      // Every mark with a tooltip (the legend's swatches have none).
      const boxes = (sel: string) =>
        page.$$eval(sel, (els) =>
          els
            .filter((el) => el.querySelector('title'))
            .map((el) => {
              const r = el.getBoundingClientRect();
              return { x: r.x, w: r.width, tip: el.querySelector('title')!.textContent ?? '' };
            }),
        );
      const onDay = (b: { tip: string }) => b.tip.includes('2024-01-30');
      const marks = (await boxes('#chart-results rect.mark')).filter(onDay).sort((a, b) => a.x - b.x);
      // The day's nightly backup, our 3 backup runs and 2 drills: no two marks of one row overlap.
      const rows = [marks.filter((m) => /^Backup/.test(m.tip)), marks.filter((m) => /^Drill/.test(m.tip))];
      expect(rows.map((r) => r.length)).toEqual([4, 2]);
      for (const row of rows)
        for (let i = 1; i < row.length; i++)
          expect(row[i]!.x).toBeGreaterThanOrEqual(row[i - 1]!.x + row[i - 1]!.w);
      // Printed, the drill list is on paper: a table, not folded away.
      await page.emulateMedia({ media: 'print' });
      const drills = await visibleText(page.locator('table.drills'));
      expect(drills).toMatch(/could-not-run/);
      // A header, then one line per drill of the window.
      expect(drills.trim().split('\n').length).toBe(series.drills.length + 1);
    } finally {
      await page.close();
    }
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
