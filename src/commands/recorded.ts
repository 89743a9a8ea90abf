import { newRunId, writeRunRecordBestEffort } from '../catalog/runs.js';
import { RUN_RECORD_FORMAT, type RunCommand, type RunRecord } from '../catalog/types.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { eventFromRun, type NotifierConfig, type NotifyResult, notifyAll } from '../report/notify.js';
import type { Storage } from '../storage/types.js';
import { claimRunRecord, commandStarted, runDestinations } from './run-context.js';

/** What a finished command tells its run record. */
export interface RunOutcome {
  status: 'success' | 'failure';
  reason?: string;
  backupId?: string;
  bytes?: number;
  warnings?: string[];
  details?: Record<string, unknown>;
}

export interface RecordedRun<T> {
  result: T;
  record: RunRecord;
  notifications: NotifyResult[];
}

/**
 * Runs a command and leaves evidence however it ends (docs/architecture.md): a run record in every
 * destination's runs/, then notifications by severity and the heartbeat. Neither the record
 * nor a notifier ever hides the command's own error; a thrown error is re-thrown after both.
 */
export async function recorded<T>(
  options: {
    command: RunCommand;
    storages: Storage[];
    notifiers: NotifierConfig[];
    logger: Logger;
    now?: () => Date;
    link?: string;
  },
  run: () => Promise<T>,
  outcome: (result: T) => RunOutcome,
): Promise<RecordedRun<T>> {
  const now = options.now ?? (() => new Date());
  const started = now();
  runDestinations(options.storages);
  commandStarted();
  let result: T | undefined;
  let failure: unknown;
  let out: RunOutcome;
  try {
    result = await run();
    out = outcome(result);
  } catch (error) {
    failure = error;
    out = { status: 'failure', reason: describeError(error) };
  }
  const finished = now();
  const record: RunRecord = {
    format: RUN_RECORD_FORMAT,
    id: newRunId(options.command, started),
    command: options.command,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    status: out.status,
    durationMs: finished.getTime() - started.getTime(),
    warnings: out.warnings ?? [],
    ...(out.reason !== undefined ? { reason: out.reason } : {}),
    ...(out.backupId !== undefined ? { backupId: out.backupId } : {}),
    ...(out.bytes !== undefined ? { bytes: out.bytes } : {}),
    ...(out.details !== undefined ? { details: out.details } : {}),
  };
  if (claimRunRecord()) await writeRunRecordBestEffort(options.storages, record, options.logger);
  let notifications: NotifyResult[] = [];
  if (options.notifiers.length) {
    try {
      notifications = await notifyAll(
        options.notifiers,
        eventFromRun(record, options.link ? { link: options.link } : {}),
        { logger: options.logger },
      );
    } catch (error) {
      options.logger.warn(`notifications failed: ${describeError(error)}`);
    }
  }
  if (failure !== undefined) throw failure;
  return { result: result as T, record, notifications };
}
