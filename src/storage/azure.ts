import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import {
  AnonymousCredential,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  newPipeline,
  type Pipeline,
  type RequestPolicy,
  type RequestPolicyFactory,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
  type WebResource,
} from '@azure/storage-blob';
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
import { downloadStalled, guardDownload, guardedAgents, metadataDeadline, withDeadline } from './guard.js';
import { joinRoot, validateKey, validatePrefix } from './keys.js';
import { HashingStream, hashStream, readAll } from './source.js';
import { DEFAULT_STORAGE_TIMEOUTS, type StorageTimeouts } from './timeouts.js';
import type { GetOptions, PutSource, Storage, StoredObject } from './types.js';
import type { StorageLocation } from './url.js';
import { integrityError } from './verify.js';

export type AzureLocation = Extract<StorageLocation, { kind: 'azure' }>;

export interface AzureStorageOptions {
  location: AzureLocation;
  display: string;
  /** Where credentials are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Tries per HTTP request inside the SDK (default 3); whole operations are retried by withRetry. */
  requestAttempts?: number;
  /** Block size for streaming uploads (default 4 MiB). Memory ≈ blockSize × concurrency. */
  blockSize?: number;
  /** Blocks in flight (default 4). */
  concurrency?: number;
  /** Connect, idle and overall bounds (default: LMS_BACKUP_STORAGE_TIMEOUT's default). */
  timeouts?: StorageTimeouts;
}

/**
 * Azure Blob Storage. Credentials, first match wins: a SAS token in the location URL,
 * AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY, else
 * DefaultAzureCredential (azure/login with OIDC, managed identity, Azure CLI, AZURE_CLIENT_ID…).
 */
export class AzureStorage implements Storage {
  readonly kind = 'azure' as const;
  readonly display: string;
  readonly container: ContainerClient;
  /** Which credential is in use, for error hints (never the secret itself). */
  readonly credentialSource: string;
  private readonly prefix: string;
  private readonly blockSize: number;
  private readonly concurrency: number;
  private readonly logger: Logger;
  readonly timeouts: StorageTimeouts;

  constructor(opts: AzureStorageOptions) {
    const loc = opts.location;
    this.display = opts.display;
    this.timeouts = opts.timeouts ?? DEFAULT_STORAGE_TIMEOUTS;
    this.prefix = loc.prefix;
    this.blockSize = opts.blockSize ?? 4 * 1024 * 1024;
    this.concurrency = opts.concurrency ?? 4;
    this.logger = opts.logger ?? nullLogger;
    const pipeline: StoragePipelineOptions = {
      retryOptions: {
        maxTries: Math.max(1, opts.requestAttempts ?? 3),
        retryDelayInMs: 200,
        maxRetryDelayInMs: 2000,
      },
      userAgentOptions: { userAgentPrefix: 'lms-backup' },
    };
    const { service, source } = azureServiceClient(
      loc,
      opts.env ?? process.env,
      pipeline,
      this.display,
      this.timeouts,
    );
    this.container = service.getContainerClient(loc.container);
    this.credentialSource = source;
  }

  private name(key: string): string {
    return joinRoot(this.prefix, validateKey(key));
  }

  /** A call that moves no data, bounded even if the agent's guard were bypassed. */
  private call<T>(what: string, fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(metadataDeadline(this.timeouts), `${this.display} (${what})`, fn);
  }

  private body(key: string, body: NodeJS.ReadableStream | undefined): Readable {
    return guardDownload(body as Readable, this.timeouts.idleMs, (waited) =>
      downloadStalled(this.display, key, waited, this.timeouts),
    );
  }

  async put(key: string, source: PutSource): Promise<StoredObject> {
    const blob = this.container.getBlockBlobClient(this.name(key));
    try {
      // The conditional commit (If-None-Match: *) is what makes create-only hold; the
      // existence check only saves sending a large object that would be refused at the end.
      if (
        source.size > this.blockSize &&
        (await this.call('exists', (abortSignal) => blob.exists({ abortSignal })))
      )
        throw conflictError(this.display, key);
      if (source.size <= this.blockSize) return await this.putSmall(key, blob, source);
      const sent = new HashingStream();
      const input = source.open();
      input.once('error', (err) => sent.destroy(err));
      input.pipe(sent);
      await blob.uploadStream(sent, this.blockSize, this.concurrency, {
        conditions: { ifNoneMatch: '*' },
        metadata: { sha256: source.sha256 },
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      });
      const wrote = sent.result();
      if (wrote.size !== source.size || wrote.sha256 !== source.sha256) {
        await this.deleteQuietly(blob.name);
        throw integrityError(this.display, key, source, wrote, 'data read for');
      }
      // Azure keeps no SHA-256 of a block blob: confirm by reading it back.
      const download = await this.call('get', (abortSignal) => blob.download(0, undefined, { abortSignal }));
      const stored = await hashStream(this.body(key, download.readableStreamBody));
      if (stored.size !== source.size || stored.sha256 !== source.sha256) {
        await this.deleteQuietly(blob.name);
        throw integrityError(this.display, key, source, stored);
      }
      return {
        key,
        size: stored.size,
        ...(download.lastModified ? { lastModified: download.lastModified } : {}),
      };
    } catch (err) {
      throw this.mapError('put', key, err);
    }
  }

