import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';
import {
  StorageConflictError,
  StorageIntegrityError,
  type StorageOperation,
  StorageTimeoutError,
  StorageUnavailableError,
} from './errors.js';
import { classifyFault, describeFault } from './faults.js';
import { isStall, metadataDeadline, stallWaitedMs } from './guard.js';
import { hashStream } from './source.js';
import {
  DEFAULT_STORAGE_TIMEOUTS,
  formatSeconds,
  STORAGE_TIMEOUT_ENV,
  type StorageTimeouts,
} from './timeouts.js';
import type { GetOptions, PutSource, Storage, StoredObject, SweepResult } from './types.js';

export interface RetryOptions {
  /** Tries in all, including the first (default 5). */
  attempts?: number;
  /** Backoff base: the n-th retry waits a random time in [0, min(maxMs, baseMs·2ⁿ⁻¹)] (default 200). */
  baseMs?: number;
  /** Backoff cap (default 5000). */
  maxMs?: number;
  logger?: Logger;
  /** For tests: replaces setTimeout-based sleeping. */
  sleep?: (ms: number) => Promise<void>;
  /** For tests: replaces Math.random in the jitter. */
  random?: () => number;
  /**
   * The bounds the backend enforces per request; `totalMs` is how long an operation keeps
   * retrying once the destination went silent (default: LMS_BACKUP_STORAGE_TIMEOUT's default).
   */
  timeouts?: StorageTimeouts;
  /** For tests: replaces Date.now. */
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Wraps a Storage so that transient faults (network errors, timeouts, HTTP 5xx and 429) are
 * retried with exponential backoff and full jitter; anything else (404, 409, 412, 403, integrity
 * errors, bad keys) fails at once. When the attempts run out: StorageUnavailableError naming
 * the location and the operation. `put` re-opens its source on every attempt.
 */
export function withRetry(storage: Storage, options: RetryOptions = {}): Storage {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 5));
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 5000;
  const logger = options.logger ?? nullLogger;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const timeouts = options.timeouts ?? DEFAULT_STORAGE_TIMEOUTS;
  const now = options.now ?? Date.now;

  /**
   * Since when the destination has given no sign of life during one operation. A stall counts
   * from the last byte that moved (at most firstByteMs before it was detected); an attempt that
   * ran well before failing shows the destination was alive until then: the count starts afresh.
   */
  class Silence {
    since: number | undefined;
    note(err: unknown, attemptStarted: number): number {
      const failed = now();
      const waited = isStall(err) ? (stallWaitedMs(err) ?? timeouts.firstByteMs) : 0;
      const aliveUntil = Math.max(attemptStarted, failed - waited);
      if (this.since === undefined || aliveUntil - attemptStarted > timeouts.connectMs)
        this.since = aliveUntil;
      return failed - this.since;
    }
  }

  /** Throws when `err` is final; otherwise logs, waits the backoff and returns (try again). */
  async function backoffOrThrow(
    err: unknown,
    operation: StorageOperation,
    what: string,
    attempt: number,
    silence: Silence,
    attemptStarted: number,
  ) {
    const fault = classifyFault(err);
    if (!fault.transient) throw err;
    const detail = describeFault(fault);
    const silentMs = silence.note(err, attemptStarted);
    const delay = Math.round(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
    // Another attempt could wait up to connect + first byte + idle more (the longest any call
    // is allowed without a byte moving): give up when that would pass the bound.
    // (Faults that fail fast, like a reset connection, are left to the attempt count.)
    const outOfTime = silentMs + delay + (isStall(err) ? metadataDeadline(timeouts) : 0) > timeouts.totalMs;
    if (isStall(err) && (outOfTime || attempt >= attempts)) {
      throw new StorageTimeoutError(
        `${storage.display}: ${operation} ${what} failed: the destination stopped answering (${detail}; ${attempt} attempt${attempt === 1 ? '' : 's'}, silent for ${formatSeconds(silentMs)} of the ${formatSeconds(timeouts.totalMs)} allowed)`,
        {
          location: storage.display,
          operation,
          attempts: attempt,
          silentMs,
          boundMs: timeouts.totalMs,
          cause: err,
          hint: `check that the storage service at ${storage.display} is up and reachable from here (endpoint, network, firewall, service status), then run again; if it is only slow, raise ${STORAGE_TIMEOUT_ENV} (seconds, now ${timeouts.totalMs / 1000})`,
        },
      );
    }
    if (attempt >= attempts || outOfTime) {
      throw new StorageUnavailableError(
        `${storage.display}: ${operation} ${what} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${detail}`,
        {
          location: storage.display,
          operation,
          attempts: attempt,
          cause: err,
          hint: 'the storage service did not answer or kept returning server errors: check the endpoint, the network and the service status, then run again',
        },
      );
    }
    logger.warn(
      `${storage.display}: ${operation} ${what} failed (${detail}); retry ${attempt + 1}/${attempts} in ${delay} ms`,
    );
    await sleep(delay);
  }

  async function run<T>(
    operation: StorageOperation,
    what: string,
    fn: () => Promise<T>,
    onPermanent?: (err: unknown, hadTransientFailure: boolean) => Promise<T | undefined>,
  ): Promise<T> {
    const silence = new Silence();
    for (let attempt = 1; ; attempt++) {
      const started = now();
      try {
        return await fn();
      } catch (err) {
        if (onPermanent && !classifyFault(err).transient) {
          const rescued = await onPermanent(err, attempt > 1);
          if (rescued !== undefined) return rescued;
        }
        await backoffOrThrow(err, operation, what, attempt, silence, started);
      }
    }
  }

  return {
    kind: storage.kind,
    display: storage.display,
    ...(storage.sweepTemporary
      ? { sweepTemporary: (before: Date, dryRun?: boolean) => storage.sweepTemporary!(before, dryRun) }
      : {}),
    ...(storage.sweepIncomplete
      ? {
          sweepIncomplete: (olderThan: Date, dryRun: boolean): Promise<SweepResult> =>
            run('sweep', 'incomplete uploads', () => storage.sweepIncomplete!(olderThan, dryRun)),
        }
      : {}),

    put(key: string, source: PutSource): Promise<StoredObject> {
      return run(
        'put',
        key,
        () => storage.put(key, source),
        // An earlier attempt may have stored the object and lost only the answer: then the
        // object exists with exactly our bytes, and that is success, not a conflict.
        async (err, hadTransientFailure) => {
          if (!(err instanceof StorageConflictError) || !hadTransientFailure) return undefined;
          const head = await storage.head(key).catch(() => null);
          if (!head || head.size !== source.size) return undefined;
          const stored = await hashStream(await storage.get(key)).catch(() => undefined);
          if (stored?.sha256 !== source.sha256) return undefined;
          logger.info(`${storage.display}: ${key} was stored by an earlier attempt whose answer was lost`);
          return head;
        },
      );
    },

    get(key: string, options?: GetOptions): Promise<Readable> {
      return run('get', key, () => storage.get(key, options));
    },

    head(key: string): Promise<StoredObject | null> {
      return run('head', key, () => storage.head(key));
    },

    delete(key: string): Promise<void> {
      return run('delete', key, () => storage.delete(key));
    },

    async *list(prefix: string): AsyncIterable<StoredObject> {
      // After a transient fault the listing starts over, skipping what was already yielded.
      const seen = new Set<string>();
      const silence = new Silence();
      for (let attempt = 1; ; attempt++) {
        const started = now();
        try {
          for await (const item of storage.list(prefix)) {
            if (seen.has(item.key)) continue;
            seen.add(item.key);
            yield item;
          }
          return;
        } catch (err) {
          await backoffOrThrow(
            err,
            'list',
            prefix === '' ? '(everything)' : `${prefix}*`,
            attempt,
            silence,
            started,
          );
        }
      }
    },
  };
}

/** True when the error says the stored bytes are wrong (never retried). */
export function isIntegrityError(err: unknown): err is StorageIntegrityError {
  return err instanceof StorageIntegrityError;
}
