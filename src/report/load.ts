/**
 * Reading the history the report needs from a destination: manifests (`db/*.manifest.json`),
 * drill reports (`drill_logs/*.json`) and run records (`runs/*.json`). Tolerant: a file that is
 * unreadable or of a format this version does not know is skipped with a warning.
 */
import { readDrillReports, readManifests } from '../catalog/read.js';
import { readRunRecords } from '../catalog/runs.js';
import type { DrillReport, Manifest, RunRecord } from '../catalog/types.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';

export interface History {
  runs: RunRecord[];
  manifests: Manifest[];
  drills: DrillReport[];
}

/** Everything one destination holds; throws only when the destination cannot be listed. */
export async function readHistory(
  storage: Storage,
  options: { since?: Date; logger?: Logger } = {},
): Promise<History> {
  const runOptions: { since?: Date; logger?: Logger } = {};
  if (options.since) runOptions.since = options.since;
  if (options.logger) runOptions.logger = options.logger;
  const [runs, manifests, drills] = await Promise.all([
    readRunRecords(storage, runOptions),
    readManifests(storage, options.logger),
    readDrillReports(storage, options.logger),
  ]);
  return { runs, manifests, drills };
}

/** Merges histories read from several destinations; the same id counts once. */
export function mergeHistories(histories: readonly History[]): History {
  const merge = <T extends { id: string }>(lists: T[][]): T[] => {
    const byId = new Map<string, T>();
    for (const list of lists) for (const item of list) if (!byId.has(item.id)) byId.set(item.id, item);
    return [...byId.values()];
  };
  return {
    runs: merge(histories.map((h) => h.runs)),
    manifests: merge(histories.map((h) => h.manifests)),
    drills: merge(histories.map((h) => h.drills)),
  };
}
