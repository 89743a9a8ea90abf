/**
 * `report`: DR readiness over a window, from the records every run leaves in storage, as
 * Markdown (job summary), JSON and a self-contained HTML page; optionally a watchdog that fails
 * when an objective is missed (`failOn`). Read-only: it never writes to storage.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from '../catalog/retention.js';
import { type ErasureStatus, erasureStatus, renderErasureStatusMarkdown } from '../erasure/status.js';
import { ConfigError, JobFailedError } from '../errors.js';
import { directoryError, ensureDirectory } from '../files.js';
import type { Logger } from '../log.js';
import { renderReadinessHtml } from '../report/html.js';
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

  const files: string[] = [];
  let htmlPath: string | undefined;
  if (config.outDir) {
    const dir = resolve(config.outDir);
    ensureDirectory(
      dir,
      'the report directory',
      'give --out-dir (action input out-dir) a writable directory',
    );
    for (const format of new Set(config.formats)) {
      const path = join(dir, FILE_NAMES[format]);
      const content =
        format === 'markdown'
          ? markdown
          : format === 'json'
            ? json
            : renderReadinessHtml(readiness, series, { sources: read, erasures });
      try {
        await writeFile(path, content, 'utf8');
      } catch (error) {
        throw directoryError(path, 'the report file', error);
      }
      files.push(path);
      if (format === 'html') htmlPath = path;
    }
    logger.info(`report written: ${files.join(', ')}`);
  }

  const failed = trippedConditions(readiness, config.failOn);
  for (const c of failed) logger.warn(`fail-on ${c}: ${readiness.conditions[c].message}`);
  const result: ReportResult = { readiness, series, markdown, json, files, failed, erasures };
  if (htmlPath) result.htmlPath = htmlPath;
  return result;
}