  /**
   * Up to one block: one Put Blob with Content-MD5. The service checks the MD5 against the
   * bytes it received and stores it, which confirms the stored bytes without reading them back.
   */
  private async putSmall(key: string, blob: BlockBlobClient, source: PutSource): Promise<StoredObject> {
    const body = await readAll(source.open());
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (body.length !== source.size || sha256 !== source.sha256) {
      throw integrityError(this.display, key, source, { size: body.length, sha256 }, 'data read for');
    }
    const md5 = createHash('md5').update(body).digest();
    const res = await blob.upload(body, body.length, {
      conditions: { ifNoneMatch: '*' },
      metadata: { sha256: source.sha256 },
      blobHTTPHeaders: { blobContentType: 'application/octet-stream', blobContentMD5: md5 },
    });
    if (!res.contentMD5 || !Buffer.from(res.contentMD5).equals(md5)) {
      const download = await this.call('get', (abortSignal) => blob.download(0, undefined, { abortSignal }));
      const stored = await hashStream(this.body(key, download.readableStreamBody));
      if (stored.size !== source.size || stored.sha256 !== source.sha256) {
        await this.deleteQuietly(blob.name);
        throw integrityError(this.display, key, source, stored);
      }
    }
    return { key, size: body.length, ...(res.lastModified ? { lastModified: res.lastModified } : {}) };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const blob = this.container.getBlobClient(this.name(key));
    try {
      const download = await this.call('get', (abortSignal) =>
        blob.download(options.offset ?? 0, undefined, { abortSignal }),
      );
      return this.body(key, download.readableStreamBody);
    } catch (err) {
      throw this.mapError('get', key, err);
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    const blob = this.container.getBlobClient(this.name(key));
    try {
      const props = await this.call('head', (abortSignal) => blob.getProperties({ abortSignal }));
      return {
        key,
        size: props.contentLength ?? 0,
        ...(props.lastModified ? { lastModified: props.lastModified } : {}),
      };
    } catch (err) {
      if (httpStatusOf(err) === 404) return null;
      throw this.mapError('head', key, err);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    validatePrefix(prefix);
    const root = this.prefix ? `${this.prefix}/` : '';
    try {
      const pages = this.container.listBlobsFlat({ prefix: root + prefix }).byPage({ maxPageSize: 1000 });
      for (;;) {
        const next = await this.call('list', () => pages.next());
        if (next.done) break;
        for (const item of next.value.segment.blobItems) {
          yield {
            key: item.name.slice(root.length),
            size: item.properties.contentLength ?? 0,
            lastModified: item.properties.lastModified,
          };
        }
      }
    } catch (err) {
      throw this.mapError('list', prefix, err);
    }
  }

  async delete(key: string): Promise<void> {
    const blob = this.container.getBlobClient(this.name(key));
    try {
      await this.call('delete', (abortSignal) =>
        blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal }),
      );
    } catch (err) {
      throw this.mapError('delete', key, err);
    }
  }

  private async deleteQuietly(name: string): Promise<void> {
    await this.call('delete', (abortSignal) =>
      this.container.getBlobClient(name).deleteIfExists({ abortSignal }),
    ).catch((err) =>
      this.logger.warn(`${this.display}: could not remove ${name} after a failed check: ${err}`),
    );
  }

  private mapError(operation: StorageOperation, key: string, err: unknown): Error {
    if (err instanceof LmsError) return err;
    const status = httpStatusOf(err);
    const code = errorCodeOf(err);
    if (code === 'ContainerNotFound') {
      return new StorageConfigError(
        `${this.display}: container "${this.container.containerName}" does not exist in account "${this.container.accountName}"`,
        {
          cause: err,
          hint: `create it first (az storage container create --name ${this.container.containerName} --account-name ${this.container.accountName}) or fix the location`,
        },
      );
    }
    if (operation === 'put' && (status === 409 || status === 412)) return conflictError(this.display, key);
    if (operation === 'get' && status === 404) {
      return new StorageNotFoundError(`${this.display}: ${key} does not exist`, {
        location: this.display,
        key,
        operation,
        cause: err,
      });
    }
    const name = err instanceof Error ? err.name : '';
    if (
      name === 'CredentialUnavailableError' ||
      name === 'AuthenticationRequiredError' ||
      name === 'AggregateAuthenticationError'
    ) {
      return new StorageAuthError(
        `${this.display}: no usable Azure credential (${(err as Error).message.split('\n')[0]})`,
        {
          location: this.display,
          operation,
          cause: err,
          hint: 'set AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_KEY, or sign in first (azure/login with OIDC, az login, managed identity)',
        },
      );
    }
    return toStorageError(err, {
      display: this.display,
      operation,
      key,
      authHint: `Azure refused the credential from ${this.credentialSource}: check that it is current and allows read, write, list and delete on container "${this.container.containerName}" (with Entra ID / OIDC the identity needs the "Storage Blob Data Contributor" role)`,
    });
  }
}

