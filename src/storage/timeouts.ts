import { StorageConfigError } from './errors.js';

/**
 * How long a storage call may wait. One number is set by the user (`totalMs`, from
 * LMS_BACKUP_STORAGE_TIMEOUT); the others follow from it so that a destination that stops
 * answering fails the run within `totalMs`:
 *   - connectMs: TCP (and TLS) connection, DNS included;
 *   - firstByteMs: from the last byte of a request to the first byte of its answer (the server
 *     may be working; and bytes still in the kernel's send buffer drain unseen);
 *   - idleMs: no byte moving in either direction in the middle of a transfer (a server that
 *     stopped reading an upload, a download that stopped arriving while we were ready to read);
 *   - totalMs: how long the retry decorator keeps trying once the destination went silent.
 */
export interface StorageTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  totalMs: number;
}

export const STORAGE_TIMEOUT_ENV = 'LMS_BACKUP_STORAGE_TIMEOUT';
/** Seconds: three minutes, so a stopped destination fails a nightly run, never hangs it. */
export const DEFAULT_STORAGE_TIMEOUT_S = 180;

/** The timeouts that follow from one overall bound (milliseconds). */
export function storageTimeouts(totalMs: number): StorageTimeouts {
  const total = Math.max(1000, Math.round(totalMs));
  const idleMs = Math.max(250, Math.min(60_000, Math.floor(total / 4)));
  // Two waits for an answer fit in the bound: one attempt that stalls, and one retry.
  const firstByteMs = Math.max(idleMs, Math.min(120_000, Math.floor(total * 0.45)));
  const connectMs = Math.min(10_000, idleMs);
  return { connectMs, firstByteMs, idleMs, totalMs: total };
}

export const DEFAULT_STORAGE_TIMEOUTS = storageTimeouts(DEFAULT_STORAGE_TIMEOUT_S * 1000);

/** Reads LMS_BACKUP_STORAGE_TIMEOUT (seconds, at least 1); a bad value is a configuration error. */
export function storageTimeoutsFromEnv(env: NodeJS.ProcessEnv): StorageTimeouts {
  const raw = env[STORAGE_TIMEOUT_ENV]?.trim();
  if (!raw) return DEFAULT_STORAGE_TIMEOUTS;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) {
    throw new StorageConfigError(`${STORAGE_TIMEOUT_ENV}="${raw.slice(0, 40)}" is not a number of seconds`, {
      hint: `set it to the seconds a destination may stop answering before the run fails, from 1 to 86400 (default ${DEFAULT_STORAGE_TIMEOUT_S}); storage calls are never unbounded`,
    });
  }
  return storageTimeouts(seconds * 1000);
}

/** "2.5 s", "3 min": for messages. */
export function formatSeconds(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
