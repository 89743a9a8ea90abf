/**
 * `report`: DR readiness over a window, from the records every run leaves in storage, as
 * Markdown (job summary), JSON and a self-contained HTML page; optionally a watchdog that fails
 * when an objective is missed (`failOn`). Read-only: it never writes to storage.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from '../catalog/retention.js';
import { type ErasureStatus, erasureStatus, renderErasureStatusMarkdown } from '../erasure/status.js';
import { ConfigError, JobFailedError, LmsError } from '../errors.js';
import { directoryError, ensureDirectory } from '../files.js';
import type { Logger } from '../log.js';
import { renderFleetHtml, renderReadinessHtml } from '../report/html.js';
import { type History, mergeHistories, readHistory } from '../report/load.js';
import { renderReadinessMarkdown } from '../report/markdown.js';
import {
  buildReportSeries,
  computeReadiness,
  type FailOnCondition,
  type Readiness,
  type ReportSeries,
  summarizeReadiness,
  trippedConditions,
} from '../report/metrics.js';
import { fsWatchFor } from '../storage/fs-watch.js';
import type { Storage } from '../storage/types.js';

export type ReportFormat = 'markdown' | 'json' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['markdown', 'json', 'html'];

export interface ReportConfig {
  /** Records are read from every destination and merged (the same id counts once). */
  storages: Storage[];
  windowDays: number;
  /** The report's "now"; defaults to deps.now() or the clock. */
  now?: Date;
  /** Directory for report.md / report.json / report.html; nothing is written without it. */
  outDir?: string;
  /** Which files to write into outDir. */
  formats: ReportFormat[];
  failOn: FailOnCondition[];
  rpoSeconds: number;
  rtoSeconds: number;
  keepDays: number;
  /** Scheduler lateness accepted on top of the RPO (default 1 h; 0 for strict). */
  rpoToleranceSeconds?: number;
  /** The rest of prune's retention policy, for erasure completion dates (default: prune's defaults). */
  retention?: Partial<RetentionPolicy>;
}

export interface ReportDeps {
  logger: Logger;
  now?: () => Date;
}

export interface ReportResult {
  readiness: Readiness;
  series: ReportSeries;
  markdown: string;
  json: string;
  /** Written files, absolute paths. */
  files: string[];
  htmlPath?: string;
  /** The `failOn` conditions that tripped; the adapters turn a non-empty list into exit 1. */
  failed: FailOnCondition[];
  /** Each tripped condition with its reason, e.g. "stale: the newest complete backup is 2d old". */
  failedMessages: string[];
  /** The erasure ledger: which backups still hold each erasure, and when they expire. */
  erasures: ErasureStatus;
}

const FILE_NAMES: Record<ReportFormat, string> = {
  markdown: 'report.md',
  json: 'report.json',
  html: 'report.html',
};

export async function runReport(config: ReportConfig, deps: ReportDeps): Promise<ReportResult> {
  const { logger } = deps;
  if (config.storages.length === 0) {
    throw new ConfigError('report needs at least one destination to read records from', {
      hint: 'configure the same destination(s) your backups write to',
    });
  }
  if (!Number.isInteger(config.windowDays) || config.windowDays < 1) {
    throw new ConfigError(`report window must be a whole number of days >= 1 (got ${config.windowDays})`);
  }
  const now = config.now ?? deps.now?.() ?? new Date();
  const windowStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  // A week before the window too: it shows whether tracking began before the window and
  // anchors the first gap, even when older manifests were pruned.
  const since = new Date(windowStart.getTime() - (config.windowDays - 1 + 7) * 86_400_000);

  const histories: History[] = [];
  const read: string[] = [];
  await logger.group('Read run records, manifests and drill reports', async () => {
    const results = await Promise.allSettled(
      config.storages.map((storage) => readHistory(storage, { since, logger })),
    );
    results.forEach((result, i) => {
      const display = config.storages[i]!.display;
      if (result.status === 'fulfilled') {
        histories.push(result.value);
        read.push(display);
        const h = result.value;
        logger.info(
          `${display}: ${h.runs.length} run records, ${h.manifests.length} manifests, ${h.drills.length} drill reports`,
        );
      } else {
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        logger.warn(`could not read ${display}: ${reason}`);
      }
    });
  });
  if (histories.length === 0) {
    throw new JobFailedError('could not read records from any destination', {
      hint: 'check the destination settings and credentials; the warnings above say what failed',
    });
  }
  const history = mergeHistories(histories);
  const input = {
    now,
    windowDays: config.windowDays,
    runs: history.runs,
    manifests: history.manifests,
    drills: history.drills,
    rpoSeconds: config.rpoSeconds,
    rtoSeconds: config.rtoSeconds,
    keepDays: config.keepDays,
    ...(config.rpoToleranceSeconds === undefined ? {} : { rpoToleranceSeconds: config.rpoToleranceSeconds }),
  };
  const readiness = computeReadiness(input);
  const series = buildReportSeries(input);
  const erasures = await erasureStatus(
    config.storages,
    { ...DEFAULT_RETENTION_POLICY, ...config.retention, keepDays: config.keepDays },
    now,
    logger,
  );
  const markdown = renderReadinessMarkdown(readiness) + renderErasureStatusMarkdown(erasures);
  const json = `${JSON.stringify({ ...readiness, sources: read, series, erasures }, null, 2)}\n`;
  logger.info(summarizeReadiness(readiness));

  const { files, htmlPath } = await writeReportFiles(
    config,
    { markdown, json, html: () => renderReadinessHtml(readiness, series, { sources: read, erasures }) },
    logger,
  );

  const failed = trippedConditions(readiness, config.failOn);
  for (const c of failed) logger.warn(`fail-on ${c}: ${readiness.conditions[c].message}`);
  const failedMessages = failed.map((c) => `${c}: ${readiness.conditions[c].message}`);
  const result: ReportResult = {
    readiness,
    series,
    markdown,
    json,
    files,
    failed,
    failedMessages,
    erasures,
  };
  if (htmlPath) result.htmlPath = htmlPath;
  return result;
}

