import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  StorageConflictError,
  StorageIntegrityError,
  StorageNotFoundError,
} from '../../src/storage/errors.js';
import { validateKey, validatePrefix } from '../../src/storage/keys.js';
import type { GetOptions, PutSource, Storage, StoredObject } from '../../src/storage/types.js';

/**
 * A Map-backed Storage for tests (restic's `mem` backend in spirit). It keeps the contract:
 * put is create-only (StorageConflictError) and confirms size and SHA-256, get of an absent key
 * throws StorageNotFoundError, list is by prefix, delete of an absent key is fine. Faults can be
 * injected per method.
 */
type Method = 'put' | 'get' | 'head' | 'list' | 'delete';

export class MemoryStorage implements Storage {
  readonly kind = 'memory' as const;
  readonly display: string;
  readonly objects = new Map<string, { data: Buffer; lastModified: Date }>();
  /** Calls per method, for assertions. */
  readonly calls: Record<Method, number> = { put: 0, get: 0, head: 0, list: 0, delete: 0 };
  private readonly faults = new Map<Method, (key: string) => Error | undefined>();

  constructor(display = 'memory://test') {
    this.display = display;
  }

  /** Makes `method` throw whatever `fault(key)` returns (undefined: behave normally). */
  failOn(method: Method, fault: (key: string) => Error | undefined): this {
    this.faults.set(method, fault);
    return this;
  }

  clearFaults(): this {
    this.faults.clear();
    return this;
  }

  /** Stores bytes directly, bypassing create-only and checksums: for seeding junk files. */
  seed(key: string, data: string | Buffer, lastModified = new Date()): void {
    this.objects.set(key, { data: Buffer.isBuffer(data) ? data : Buffer.from(data), lastModified });
  }

  text(key: string): string {
    const o = this.objects.get(key);
    if (!o)
      throw new StorageNotFoundError(`${this.display}: ${key} not found`, { location: this.display, key });
    return o.data.toString('utf8');
  }

  private fault(method: Method, key: string): void {
    this.calls[method] += 1;
    // Keys are checked before the store is touched, as every backend does.
    if (method === 'list') validatePrefix(key);
    else validateKey(key);
    const error = this.faults.get(method)?.(key);
    if (error) throw error;
  }

  async put(key: string, source: PutSource): Promise<StoredObject> {
    this.fault('put', key);
    if (this.objects.has(key))
      throw new StorageConflictError(`${this.display}: ${key} already exists`, {
        location: this.display,
        key,
      });
    const chunks: Buffer[] = [];
    for await (const chunk of source.open()) chunks.push(Buffer.from(chunk as Uint8Array));
    const data = Buffer.concat(chunks);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (data.length !== source.size || sha256 !== source.sha256) {
      // Nothing is kept of a source whose bytes are not the ones it recorded.
      throw new StorageIntegrityError(`${this.display}: ${key} does not match its source`, {
        location: this.display,
        key,
        expected: { size: source.size, sha256: source.sha256 },
        actual: { size: data.length, sha256 },
      });
    }
    // Re-check after the async read: create-only must hold against a concurrent put too.
    if (this.objects.has(key))
      throw new StorageConflictError(`${this.display}: ${key} already exists`, {
        location: this.display,
        key,
      });
    const lastModified = new Date();
    this.objects.set(key, { data, lastModified });
    return { key, size: data.length, lastModified };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    this.fault('get', key);
    const o = this.objects.get(key);
    if (!o)
      throw new StorageNotFoundError(`${this.display}: ${key} not found`, { location: this.display, key });
    return Readable.from([o.data.subarray(options.offset ?? 0)]);
  }

  async head(key: string): Promise<StoredObject | null> {
    this.fault('head', key);
    const o = this.objects.get(key);
    return o ? { key, size: o.data.length, lastModified: o.lastModified } : null;
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.fault('list', prefix);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const o = this.objects.get(key);
      if (o) yield { key, size: o.data.length, lastModified: o.lastModified };
    }
  }

  async delete(key: string): Promise<void> {
    this.fault('delete', key);
    this.objects.delete(key);
  }
}
