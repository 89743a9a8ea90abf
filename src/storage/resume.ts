/**
 * A download that survives its connection breaking off. A drill or a restore reads one large
 * object straight through; over a long-haul link a reset connection or a stall (guard.ts) half
 * way would otherwise throw away everything read so far and fail the run. Here the read goes
 * on from the last byte delivered, with a ranged get (`get(key, { offset })`), up to a few
 * times; the consumer sees one continuous stream. Nothing is trusted for it: whoever reads
 * hashes every byte and compares the whole with the manifest, as for any download.
 *
 * Only remote stores resume. A local file that fails to read does not read better the second
 * time, and a hung mount (fs-watch.ts) must not be asked again.
 */
import { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { formatBytes } from '../report/format.js';
import { StorageTimeoutError } from './errors.js';
import { classifyFault, describeFault } from './faults.js';
import type { Storage } from './types.js';

/** Resumes per download: each follows a break after which the store answered again. */
export const DOWNLOAD_RESUMES = 5;

/** A break worth reading on after: the connection dropped, or the bytes stopped arriving. */
function resumable(err: unknown): boolean {
  if (err instanceof StorageTimeoutError) return err.operation === 'get' && err.attempts === 1;
  return classifyFault(err).transient;
}

/** What broke, without the destination and key the warning names already. */
function describeBreak(err: unknown): string {
  return err instanceof StorageTimeoutError
    ? (/ failed: (.*)$/s.exec(err.message)?.[1] ?? err.message)
    : describeFault(classifyFault(err));
}

/**
 * `storage.get(key)`, resumed from where it broke off (at most `resumes` times). Errors of the
 * first get, and a break that is not a network one, reach the caller as they are.
 */
export async function resumingGet(
  storage: Storage,
  key: string,
  options: {
    logger?: Logger;
    resumes?: number;
    /** The object's size, when known: a break after its last byte is the end, not a resume. */
    size?: number;
  } = {},
): Promise<Readable> {
  const first = await storage.get(key);
  if (storage.kind === 'local') return first;
  const max = options.resumes ?? DOWNLOAD_RESUMES;
  let delivered = 0;
  let resumes = 0;
  let current = first;
  const out = new Readable({
    read() {
      current.resume();
    },
    destroy(err, callback) {
      current.destroy();
      callback(err);
    },
  });
  const onData = (chunk: Buffer) => {
    delivered += chunk.length;
    if (!out.push(chunk)) current.pause();
  };
  const onEnd = () => out.push(null);
  const onError = (err: unknown) => {
    if (out.destroyed) return;
    if (options.size !== undefined && delivered === options.size) {
      out.push(null);
      return;
    }
    if (resumes >= max || !resumable(err)) {
      out.destroy(err as Error);
      return;
    }
    resumes++;
    options.logger?.warn(
      `${storage.display}: the download of ${key} broke off after ${formatBytes(delivered)} (${describeBreak(err)}); reading on from there (${resumes}/${max})`,
    );
    storage.get(key, { offset: delivered }).then(
      (next) => {
        if (out.destroyed) {
          next.destroy();
          return;
        }
        attach(next);
      },
      // The store did not answer again: the break is what the caller needs to hear about.
      (again: unknown) => out.destroy(again instanceof Error ? again : (err as Error)),
    );
  };
  const attach = (source: Readable) => {
    // The broken stream is done with; a late error of its own changes nothing.
    current
      .off('data', onData)
      .off('end', onEnd)
      .off('error', onError)
      .on('error', () => {});
    current = source;
    source.on('data', onData).once('end', onEnd).on('error', onError);
  };
  first.on('data', onData).once('end', onEnd).on('error', onError);
  first.pause();
  return out;
}
