import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Bucket, type File, Storage as GcsClient, type StorageOptions } from '@google-cloud/storage';
import { LmsError } from '../errors.js';
import { type Logger, nullLogger } from '../log.js';
import {
  conflictError,
  StorageAuthError,
  StorageConfigError,
  StorageNotFoundError,
  type StorageOperation,
} from './errors.js';
import { httpStatusOf, toStorageError } from './faults.js';
import {
  downloadStalled,
  guardDownload,
  metadataDeadline,
  StallError,
  watchProgress,
  withDeadline,
} from './guard.js';
import { joinRoot, validateKey, validatePrefix } from './keys.js';
import { HashingStream, hashStream } from './source.js';
import { DEFAULT_STORAGE_TIMEOUTS, type StorageTimeouts } from './timeouts.js';
import type { GetOptions, PutSource, Storage, StoredObject } from './types.js';
import type { StorageLocation } from './url.js';
import { integrityError } from './verify.js';

export type GcsLocation = Extract<StorageLocation, { kind: 'gcs' }>;

export interface GcsStorageOptions {
  location: GcsLocation;
  display: string;
  /** Read for STORAGE_EMULATOR_HOST (default process.env). Credentials come from ADC. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Tries per HTTP request inside the SDK (default 3); whole operations are retried by withRetry. */
  requestAttempts?: number;
  /** Objects larger than this use a resumable upload sent in chunks of this size (default 8 MiB). */
  chunkSize?: number;
  /** Connect, idle and overall bounds (default: LMS_BACKUP_STORAGE_TIMEOUT's default). */
  timeouts?: StorageTimeouts;
}

interface ObjectMetadata {
  name?: string;
  size?: string | number;
  md5Hash?: string;
  updated?: string;
  generation?: string | number;
}

/**
 * Google Cloud Storage through its JSON API. Credentials: Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS, Workload Identity Federation set up by
 * google-github-actions/auth, gcloud, the metadata server). A custom endpoint (?endpoint= or
 * STORAGE_EMULATOR_HOST) over plain http is taken for an emulator and used without credentials.
 */
export class GcsStorage implements Storage {
  readonly kind = 'gcs' as const;
  readonly display: string;
  readonly bucket: Bucket;
  private readonly prefix: string;
  private readonly chunkSize: number;
  private readonly logger: Logger;
  readonly timeouts: StorageTimeouts;

  constructor(opts: GcsStorageOptions) {
    const loc = opts.location;
    const env = opts.env ?? process.env;
    this.display = opts.display;
    this.timeouts = opts.timeouts ?? DEFAULT_STORAGE_TIMEOUTS;
    this.prefix = loc.prefix;
    this.logger = opts.logger ?? nullLogger;
    // Resumable chunks must be multiples of 256 KiB.
    this.chunkSize = Math.max(
      256 * 1024,
      Math.ceil((opts.chunkSize ?? 8 * 1024 * 1024) / (256 * 1024)) * 256 * 1024,
    );
    const attempts = Math.max(1, opts.requestAttempts ?? 3);
    const endpoint = loc.endpoint ?? emulatorHost(env.STORAGE_EMULATOR_HOST);
    const options: StorageOptions = {
      // A backstop per request, up to the first byte of the answer (the SDK turns it off for
      // uploads): longer than our own deadlines, so those decide and say what stalled.
      timeout: metadataDeadline(this.timeouts) + 1000,
      retryOptions: {
        autoRetry: attempts > 1,
        maxRetries: attempts - 1,
        retryDelayMultiplier: 2,
        maxRetryDelay: 2,
        totalTimeout: 300,
      },
      ...(endpoint
        ? { apiEndpoint: endpoint, useAuthWithCustomEndpoint: endpoint.startsWith('https:') }
        : {}),
      ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
    };
    // The SDK's requests go through its own agents (teeny-request's pool, gaxios): the
    // timeout above, guardDownload, withDeadline and the progress watch in put bound them.
    const client = new GcsClient(options);
    this.bucket = client.bucket(loc.bucket);
  }

