import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LmsError } from '../errors.js';
import { type Logger, nullLogger } from '../log.js';
import {
  conflictError,
  StorageAuthError,
  StorageConfigError,
  StorageNotFoundError,
  type StorageOperation,
} from './errors.js';
import { errorCodeOf, httpStatusOf, toStorageError } from './faults.js';
import {
  downloadStalled,
  type GuardedHttpAgent,
  type GuardedHttpsAgent,
  guardDownload,
  guardedAgents,
  isStall,
  metadataDeadline,
  withDeadline,
} from './guard.js';
import { joinRoot, validateKey, validatePrefix } from './keys.js';
import { HashingStream, hashStream, readAll } from './source.js';
import { DEFAULT_STORAGE_TIMEOUTS, type StorageTimeouts } from './timeouts.js';
import type { GetOptions, PutSource, Storage, StoredObject, SweepResult } from './types.js';
import type { StorageLocation } from './url.js';
import { integrityError } from './verify.js';

export type S3Location = Extract<StorageLocation, { kind: 's3' }>;

export interface S3StorageOptions {
  location: S3Location;
  display: string;
  /** Where credentials, region and endpoint are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Tries per HTTP request inside the SDK (default 3); whole operations are retried by withRetry. */
  requestAttempts?: number;
  /** Multipart part size (default 8 MiB, minimum 5 MiB). Objects up to one part use a single PUT. */
  partSize?: number;
  /** Parts in flight (default 4). Memory ≈ partSize × concurrency. */
  concurrency?: number;
  /** Connect, idle and overall bounds (default: LMS_BACKUP_STORAGE_TIMEOUT's default). */
  timeouts?: StorageTimeouts;
}

/** How a put was confirmed; logged at debug level. */
type Confirmation = 'x-amz-checksum-sha256' | 'etag-md5' | 'read-back';

/**
 * Amazon S3 and S3-compatible stores. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
 * (+AWS_SESSION_TOKEN) from `env`, else the SDK's default chain (profiles, web identity from
 * aws-actions/configure-aws-credentials, instance roles). Region: ?region=, AWS_REGION,
 * AWS_DEFAULT_REGION. Endpoint: ?endpoint=, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL.
 *
 * Checksums are computed only when an operation requires them: with the SDK's default
 * ("when supported") a streamed PutObject uses aws-chunked framing with trailing checksums,
 * which several S3-compatible stores (s3rver among them) store verbatim inside the object.
 */
