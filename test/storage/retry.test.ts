import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import {
  bufferSource,
  classifyFault,
  StorageAuthError,
  StorageConflictError,
  StorageIntegrityError,
  StorageNotFoundError,
  StorageRequestError,
  StorageUnavailableError,
  withRetry,
} from '../../src/storage/index.js';
import { readAll } from '../../src/storage/source.js';
import type { PutSource, Storage, StoredObject } from '../../src/storage/types.js';

/** An in-memory Storage (restic's mem backend) whose calls can be made to fail on demand. */
class MemoryStorage implements Storage {
  readonly kind = 'local' as const;
  readonly display = 'mem://test';
  readonly objects = new Map<string, Buffer>();
  readonly calls: string[] = [];
  /** Errors to throw, in order, from the next calls of an operation. */
  readonly failures: Record<string, unknown[]> = {};
  /** When set, put stores the object and then throws this (the answer was lost). */
  loseAnswerOnce: unknown;

  private maybeFail(op: string): void {
    this.calls.push(op);
    const next = this.failures[op]?.shift();
    if (next !== undefined) throw next;
  }
  async put(key: string, source: PutSource): Promise<StoredObject> {
    this.maybeFail('put');
    if (this.objects.has(key)) throw new StorageConflictError(`${key} exists`);
    const data = await readAll(source.open());
    this.objects.set(key, data);
    if (this.loseAnswerOnce) {
      const err = this.loseAnswerOnce;
      this.loseAnswerOnce = undefined;
      throw err;
    }
    return { key, size: data.length };
  }
  async get(key: string): Promise<Readable> {
    this.maybeFail('get');
    const data = this.objects.get(key);
    if (!data) throw new StorageNotFoundError(`${key} missing`);
    return Readable.from([data]);
  }
  async head(key: string): Promise<StoredObject | null> {
    this.maybeFail('head');
    const data = this.objects.get(key);
    return data ? { key, size: data.length } : null;
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    this.maybeFail('list');
    let n = 0;
    for (const [key, data] of [...this.objects].sort()) {
      if (!key.startsWith(prefix)) continue;
      if (n++ === 2) this.maybeFail('list-mid');
      yield { key, size: data.length };
    }
  }
  async delete(key: string): Promise<void> {
    this.maybeFail('delete');
    this.objects.delete(key);
  }
}

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const http = (status: number, code?: string) =>
  Object.assign(new Error(`HTTP ${status}`), { statusCode: status, code });

function harness(attempts = 5) {
  const mem = new MemoryStorage();
  const sleeps: number[] = [];
  const logger = new MemoryLogger();
  const storage = withRetry(mem, {
    attempts,
    baseMs: 100,
    maxMs: 1000,
    logger,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
  });
  return { mem, storage, sleeps, logger };
}

