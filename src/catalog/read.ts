/**
 * Tolerant readers of the stored JSON files: manifests (`db/*.manifest.json`) and drill reports
 * (`drill_logs/*.json`). Bounded in size, a few at a time; a file that is unreadable or of a
 * format this version does not know is skipped with a warning, never hiding the others.
 */
import type { Logger } from '../log.js';
import { forEachLimited, STORAGE_READ_CONCURRENCY } from '../pool.js';
import type { Storage } from '../storage/types.js';
import { DB_PREFIX, DRILL_LOGS_PREFIX } from './layout.js';
import { readObjectText } from './runs.js';
import {
  DRILL_REPORT_FORMAT,
  type DrillReport,
  MANIFEST_FORMAT,
  MANIFEST_FORMAT_V1,
  type Manifest,
} from './types.js';

export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const MAX_DRILL_REPORT_BYTES = 16 * 1024 * 1024;

function isDate(v: unknown): boolean {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

export function checkManifest(value: unknown): Manifest | string {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const m = value as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT && m.format !== MANIFEST_FORMAT_V1)
    return `unknown format "${String(m.format)}"`;
  if (typeof m.id !== 'string') return 'no "id"';
  if (!isDate(m.createdAt)) return '"createdAt" is not a date';
  if (m.format === MANIFEST_FORMAT) {
    const objects = m.objects;
    if (!Array.isArray(objects) || objects.length === 0) return 'no "objects" list';
    for (const o of objects as Record<string, unknown>[]) {
      if (typeof o?.key !== 'string' || typeof o.sha256 !== 'string' || typeof o.sidecarKey !== 'string')
        return 'an entry of "objects" lacks its key, sha256 or sidecarKey';
    }
  }
  return m as unknown as Manifest;
}

export function checkDrillReport(value: unknown): DrillReport | string {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.format !== DRILL_REPORT_FORMAT) return `unknown format "${String(r.format)}"`;
  if (typeof r.id !== 'string') return 'no "id"';
  if (typeof r.backupId !== 'string') return 'no "backupId"';
  if (r.verdict !== 'pass' && r.verdict !== 'fail' && r.verdict !== 'could-not-run') {
    return `unknown verdict "${String(r.verdict)}"`;
  }
  if (!isDate(r.startedAt) && !isDate(r.finishedAt)) return 'no valid "startedAt"';
  return r as unknown as DrillReport;
}

async function readJsonFiles<T>(
  storage: Storage,
  prefix: string,
  suffix: string,
  limit: number,
  check: (v: unknown) => T | string,
  what: string,
  logger?: Logger,
): Promise<T[]> {
  const keys: string[] = [];
  for await (const obj of storage.list(prefix)) if (obj.key.endsWith(suffix)) keys.push(obj.key);
  const out: T[] = [];
  await forEachLimited([...keys].sort(), STORAGE_READ_CONCURRENCY, async (key) => {
    try {
      const checked = check(JSON.parse(await readObjectText(storage, key, limit)));
      if (typeof checked === 'string')
        logger?.warn(`skipping ${what} ${key} in ${storage.display}: ${checked}`);
      else out.push(checked);
    } catch (error) {
      logger?.warn(
        `skipping ${what} ${key} in ${storage.display}: unreadable (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  });
  return out;
}

export function readManifests(storage: Storage, logger?: Logger): Promise<Manifest[]> {
  return readJsonFiles(
    storage,
    DB_PREFIX,
    '.manifest.json',
    MAX_MANIFEST_BYTES,
    checkManifest,
    'manifest',
    logger,
  );
}

export function readDrillReports(storage: Storage, logger?: Logger): Promise<DrillReport[]> {
  return readJsonFiles(
    storage,
    DRILL_LOGS_PREFIX,
    '.json',
    MAX_DRILL_REPORT_BYTES,
    checkDrillReport,
    'drill report',
    logger,
  );
}
