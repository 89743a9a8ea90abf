import { ChecksumMismatchError, ConfigError, JobFailedError, type LmsErrorOptions } from '../errors.js';

/** What the storage errors carry besides the message: where and what. */
export interface StorageErrorContext extends LmsErrorOptions {
  /** The location in display form (never a credential). */
  location?: string;
  key?: string;
  operation?: StorageOperation;
}

export type StorageOperation = 'put' | 'get' | 'head' | 'list' | 'delete' | 'sweep';

/** The object is not there (exit 1: the job ran and what it needed was missing). */
export class StorageNotFoundError extends JobFailedError {
  readonly location: string | undefined;
  readonly key: string | undefined;
  constructor(message: string, ctx: StorageErrorContext = {}) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
  }
}

/** Create-only: the key already exists. We never overwrite a stored object. */
export class StorageConflictError extends JobFailedError {
  readonly location: string | undefined;
  readonly key: string | undefined;
  constructor(message: string, ctx: StorageErrorContext = {}) {
    super(message, {
      hint: 'an object with this name already exists and is never overwritten; choose a new name or delete the old object deliberately',
      ...ctx,
    });
    this.location = ctx.location;
    this.key = ctx.key;
  }
}

/** The conflict every backend reports when a create-only put finds the key taken. */
export function conflictError(location: string, key: string): StorageConflictError {
  return new StorageConflictError(`${location}: ${key} already exists`, { location, key, operation: 'put' });
}

/** The storage service rejected our credentials or permissions (exit 2: fix the configuration). */
export class StorageAuthError extends ConfigError {
  readonly location: string | undefined;
  constructor(message: string, ctx: StorageErrorContext = {}) {
    super(message, ctx);
    this.location = ctx.location;
  }
}

/** The location itself is wrong: a malformed URL, an unknown scheme, a missing bucket or container. */
export class StorageConfigError extends ConfigError {}

/** A key that is not a safe relative object name (absolute, `..`, backslash, control characters…). */
export class StorageKeyError extends ConfigError {}

/** Transient faults did not stop: the service is down or unreachable. */
export class StorageUnavailableError extends JobFailedError {
  readonly location: string | undefined;
  readonly key: string | undefined;
  readonly operation: StorageOperation | undefined;
  readonly attempts: number;
  constructor(message: string, ctx: StorageErrorContext & { attempts: number }) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
    this.operation = ctx.operation;
    this.attempts = ctx.attempts;
  }
}

/**
 * The destination stopped answering: nothing moved for the idle bound, and retries did not help
 * within the overall bound (LMS_BACKUP_STORAGE_TIMEOUT). A StorageUnavailableError, so callers
 * that handle "storage down" handle this too.
 */
export class StorageTimeoutError extends StorageUnavailableError {
  /** How long the destination had been silent when we gave up. */
  readonly silentMs: number;
  /** The overall bound in force. */
  readonly boundMs: number;
  constructor(
    message: string,
    ctx: StorageErrorContext & { attempts: number; silentMs: number; boundMs: number },
  ) {
    super(message, ctx);
    this.silentMs = ctx.silentMs;
    this.boundMs = ctx.boundMs;
  }
}

/** The stored object's size or SHA-256 differs from what was written or recorded. */
export class StorageIntegrityError extends ChecksumMismatchError {
  readonly location: string | undefined;
  readonly key: string | undefined;
  readonly expected: { size: number; sha256?: string };
  readonly actual: { size: number; sha256?: string };
  constructor(
    message: string,
    ctx: StorageErrorContext & {
      expected: { size: number; sha256?: string };
      actual: { size: number; sha256?: string };
    },
  ) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
    this.expected = ctx.expected;
    this.actual = ctx.actual;
  }
}

/**
 * Any other failed storage call. `transient` says whether trying again may help (network
 * errors, timeouts, HTTP 5xx and 429); the retry decorator retries only those.
 */
export class StorageRequestError extends JobFailedError {
  readonly transient: boolean;
  readonly status: number | undefined;
  readonly location: string | undefined;
  readonly operation: StorageOperation | undefined;
  constructor(message: string, ctx: StorageErrorContext & { transient: boolean; status?: number }) {
    super(message, ctx);
    this.transient = ctx.transient;
    this.status = ctx.status;
    this.location = ctx.location;
    this.operation = ctx.operation;
  }
}
