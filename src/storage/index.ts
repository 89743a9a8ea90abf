import type { Logger } from '../log.js';
import { nullLogger } from '../log.js';
import { LocalStorage } from './local.js';
import { type RetryOptions, withRetry } from './retry.js';
import { type StorageTimeouts, storageTimeoutsFromEnv } from './timeouts.js';
import type { Storage } from './types.js';
import { displayLocation, parseStorageLocation, type StorageLocation } from './url.js';

export * from './errors.js';
export { classifyFault, type Fault } from './faults.js';
export { TEMP_PREFIX, validateKey, validatePrefix } from './keys.js';
export { LocalStorage } from './local.js';
export { isIntegrityError, type RetryOptions, withRetry } from './retry.js';
export { bufferSource, fileSource, hashStream } from './source.js';
export { isAbandoned, stagedDumpName, sweepStagedDumps, sweepTemporaryFiles } from './staging.js';
export {
  DEFAULT_STORAGE_TIMEOUT_S,
  DEFAULT_STORAGE_TIMEOUTS,
  STORAGE_TIMEOUT_ENV,
  type StorageTimeouts,
  storageTimeouts,
  storageTimeoutsFromEnv,
} from './timeouts.js';
export type { PutSource, Storage, StoredObject, SweepResult } from './types.js';
export {
  displayLocation,
  LOCATION_FORMS,
  parseStorageLocation,
  redactLocation,
  type StorageLocation,
} from './url.js';
export { verifyStoredObject } from './verify.js';

export interface OpenStorageOptions {
  /** Credentials and endpoints are read from here (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Retry policy for whole operations (default: 5 attempts, 200 ms base, 5 s cap); false: none. */
  retry?: Omit<RetryOptions, 'logger'> | false;
  /** Tries per HTTP request inside the cloud SDKs (default 3). */
  requestAttempts?: number;
  /** Multipart part / block / resumable chunk size in bytes (defaults: S3 8 MiB, Azure 4 MiB, GCS 8 MiB). */
  partSize?: number;
  /** Parts or blocks in flight (default 4). */
  concurrency?: number;
  /** Base for relative local paths (default process.cwd()). */
  cwd?: string;
  /**
   * Connect, idle and overall bounds of every call (default: from LMS_BACKUP_STORAGE_TIMEOUT in
   * `env`, seconds, default 180). Never unbounded.
   */
  timeouts?: StorageTimeouts;
}

/**
 * Opens a destination given as a location string (see parseStorageLocation) and returns it
 * wrapped in the retry decorator. Nothing is contacted yet: a bad credential shows up on the
 * first call as StorageAuthError.
 */
export async function openStorage(
  location: string | StorageLocation,
  opts: OpenStorageOptions = {},
): Promise<Storage> {
  const loc =
    typeof location === 'string'
      ? parseStorageLocation(location, opts.cwd ? { cwd: opts.cwd } : {})
      : location;
  const logger = opts.logger ?? nullLogger;
  const display = displayLocation(loc);
  const timeouts = opts.timeouts ?? storageTimeoutsFromEnv(opts.env ?? process.env);
  const common = {
    display,
    logger,
    timeouts,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.requestAttempts !== undefined ? { requestAttempts: opts.requestAttempts } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  };
  let storage: Storage;
  switch (loc.kind) {
    case 'local':
      storage = new LocalStorage(loc.path, timeouts);
      break;
    // Cloud SDKs load only when their destination is used: the CLI starts faster without them.
    case 'azure': {
      const { AzureStorage } = await import('./azure.js');
      storage = new AzureStorage({
        ...common,
        location: loc,
        ...(opts.partSize !== undefined ? { blockSize: opts.partSize } : {}),
      });
      break;
    }
    case 's3': {
      const { S3Storage } = await import('./s3.js');
      storage = new S3Storage({
        ...common,
        location: loc,
        ...(opts.partSize !== undefined ? { partSize: opts.partSize } : {}),
      });
      break;
    }
    case 'gcs': {
      const { GcsStorage } = await import('./gcs.js');
      storage = new GcsStorage({
        ...common,
        location: loc,
        ...(opts.partSize !== undefined ? { chunkSize: opts.partSize } : {}),
      });
      break;
    }
  }
  logger.debug(`storage: opened ${storage.kind} destination ${display}`);
  return opts.retry === false ? storage : withRetry(storage, { timeouts, ...opts.retry, logger });
}
