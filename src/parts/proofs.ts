/**
 * verify and drill of the files and Redis parts: what they add to the checks and to the drill
 * report. A backup without these parts adds nothing (manifest@1 and @2 backups read as before).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DrillReport, Manifest } from '../catalog/types.js';
import type { Phases } from '../commands/fetch.js';
import type { DecryptionKeys } from '../config.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';
import { drillFilesPart, verifyFilesPart } from './files.js';
import { partObject } from './object.js';
import { drillRedisPart, verifyRedisPart } from './redis.js';

export interface PartCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** verify: every file's digest from the archive against the index; redis-check-rdb on the snapshot. */
export async function verifyParts(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
): Promise<PartCheck[]> {
  const checks: PartCheck[] = [];
  if (partObject(manifest, 'files') || manifest.files) {
    const r = await verifyFilesPart(storage, manifest, keys, work, logger);
    checks.push({
      name: "files: every file's SHA-256 in the archive equals the index",
      ok: r.ok,
      detail: r.detail,
    });
  }
  if (partObject(manifest, 'redis') || manifest.redis) {
    const r = await verifyRedisPart(storage, manifest, keys, work, logger);
    checks.push({
      name: 'redis: redis-check-rdb reads the snapshot, key count as recorded',
      ok: r.ok,
      detail: r.detail,
    });
  }
  return checks;
}

/**
 * drill: restores the files into `work/files` and compares every digest on disk with the index;
 * loads the snapshot into a throwaway redis-server and compares its key count. Fills
 * `report.files` / `report.redis`; returns the reasons it failed.
 */
export async function drillParts(
  report: DrillReport,
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  phases: Phases,
  logger: Logger,
): Promise<string[]> {
  const reasons: string[] = [];
  if (partObject(manifest, 'files') || manifest.files) {
    const dir = join(work, 'files');
    mkdirSync(dir, { recursive: true });
    const r = await logger.group('files: restore into the work directory and compare every digest', () =>
      phases.time('files', () => drillFilesPart(storage, manifest, keys, work, dir, logger)),
    );
    report.files = {
      ok: r.ok,
      entries: r.entries,
      files: manifest.files?.files ?? 0,
      filesOk: r.filesOk,
      bytes: manifest.files?.bytes ?? 0,
      detail: r.detail,
    };
    if (!r.ok) reasons.push(`files: ${r.detail}`);
  }
  if (partObject(manifest, 'redis') || manifest.redis) {
    const r = await logger.group('redis: load the snapshot into a throwaway redis-server', () =>
      phases.time('redis', () => drillRedisPart(storage, manifest, keys, work, logger)),
    );
    report.redis = {
      ok: r.ok,
      expectedKeys: manifest.redis?.keys ?? 0,
      foundKeys: r.keys,
      serverVersion: manifest.redis?.serverVersion ?? 'unknown',
      detail: r.detail,
    };
    if (!r.ok) reasons.push(`redis: ${r.detail}`);
  }
  return reasons;
}