describe('withRetry', () => {
  it('retries transient faults with exponential backoff (capped) and then succeeds', async () => {
    const { mem, storage, sleeps, logger } = harness(6);
    mem.failures.head = [reset(), http(503), http(500), http(429), http(502)];
    mem.objects.set('k', Buffer.from('v'));
    expect(await storage.head('k')).toEqual({ key: 'k', size: 1 });
    expect(mem.calls.filter((c) => c === 'head')).toHaveLength(6);
    // random() = 1 gives the top of each jitter window: 100·2ⁿ capped at 1000.
    expect(sleeps).toEqual([100, 200, 400, 800, 1000]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(5);
    expect(logger.lines[0]?.message).toMatch(
      /mem:\/\/test: head k failed \(read ECONNRESET \(ECONNRESET\)\); retry 2\/6 in 100 ms/,
    );
  });

  it('full jitter: every wait lies in [0, window]', async () => {
    const mem = new MemoryStorage();
    const sleeps: number[] = [];
    const storage = withRetry(mem, {
      attempts: 4,
      baseMs: 100,
      maxMs: 250,
      sleep: async (ms) => void sleeps.push(ms),
    });
    mem.failures.delete = [reset(), reset(), reset()];
    await storage.delete('x');
    expect(sleeps).toHaveLength(3);
    [100, 200, 250].forEach((window, i) => {
      expect(sleeps[i]).toBeGreaterThanOrEqual(0);
      expect(sleeps[i]).toBeLessThanOrEqual(window);
    });
  });

  it('never retries permanent answers: 404, 409, 412, 403, 400, typed errors', async () => {
    const permanent = [
      http(404, 'BlobNotFound'),
      http(409, 'BlobAlreadyExists'),
      http(412, 'ConditionNotMet'),
      http(403, 'AuthorizationFailure'),
      http(400, 'InvalidArgument'),
      new StorageNotFoundError('gone'),
      new StorageAuthError('denied'),
      new StorageIntegrityError('bad', { expected: { size: 1 }, actual: { size: 2 } }),
      new ConfigError('bad config'),
      new StorageRequestError('bad request', { transient: false, status: 400 }),
    ];
    for (const err of permanent) {
      const { mem, storage, sleeps } = harness();
      mem.failures.head = [err];
      await expect(storage.head('k')).rejects.toBe(err);
      expect(mem.calls).toEqual(['head']);
      expect(sleeps).toEqual([]);
    }
  });

  it('gives up with StorageUnavailableError naming the location, operation, key and last fault', async () => {
    const { mem, storage, sleeps } = harness(3);
    const last = http(503, 'ServerBusy');
    mem.failures.get = [reset(), reset(), last];
    const err = await storage.get('db/x.dump').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    const e = err as StorageUnavailableError;
    expect(e.message).toBe(
      'mem://test: get db/x.dump failed after 3 attempts: HTTP 503 (HTTP 503 ServerBusy)',
    );
    expect(e.location).toBe('mem://test');
    expect(e.operation).toBe('get');
    expect(e.attempts).toBe(3);
    expect(e.cause).toBe(last);
    expect(e.exitCode).toBe(1);
    expect(e.hint).toMatch(/network/);
    expect(sleeps).toHaveLength(2);
  });

  it('put re-opens the source on every attempt: each try reads all the bytes again', async () => {
    const inner = new MemoryStorage();
    const reads: string[] = [];
    let failuresLeft = 2;
    inner.put = async (key, src) => {
      const data = await readAll(src.open());
      reads.push(data.toString());
      // Fail after reading, as an upload cut mid-way does.
      if (failuresLeft-- > 0) throw reset();
      return { key, size: data.length };
    };
    const storage = withRetry(inner, { sleep: async () => {} });
    await storage.put('k', bufferSource('payload'));
    expect(reads).toEqual(['payload', 'payload', 'payload']);
  });

  it('a conflict after a lost answer is success when the stored bytes are ours', async () => {
    const { mem, storage, logger } = harness();
    mem.loseAnswerOnce = reset();
    const stored = await storage.put('k', bufferSource('ours'));
    expect(stored).toEqual({ key: 'k', size: 4 });
    expect(logger.text()).toContain('stored by an earlier attempt whose answer was lost');
  });

  it('…but a conflict with other bytes stays a conflict, and a first-attempt conflict is never rescued', async () => {
    const { mem, storage } = harness();
    mem.objects.set('other', Buffer.from('theirs'));
    mem.failures.put = [reset()];
    await expect(storage.put('other', bufferSource('ours!!'))).rejects.toBeInstanceOf(StorageConflictError);
    const fresh = harness();
    fresh.mem.objects.set('same', Buffer.from('ours'));
    await expect(fresh.storage.put('same', bufferSource('ours'))).rejects.toBeInstanceOf(
      StorageConflictError,
    );
    expect(fresh.mem.calls).toEqual(['put']);
  });

  it('list restarts after a transient fault mid-listing without yielding anything twice', async () => {
    const { mem, storage } = harness();
    for (const k of ['a', 'b', 'c', 'd', 'e']) mem.objects.set(k, Buffer.from(k));
    mem.failures['list-mid'] = [reset()];
    const keys: string[] = [];
    for await (const o of storage.list('')) keys.push(o.key);
    expect(keys).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(mem.calls.filter((c) => c === 'list')).toHaveLength(2);
  });

  it('attempts: 1 means no retry', async () => {
    const { mem, storage } = harness(1);
    mem.failures.head = [reset()];
    const err = await storage.head('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).message).toContain('after 1 attempt:');
  });

  it('keeps kind and display', () => {
    const { storage } = harness();
    expect(storage.kind).toBe('local');
    expect(storage.display).toBe('mem://test');
  });
});

describe('classifyFault', () => {
  const sha = createHash('sha256').update('x').digest('hex');
  it.each([
    ['node socket reset', reset(), true],
    ['refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    [
      'nested cause',
      new Error('request failed', { cause: Object.assign(new Error('x'), { code: 'EPIPE' }) }),
      true,
    ],
    [
      'azure RestError 503',
      { name: 'RestError', statusCode: 503, code: 'ServerBusy', message: 'busy' },
      true,
    ],
    ['azure send error', { name: 'RestError', code: 'REQUEST_SEND_ERROR', message: 'socket hang up' }, true],
    ['aws 500', { name: 'InternalError', $metadata: { httpStatusCode: 500 }, message: 'x' }, true],
    ['aws throttling', { name: 'SlowDown', $metadata: { httpStatusCode: 503 }, message: 'x' }, true],
    ['aws timeout', { name: 'TimeoutError', message: 'Connection timed out after 10000 ms' }, true],
    ['gcs 429', { name: 'ApiError', code: 429, message: 'rate' }, true],
    ['gaxios response 502', { name: 'GaxiosError', response: { status: 502 }, message: 'bad gateway' }, true],
    ['408', { statusCode: 408, message: 'timeout' }, true],
    ['aws 404', { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 }, message: 'x' }, false],
    ['aws 403', { name: 'AccessDenied', $metadata: { httpStatusCode: 403 }, message: 'x' }, false],
    ['gcs 412', { name: 'ApiError', code: 412, message: 'precondition' }, false],
    ['azure 409', { statusCode: 409, code: 'BlobAlreadyExists', message: 'x' }, false],
    ['fs ENOENT', Object.assign(new Error('no such file'), { code: 'ENOENT' }), false],
    [
      'typed integrity',
      new StorageIntegrityError(sha, { expected: { size: 1 }, actual: { size: 1 } }),
      false,
    ],
    ['a string', 'weird', false],
  ])('%s', (_name, err, transient) => {
    expect(classifyFault(err).transient).toBe(transient);
  });
});
