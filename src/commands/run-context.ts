/**
 * The run in progress, so that a run leaves a record however it ends (docs/architecture.md): not only
 * when its command returns or throws inside recorded(), but also when its configuration is
 * refused after the destinations were opened, when it crashes, and when it is interrupted by
 * SIGINT/SIGTERM. The adapters (CLI, action) begin a run and name its destinations; whatever
 * ends it calls endRunAbnormally() once, which writes a failure record unless recorded() did.
 */
import { newRunId, writeRunRecordBestEffort } from '../catalog/runs.js';
import { RUN_RECORD_FORMAT, type RunCommand, type RunRecord } from '../catalog/types.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';

interface CurrentRun {
  command: RunCommand;
  startedAt: Date;
  storages: Storage[];
  logger: Logger;
  /** recorded() calls running their command now, and those that wrote a record. */
  inFlight: number;
  recordedCount: number;
  /** endRunAbnormally() wrote the record: the run is ending. */
  ended: boolean;
}

let current: CurrentRun | undefined;

export function beginRun(command: RunCommand, logger: Logger): void {
  current = {
    command,
    startedAt: new Date(),
    storages: [],
    logger,
    inFlight: 0,
    recordedCount: 0,
    ended: false,
  };
}

/** Where this run's record goes, as soon as the destinations are open. */
export function runDestinations(storages: readonly Storage[]): void {
  if (current) current.storages = [...storages];
}

/** recorded() starts its command. */
export function commandStarted(): void {
  if (current) current.inFlight++;
}

/**
 * recorded() is about to write the record of its command: returns false when the run already
 * ended abnormally (a signal handler wrote the record), true otherwise.
 */
export function claimRunRecord(): boolean {
  if (!current) return true;
  current.inFlight = Math.max(0, current.inFlight - 1);
  if (current.ended) return false;
  current.recordedCount++;
  return true;
}

export function currentRunCommand(): RunCommand | undefined {
  return current?.command;
}

/**
 * Writes a failure record for a run that ended outside recorded() (refused configuration, a
 * crash, a signal), to its destinations (and the spool for those that are down). Never throws;
 * bounded by `timeoutMs` so a dead destination cannot hold the exit.
 */
export async function endRunAbnormally(reason: string, timeoutMs = 20_000): Promise<RunRecord | undefined> {
  const run = current;
  // Recorded already, unless a command was interrupted before its own record.
  if (!run || run.ended || run.storages.length === 0) return undefined;
  if (run.recordedCount > 0 && run.inFlight === 0) return undefined;
  run.ended = true;
  const finished = new Date();
  const record: RunRecord = {
    format: RUN_RECORD_FORMAT,
    id: newRunId(run.command, run.startedAt),
    command: run.command,
    startedAt: run.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    status: 'failure',
    reason,
    durationMs: finished.getTime() - run.startedAt.getTime(),
    warnings: [],
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      writeRunRecordBestEffort(run.storages, record, run.logger, { existingOnly: true }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
  } catch {
    // evidence, not the job
  } finally {
    if (timer) clearTimeout(timer);
  }
  return record;
}