/** Builds the service client from the location and the environment; names the credential used. */
export function azureServiceClient(
  loc: AzureLocation,
  env: NodeJS.ProcessEnv,
  options: StoragePipelineOptions,
  display: string,
  timeouts: StorageTimeouts = DEFAULT_STORAGE_TIMEOUTS,
): { service: BlobServiceClient; source: string } {
  const endpoint = loc.endpoint ?? `https://${loc.account}.blob.core.windows.net`;
  const pipeline = (credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential) =>
    guardedPipeline(credential, options, timeouts);
  if (loc.sas) {
    return {
      service: new BlobServiceClient(`${endpoint}?${loc.sas}`, pipeline(new AnonymousCredential())),
      source: 'the SAS token in the location URL',
    };
  }
  const connectionString = env.AZURE_STORAGE_CONNECTION_STRING?.trim();
  if (connectionString) {
    if (loc.endpoint) {
      throw new StorageConfigError(
        `${display}: both ?endpoint= and AZURE_STORAGE_CONNECTION_STRING name the endpoint`,
        {
          hint: 'remove ?endpoint= from the location (the connection string has BlobEndpoint), or unset the connection string',
        },
      );
    }
    let service: BlobServiceClient;
    try {
      const parsed = BlobServiceClient.fromConnectionString(connectionString, options);
      // Rebuilt on our pipeline, so that its requests go through the guarded agents.
      service = new BlobServiceClient(parsed.url, pipeline(parsed.credential));
    } catch (err) {
      throw new StorageConfigError('AZURE_STORAGE_CONNECTION_STRING is not a valid connection string', {
        cause: err,
        hint: 'copy it again from the portal (Access keys → Connection string)',
      });
    }
    if (service.accountName && service.accountName !== loc.account) {
      throw new StorageConfigError(
        `${display}: AZURE_STORAGE_CONNECTION_STRING is for account "${service.accountName}", the location names "${loc.account}"`,
        { hint: 'use the connection string of the account in the location, or fix the location' },
      );
    }
    return { service, source: 'AZURE_STORAGE_CONNECTION_STRING' };
  }
  const sas = env.AZURE_STORAGE_SAS_TOKEN?.trim().replace(/^\?/, '');
  if (sas) {
    return {
      service: new BlobServiceClient(`${endpoint}?${sas}`, pipeline(new AnonymousCredential())),
      source: 'AZURE_STORAGE_SAS_TOKEN',
    };
  }
  const key = env.AZURE_STORAGE_KEY?.trim();
  if (key) {
    return {
      service: new BlobServiceClient(endpoint, pipeline(new StorageSharedKeyCredential(loc.account, key))),
      source: 'AZURE_STORAGE_KEY',
    };
  }
  if (endpoint.startsWith('http:')) {
    throw new StorageConfigError(`${display}: no Azure key or SAS token for a plain-http endpoint`, {
      hint: 'Entra ID / OIDC tokens are only sent over https; for Azurite set AZURE_STORAGE_KEY (or AZURE_STORAGE_CONNECTION_STRING)',
    });
  }
  return {
    service: new BlobServiceClient(endpoint, pipeline(new DefaultAzureCredential())),
    source:
      'DefaultAzureCredential (azure/login OIDC, managed identity, Azure CLI, AZURE_CLIENT_ID/AZURE_TENANT_ID)',
  };
}

/**
 * The SDK's pipeline plus one policy that sends every request through our guarded agents
 * (the SDK itself sets no timeout at all).
 */
function guardedPipeline(
  credential: StorageSharedKeyCredential | AnonymousCredential | TokenCredential,
  options: StoragePipelineOptions,
  timeouts: StorageTimeouts,
): Pipeline {
  const base = newPipeline(credential, options);
  const agents = guardedAgents(timeouts);
  const useGuardedAgent: RequestPolicyFactory = {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: (request: WebResource) => {
        request.agent = request.url.startsWith('https:') ? agents.https : agents.http;
        return next.sendRequest(request);
      },
    }),
  };
  // Added to the SDK's own pipeline object (a new Pipeline would lose its credential).
  (base.factories as RequestPolicyFactory[]).push(useGuardedAgent);
  return base;
}