async function writeReportFiles(
  config: { outDir?: string; formats: ReportFormat[] },
  content: { markdown: string; json: string; html: () => string },
  logger: Logger,
): Promise<{ files: string[]; htmlPath?: string }> {
  const files: string[] = [];
  let htmlPath: string | undefined;
  if (!config.outDir) return { files };
  const dir = resolve(config.outDir);
  // The directory may be on a mount that stops answering: every call there is bounded.
  const io = fsWatchFor(dir).calls('put');
  await ensureDirectory(
    dir,
    'the report directory',
    'give --output-dir (action input output-dir) a writable directory',
    io,
  );
  for (const format of new Set(config.formats)) {
    const path = join(dir, FILE_NAMES[format]);
    const text = format === 'markdown' ? content.markdown : format === 'json' ? content.json : content.html();
    try {
      await io('write', () => writeFile(path, text, 'utf8'));
    } catch (error) {
      if (error instanceof LmsError) throw error;
      throw directoryError(path, 'the report file', error);
    }
    files.push(path);
    if (format === 'html') htmlPath = path;
  }
  logger.info(`report written: ${files.join(', ')}`);
  return htmlPath ? { files, htmlPath } : { files };
}

export const FLEET_READINESS_FORMAT = 'lms-backup/fleet-readiness@1';

const STATUS_ORDER: Readiness['status'][] = ['ready', 'at-risk', 'not-ready'];

/**
 * One report over a fleet: each database's readiness from its own destinations and objectives,
 * then one page (Markdown, JSON, HTML) with every database on it. The fleet is as ready as its
 * least ready database; a database whose records cannot be read is not ready.
 */
export async function runFleetReport(
  entries: readonly { database: string; config: ReportConfig }[],
  options: { logger: Logger; outDir?: string | undefined; formats: ReportFormat[]; now?: Date },
): Promise<ReportResult & { databases: { database: string; result?: ReportResult; error?: string }[] }> {
  const { logger } = options;
  const now = options.now ?? new Date();
  const databases: { database: string; result?: ReportResult; error?: string }[] = [];
  for (const { database, config } of entries) {
    const { outDir: _none, ...rest } = config;
    try {
      const result = await logger.group(`database ${database}`, () =>
        runReport({ ...rest, now }, { logger }),
      );
      databases.push({ database, result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(`${database}: ${message}`);
      databases.push({ database, error: message });
    }
  }
  const worst = databases.reduce<Readiness['status']>((w, d) => {
    const s = d.result ? d.result.readiness.status : 'not-ready';
    return STATUS_ORDER.indexOf(s) > STATUS_ORDER.indexOf(w) ? s : w;
  }, 'ready');
  const lines = [
    `# DR readiness: ${databases.length} databases — ${worst}`,
    '',
    '| Database | Status | Newest complete backup | Last drill | Findings |',
    '| --- | --- | --- | --- | --- |',
    ...databases.map(({ database, result, error }) => {
      if (!result) return `| ${database} | not-ready | could not read: ${error} | | |`;
      const r = result.readiness;
      const newest = r.backups.newestComplete
        ? `${r.backups.newestComplete.id} (${r.backups.newestComplete.createdAt})`
        : 'none';
      const drill = r.drills.last ? `${r.drills.last.verdict} (${r.drills.last.at})` : 'none';
      return `| ${database} | ${r.status} | ${newest} | ${drill} | ${r.findings.length} |`;
    }),
    '',
    ...databases.flatMap(({ database, result }) =>
      result ? [`## ${database}`, '', result.markdown.replace(/^#/gm, '##'), ''] : [],
    ),
  ];
  const markdown = lines.join('\n');
  const json = `${JSON.stringify(
    {
      format: FLEET_READINESS_FORMAT,
      generatedAt: now.toISOString(),
      status: worst,
      databases: databases.map(({ database, result, error }) =>
        result
          ? { database, ...(JSON.parse(result.json) as Record<string, unknown>) }
          : { database, status: 'not-ready', error },
      ),
    },
    null,
    2,
  )}\n`;
  const read = databases.filter((d) => d.result);
  const { files, htmlPath } = await writeReportFiles(
    { ...(options.outDir ? { outDir: options.outDir } : {}), formats: options.formats },
    {
      markdown,
      json,
      html: () =>
        renderFleetHtml(
          read.map((d) => ({
            database: d.database,
            readiness: d.result!.readiness,
            series: d.result!.series,
            sources: (JSON.parse(d.result!.json) as { sources: string[] }).sources,
            erasures: d.result!.erasures,
          })),
          { status: worst, generatedAt: now.toISOString() },
        ),
    },
    logger,
  );
  const failed = [...new Set(read.flatMap((d) => d.result!.failed))];
  const failedMessages = [
    ...read.flatMap((d) => d.result!.failedMessages.map((m) => `${d.database}: ${m}`)),
    ...databases.filter((d) => d.error).map((d) => `${d.database}: could not read its records`),
  ];
  const first = read[0]?.result;
  if (!first) {
    throw new JobFailedError('could not read records for any database of the fleet', {
      hint: "check each database's destinations and credentials; the warnings above say what failed",
    });
  }
  return {
    readiness: first.readiness,
    series: first.series,
    markdown,
    json,
    files,
    ...(htmlPath ? { htmlPath } : {}),
    failed: databases.some((d) => d.error) && !failed.includes('stale') ? failed : failed,
    failedMessages,
    erasures: first.erasures,
    databases,
  };
}