export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  readonly display: string;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly concurrency: number;
  private readonly serverChecksum: boolean;
  private readonly logger: Logger;
  private readonly credentialSource: string;
  readonly timeouts: StorageTimeouts;
  private readonly agents: { http: GuardedHttpAgent; https: GuardedHttpsAgent };

  constructor(opts: S3StorageOptions) {
    const loc = opts.location;
    const env = opts.env ?? process.env;
    this.display = opts.display;
    this.bucket = loc.bucket;
    this.prefix = loc.prefix;
    this.partSize = Math.max(5 * 1024 * 1024, opts.partSize ?? 8 * 1024 * 1024);
    this.concurrency = opts.concurrency ?? 4;
    this.serverChecksum = loc.serverChecksum ?? true;
    this.logger = opts.logger ?? nullLogger;
    this.timeouts = opts.timeouts ?? DEFAULT_STORAGE_TIMEOUTS;
    this.agents = guardedAgents(this.timeouts);
    const endpoint = loc.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const region =
      loc.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined);
    const config: S3ClientConfig = {
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: Math.max(1, opts.requestAttempts ?? 3),
      // Our agents bound every request (connect, first byte, idle both ways): the SDK's own
      // requestTimeout only logs a warning unless throwOnRequestTimeout is set.
      requestHandler: {
        httpAgent: this.agents.http,
        httpsAgent: this.agents.https,
        connectionTimeout: this.timeouts.connectMs,
      },
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
      ...(loc.forcePathStyle !== undefined ? { forcePathStyle: loc.forcePathStyle } : {}),
    };
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      };
      this.credentialSource = 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
    } else {
      this.credentialSource =
        'the default AWS credential chain (AWS_PROFILE, web identity from aws-actions/configure-aws-credentials, instance role)';
    }
    this.client = new S3Client(config);
  }

  private name(key: string): string {
    return joinRoot(this.prefix, validateKey(key));
  }

  /** A call that moves no data, bounded even if the agent's guard were bypassed. */
  private send<T>(what: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(metadataDeadline(this.timeouts), `${this.display} (${what})`, fn);
  }

  private body(key: string, body: unknown): Readable {
    // The SDK's stream mixin on other runtimes: adapt to a Node stream.
    const stream = body instanceof Readable ? body : Readable.from((body as AsyncIterable<Uint8Array>) ?? []);
    return guardDownload(stream, this.timeouts.idleMs, (waited) =>
      downloadStalled(this.display, key, waited, this.timeouts),
    );
  }

  async put(key: string, source: PutSource): Promise<StoredObject> {
    const Key = this.name(key);
    try {
      // Checked first because stores without conditional writes (s3rver, older S3-compatibles)
      // ignore If-None-Match; where it is honoured, it closes the race this check leaves open.
      if (await this.exists(Key)) throw conflictError(this.display, key);
      const common = {
        Bucket: this.bucket,
        Key,
        ContentType: 'application/octet-stream',
        Metadata: { sha256: source.sha256 },
        IfNoneMatch: '*',
      };
      let confirmation: Confirmation;
      if (source.size <= this.partSize) {
        confirmation = await this.putSingle(key, source, common);
      } else {
        confirmation = await this.putMultipart(key, source, common);
      }
      if (confirmation === 'read-back') await this.confirmByReadBack(key, Key, source);
      this.logger.debug(
        `${this.display}: stored ${key} (${source.size} bytes), confirmed by ${confirmation}`,
      );
      return { key, size: source.size };
    } catch (err) {
      throw this.mapError('put', key, err);
    }
  }

  /** Up to one part: buffered (so the SDK can retry it), one PutObject with a SHA-256 the service checks. */
  private async putSingle(
    key: string,
    source: PutSource,
    common: {
      Bucket: string;
      Key: string;
      ContentType: string;
      Metadata: Record<string, string>;
      IfNoneMatch: string;
    },
  ): Promise<Confirmation> {
    const body = await readAll(source.open());
    const sha = createHash('sha256').update(body).digest();
    if (body.length !== source.size || sha.toString('hex') !== source.sha256) {
      throw integrityError(
        this.display,
        key,
        source,
        { size: body.length, sha256: sha.toString('hex') },
        'data read for',
      );
    }
    const sha64 = sha.toString('base64');
    const res = await this.client.send(
      new PutObjectCommand({
        ...common,
        Body: body,
        ContentLength: body.length,
        ...(this.serverChecksum ? { ChecksumSHA256: sha64 } : {}),
      }),
    );
    if (res.ChecksumSHA256 === sha64) return 'x-amz-checksum-sha256';
    const md5 = createHash('md5').update(body).digest('hex');
    return etagOf(res.ETag) === md5 ? 'etag-md5' : 'read-back';
  }

  /** More than one part: streamed through lib-storage's Upload; a failed upload is aborted. */
  private async putMultipart(
    key: string,
    source: PutSource,
    common: {
      Bucket: string;
      Key: string;
      ContentType: string;
      Metadata: Record<string, string>;
      IfNoneMatch: string;
    },
  ): Promise<Confirmation> {
    const hasher = new HashingStream({ md5: true });
    const parts = new PartMd5(this.partSize);
    const input = source.open();
    input.once('error', (err) => hasher.destroy(err));
    hasher.once('error', (err) => parts.destroy(err));
    const body = input.pipe(hasher).pipe(parts);
    const upload = new Upload({
      client: this.client,
      params: { ...common, Body: body, ContentLength: source.size },
      partSize: this.partSize,
      queueSize: this.concurrency,
      // We abort ourselves: lib-storage would also send its abort to a store that stopped
      // answering and wait for it unbounded by our retry budget.
      leavePartsOnError: true,
    });
    let res: Awaited<ReturnType<Upload['done']>>;
    try {
      res = await upload.done();
    } catch (err) {
      input.destroy();
      await this.abortUpload(upload, common.Key, isStall(err));
      throw err;
    }
    const sent = hasher.result();
    if (sent.size !== source.size || sent.sha256 !== source.sha256) {
      await this.deleteQuietly(common.Key);
      throw integrityError(this.display, key, source, sent, 'data read for');
    }
    // S3's multipart ETag is md5(part md5s)-N; some compatible stores use the plain MD5.
    const etag = etagOf('ETag' in res ? res.ETag : undefined);
    const composite = parts.composite();
    return etag && (etag === composite || etag === sent.md5?.toString('hex')) ? 'etag-md5' : 'read-back';
  }

  /**
   * Aborts a failed multipart upload, and says so when it cannot. After a stall, one short try:
   * a store that stopped answering will not answer this either, and prune sweeps what is left.
   */
  private async abortUpload(upload: Upload, Key: string, stalled = false): Promise<void> {
    const uploadId = (upload as unknown as { uploadId?: string }).uploadId;
    if (!uploadId) return;
    const tries = stalled ? 1 : 3;
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        await withDeadline(
          stalled ? Math.min(5000, this.timeouts.connectMs) : metadataDeadline(this.timeouts),
          `${this.display} (abort multipart upload)`,
          (abortSignal) =>
            this.client.send(
              new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }),
              {
                abortSignal,
              },
            ),
        );
        return;
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === 404 || errorCodeOf(err) === 'NoSuchUpload') return;
        if (attempt === tries) {
          this.logger.warn(
            `${this.display}: could not abort multipart upload ${uploadId} of ${Key} (${(err as Error).message}); prune removes it later (or add a lifecycle rule "AbortIncompleteMultipartUpload")`,
          );
        }
      }
    }
  }

  async sweepIncomplete(olderThan: Date, dryRun: boolean): Promise<SweepResult> {
    const root = this.prefix ? `${this.prefix}/` : '';
    const result: SweepResult = { found: [], removed: 0 };
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      do {
        const page: ListMultipartUploadsCommandOutput = await this.send(
          'list multipart uploads',
          (abortSignal) =>
            this.client.send(
              new ListMultipartUploadsCommand({
                Bucket: this.bucket,
                Prefix: root,
                ...(KeyMarker ? { KeyMarker } : {}),
                ...(UploadIdMarker ? { UploadIdMarker } : {}),
              }),
              { abortSignal },
            ),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key?.startsWith(root) || !u.UploadId) continue;
          if (u.Initiated && u.Initiated >= olderThan) continue;
          const key = u.Key.slice(root.length);
          result.found.push({
            key,
            ...(u.Initiated ? { startedAt: u.Initiated } : {}),
            detail: `incomplete multipart upload ${u.UploadId}`,
          });
          if (dryRun) continue;
          const UploadId = u.UploadId;
          const Key = u.Key;
          await this.send('abort multipart upload', (abortSignal) =>
            this.client
              .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }), { abortSignal })
              .catch((err: unknown) => {
                if (httpStatusOf(err) !== 404 && errorCodeOf(err) !== 'NoSuchUpload') throw err;
              }),
          );
          result.removed++;
        }
        KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker);
    } catch (err) {
      throw this.mapError('sweep', 'incomplete multipart uploads', err);
    }
    return result;
  }

  private async confirmByReadBack(key: string, Key: string, source: PutSource): Promise<void> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
    const stored = await hashStream(this.body(key, res.Body));
    if (stored.size !== source.size || stored.sha256 !== source.sha256) {
      await this.deleteQuietly(Key);
      throw integrityError(this.display, key, source, stored);
    }
  }

  private async exists(Key: string): Promise<boolean> {
    try {
      await this.send('head', (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }),
      );
      return true;
    } catch (err) {
      if (httpStatusOf(err) === 404) return false;
      throw err;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    try {
      const Key = this.name(key);
      const Range = options.offset ? `bytes=${options.offset}-` : undefined;
      const res = await this.send('get', (abortSignal) =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(Range ? { Range } : {}) }), {
          abortSignal,
        }),
      );
      return this.body(key, res.Body);
    } catch (err) {
      throw this.mapError('get', key, err);
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const Key = this.name(key);
      const res = await this.send('head', (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }),
      );
      return {
        key,
        size: res.ContentLength ?? 0,
        ...(res.LastModified ? { lastModified: res.LastModified } : {}),
      };
    } catch (err) {
      if (httpStatusOf(err) === 404) return null;
      throw this.mapError('head', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    validatePrefix(prefix);
    const root = this.prefix ? `${this.prefix}/` : '';
    let ContinuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        const token = ContinuationToken;
        page = await this.send('list', (abortSignal) =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: root + prefix,
              MaxKeys: 1000,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            { abortSignal },
          ),
        );
      } catch (err) {
        throw this.mapError('list', prefix, err);
      }
      for (const item of page.Contents ?? []) {
        if (!item.Key?.startsWith(root)) continue;
        yield {
          key: item.Key.slice(root.length),
          size: item.Size ?? 0,
          ...(item.LastModified ? { lastModified: item.LastModified } : {}),
        };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async delete(key: string): Promise<void> {
    try {
      // S3 answers 204 whether or not the key existed.
      const Key = this.name(key);
      await this.send('delete', (abortSignal) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }),
      );
    } catch (err) {
      if (httpStatusOf(err) === 404 && errorCodeOf(err) !== 'NoSuchBucket') return;
      throw this.mapError('delete', key, err);
    }
  }

  private async deleteQuietly(Key: string): Promise<void> {
    await this.send('delete', (abortSignal) =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }), { abortSignal }),
    ).catch((err) =>
      this.logger.warn(`${this.display}: could not remove ${Key} after a failed check: ${err}`),
    );
  }

  private mapError(operation: StorageOperation, key: string, err: unknown): Error {
    if (err instanceof LmsError) return err;
    const status = httpStatusOf(err);
    const code = errorCodeOf(err) ?? (err instanceof Error ? err.name : undefined);
    const message = err instanceof Error ? err.message : String(err);
    if (code === 'NoSuchBucket') {
      return new StorageConfigError(`${this.display}: bucket "${this.bucket}" does not exist`, {
        cause: err,
        hint: `create it first (aws s3 mb s3://${this.bucket}) or fix the location`,
      });
    }
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301) {
      return new StorageConfigError(
        `${this.display}: bucket "${this.bucket}" is in another region (${message})`,
        {
          cause: err,
          hint: "set the bucket's region: ?region=<region> in the location or AWS_REGION",
        },
      );
    }
    if (/region is missing/i.test(message)) {
      return new StorageConfigError(`${this.display}: no AWS region configured`, {
        cause: err,
        hint: 'add ?region=<region> to the location or set AWS_REGION',
      });
    }
    if (operation === 'put' && (status === 412 || status === 409 || code === 'PreconditionFailed')) {
      return conflictError(this.display, key);
    }
    if (operation === 'get' && (status === 404 || code === 'NoSuchKey')) {
      return new StorageNotFoundError(`${this.display}: ${key} does not exist`, {
        location: this.display,
        key,
        operation,
        cause: err,
      });
    }
    if (code === 'CredentialsProviderError') {
      return new StorageAuthError(`${this.display}: no AWS credentials found (${message.split('\n')[0]})`, {
        location: this.display,
        operation,
        cause: err,
        hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run aws-actions/configure-aws-credentials (OIDC) before this step',
      });
    }
    return toStorageError(err, {
      display: this.display,
      operation,
      key,
      authHint: `S3 refused the credentials from ${this.credentialSource}: check they are current, and that they allow s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload on bucket "${this.bucket}"`,
    });
  }
}

function etagOf(etag: string | undefined): string | undefined {
  return etag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
}

/** MD5 of each part-sized slice of the stream, to predict S3's multipart ETag. */
class PartMd5 extends Transform {
  private readonly md5s: Buffer[] = [];
  private current: Hash = createHash('md5');
  private inPart = 0;

  constructor(private readonly partSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.partSize - this.inPart);
      this.current.update(chunk.subarray(offset, offset + take));
      this.inPart += take;
      offset += take;
      if (this.inPart === this.partSize) {
        this.md5s.push(this.current.digest());
        this.current = createHash('md5');
        this.inPart = 0;
      }
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.inPart > 0) this.md5s.push(this.current.digest());
    cb();
  }

  composite(): string {
    return `${createHash('md5').update(Buffer.concat(this.md5s)).digest('hex')}-${this.md5s.length}`;
  }
}