  /** A call that moves no data, bounded (the SDK takes no abort signal). */
  private call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withDeadline(metadataDeadline(this.timeouts), `${this.display} (${what})`, () => fn());
  }

  private file(key: string, generation?: string | number): File {
    const name = joinRoot(this.prefix, validateKey(key));
    return generation === undefined ? this.bucket.file(name) : this.bucket.file(name, { generation });
  }

  async put(key: string, source: PutSource): Promise<StoredObject> {
    const file = this.file(key);
    try {
      // ifGenerationMatch=0 is what makes create-only atomic; the existence check only
      // saves sending a large object that would be refused at the end.
      const resumable = source.size > this.chunkSize;
      if (resumable && (await this.call('exists', () => file.exists()))[0])
        throw conflictError(this.display, key);
      const sent = new HashingStream({ md5: true });
      const upload = file.createWriteStream({
        resumable,
        ...(resumable ? { chunkSize: this.chunkSize } : {}),
        // We check the MD5 the service computed against our own below.
        validation: false,
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: 'application/octet-stream', metadata: { sha256: source.sha256 } },
      });
      // The SDK's requests go through its own agents: watch what it takes from us, then its
      // answer. A resumable upload takes a whole chunk before sending it, so there the wait
      // allowed is the first-byte bound (a chunk must go out within it: 8 MiB in 81 s by default).
      const stopWatching = watchProgress(
        () => sent.bytes + (upload.writableFinished ? 1 : 0),
        () => (sent.bytes < source.size && !resumable ? this.timeouts.idleMs : this.timeouts.firstByteMs),
        (waited) =>
          upload.destroy(new StallError(sent.bytes < source.size ? 'send' : 'answer', waited, this.display)),
      );
      try {
        await pipeline(source.open(), sent, upload);
      } finally {
        stopWatching();
      }
      const wrote = sent.result();
      const meta = file.metadata as ObjectMetadata;
      if (wrote.size !== source.size || wrote.sha256 !== source.sha256) {
        await this.deleteQuietly(file, meta.generation);
        throw integrityError(this.display, key, source, wrote, 'data read for');
      }
      const storedSize = Number(meta.size);
      if (
        meta.md5Hash &&
        wrote.md5 &&
        meta.md5Hash === wrote.md5.toString('base64') &&
        storedSize === source.size
      ) {
        this.logger.debug(`${this.display}: stored ${key}, confirmed by the service's MD5`);
      } else {
        // No MD5 from the service (composite or customer-encrypted objects): read it back.
        const stored = await hashStream(await this.openRead(file.name, meta.generation, key));
        if (stored.size !== source.size || stored.sha256 !== source.sha256) {
          await this.deleteQuietly(file, meta.generation);
          throw integrityError(this.display, key, source, stored);
        }
      }
      return { key, size: source.size, ...(meta.updated ? { lastModified: new Date(meta.updated) } : {}) };
    } catch (err) {
      throw this.mapError('put', key, err);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const file = this.file(key);
    try {
      // The read stream reports a missing object only once read: ask first, then read
      // exactly that generation.
      const [meta] = (await this.call('head', () => file.getMetadata())) as unknown as [ObjectMetadata];
      return await this.openRead(file.name, meta.generation, key, options.offset ?? 0);
    } catch (err) {
      throw this.mapError('get', key, err);
    }
  }

  private async openRead(
    name: string,
    generation: string | number | undefined,
    key: string,
    offset = 0,
  ): Promise<Readable> {
    const file = generation === undefined ? this.bucket.file(name) : this.bucket.file(name, { generation });
    // Callers hash what they read (SHA-256); the SDK's CRC32C pass would only repeat that.
    const stream = file.createReadStream({ validation: false, ...(offset ? { start: offset } : {}) });
    return guardDownload(
      stream instanceof Readable ? stream : Readable.from(stream),
      this.timeouts.idleMs,
      (waited) => downloadStalled(this.display, key, waited, this.timeouts),
    );
  }

  async head(key: string): Promise<StoredObject | null> {
    const file = this.file(key);
    try {
      const [meta] = (await this.call('head', () => file.getMetadata())) as unknown as [ObjectMetadata];
      return {
        key,
        size: Number(meta.size ?? 0),
        ...(meta.updated ? { lastModified: new Date(meta.updated) } : {}),
      };
    } catch (err) {
      if (httpStatusOf(err) === 404 && !isBucketMissing(err)) return null;
      throw this.mapError('head', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    validatePrefix(prefix);
    const root = this.prefix ? `${this.prefix}/` : '';
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        const token = pageToken;
        [files, next] = (await this.call('list', () =>
          this.bucket.getFiles({
            prefix: root + prefix,
            autoPaginate: false,
            maxResults: 1000,
            ...(token ? { pageToken: token } : {}),
          }),
        )) as unknown as [File[], { pageToken?: string } | null];
      } catch (err) {
        throw this.mapError('list', prefix, err);
      }
      for (const f of files) {
        if (!f.name.startsWith(root)) continue;
        const meta = f.metadata as ObjectMetadata;
        yield {
          key: f.name.slice(root.length),
          size: Number(meta.size ?? 0),
          ...(meta.updated ? { lastModified: new Date(meta.updated) } : {}),
        };
      }
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async delete(key: string): Promise<void> {
    try {
      await this.call('delete', () => this.file(key).delete({ ignoreNotFound: true }));
    } catch (err) {
      throw this.mapError('delete', key, err);
    }
  }

  private async deleteQuietly(file: File, generation: string | number | undefined): Promise<void> {
    await this.call('delete', () =>
      file.delete(generation === undefined ? {} : { ifGenerationMatch: generation }),
    ).catch((err) =>
      this.logger.warn(`${this.display}: could not remove ${file.name} after a failed check: ${err}`),
    );
  }

  private mapError(operation: StorageOperation, key: string, err: unknown): Error {
    if (err instanceof LmsError) return err;
    const status = httpStatusOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (status === 404 && isBucketMissing(err)) {
      return new StorageConfigError(`${this.display}: bucket "${this.bucket.name}" does not exist`, {
        cause: err,
        hint: `create it first (gcloud storage buckets create gs://${this.bucket.name}) or fix the location`,
      });
    }
    if (operation === 'put' && (status === 412 || status === 409)) return conflictError(this.display, key);
    if (operation === 'get' && status === 404) {
      return new StorageNotFoundError(`${this.display}: ${key} does not exist`, {
        location: this.display,
        key,
        operation,
        cause: err,
      });
    }
    if (/default credentials|Could not load the default|invalid_grant|unable to impersonate/i.test(message)) {
      return new StorageAuthError(
        `${this.display}: no usable Google credentials (${message.split('\n')[0]})`,
        {
          location: this.display,
          operation,
          cause: err,
          hint: 'set GOOGLE_APPLICATION_CREDENTIALS, or run google-github-actions/auth (Workload Identity Federation) before this step',
        },
      );
    }
    return toStorageError(err, {
      display: this.display,
      operation,
      key,
      authHint: `Cloud Storage refused the Application Default Credentials: check GOOGLE_APPLICATION_CREDENTIALS or the google-github-actions/auth step, and that the identity has roles/storage.objectAdmin (or objectCreator + objectViewer + delete) on bucket "${this.bucket.name}"`,
    });
  }
}

function isBucketMissing(err: unknown): boolean {
  return /bucket does not exist|bucket.*not found/i.test(err instanceof Error ? err.message : String(err));
}

/** STORAGE_EMULATOR_HOST may be "host:port" or a URL. */
function emulatorHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const url = /^https?:\/\//.test(value) ? value : `http://${value}`;
  return url.replace(/\/storage\/v1\/?$/, '').replace(/\/+$/, '');
}
