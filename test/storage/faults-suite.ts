/**
 * The storage fault suite: the same faults against every SDK backend (Azure, S3, GCS), like
 * the contract suite. Each backend's test file calls runStorageFaults with its emulator:
 *   - through an HTTP proxy (test/helpers/storage-fault-proxy.ts): 503 bursts, cut uploads,
 *     an unreachable store;
 *   - a store of its own that is killed mid-upload, or stops answering (SIGSTOP for the
 *     emulators that run as child processes, a proxy that stops forwarding for the in-process
 *     GCS stand-in) mid-upload and mid-download;
 *   - a loopback server that accepts connections and never answers;
 *   - a slow link that still moves (no false timeout).
 * Every stall must end within the bound given to openStorage, with a StorageTimeoutError that
 * names the destination and the operation.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { MemoryLogger } from '../../src/log.js';
import {
  bufferSource,
  openStorage,
  type PutSource,
  type Storage,
  StorageTimeoutError,
  StorageUnavailableError,
  storageTimeouts,
} from '../../src/storage/index.js';
import { resumingGet } from '../../src/storage/resume.js';
import { hashStream, readAll } from '../../src/storage/source.js';
import { type FaultProxy, startFaultProxy } from '../helpers/storage-fault-proxy.js';
import {
  type SilentServer,
  startSilentServer,
  startTcpProxy,
  type TcpProxy,
} from '../helpers/tcp-fault-proxy.js';
import { uniquePrefix } from './contract.js';

/** A store of the test's own, which it may kill or stop. */
export interface DisposableStore {
  urlFor(prefix: string): string;
  env: NodeJS.ProcessEnv;
  kill(): void;
  /** Stops answering (SIGSTOP, or a proxy in front stops forwarding); thaw undoes it. */
  freeze(): void;
  thaw(): void;
  /** How freeze works, for test titles and logs. */
  freezeHow: string;
  stop(): Promise<void>;
}

export interface FaultTarget {
  /** The shared emulator: its port (proxies go in front of it) and URLs through any port. */
  port: number;
  env: NodeJS.ProcessEnv;
  urlFor(prefix: string, port?: number): string;
  /** Objects or upload debris under `prefix`, seen behind our interface ([] when clean). */
  leftovers(prefix: string): Promise<string[]>;
  /** An object size that takes several parts / blocks / chunks. */
  largeSize: number;
  fresh(): Promise<DisposableStore>;
}

/** Small bounds, so a stall shows within seconds: overall 3 s (idle 0.75 s, first byte 1.35 s). */
export const TEST_TIMEOUTS = storageTimeouts(3000);
/** What a stall may take at most: the bound, plus the scheduling slack of a shared machine. */
const LIMIT_MS = TEST_TIMEOUTS.totalMs + 2500;
const fastRetry = { baseMs: 5, maxMs: 40 };

async function failureOf(promise: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, ms: Date.now() - started };
}

async function drain(iter: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iter) {
    // nothing
  }
}

/** A source over `data` that calls `at()` once `afterBytes` were read from it. */
function sourceCalling(data: Buffer, afterBytes: number, at: () => void): PutSource {
  const base = bufferSource(data);
  return {
    ...base,
    open: () => {
      let sent = 0;
      let called = false;
      const slice = 256 * 1024;
      return Readable.from(
        (function* () {
          for (let i = 0; i < data.length; i += slice) {
            if (!called && sent >= afterBytes) {
              called = true;
              at();
            }
            const chunk = data.subarray(i, i + slice);
            sent += chunk.length;
            yield chunk;
          }
        })(),
      );
    },
  };
}

function expectTimeout(err: unknown, display: string, operation: string, ms: number): void {
  expect(err).toBeInstanceOf(StorageTimeoutError);
  expect(err).toBeInstanceOf(StorageUnavailableError);
  const e = err as StorageTimeoutError;
  expect(e.message.startsWith(`${display}: ${operation} `), e.message).toBe(true);
  expect(e.operation).toBe(operation);
  expect(e.hint).toContain('LMS_BACKUP_STORAGE_TIMEOUT');
  expect(ms).toBeLessThan(LIMIT_MS);
}

export function runStorageFaults(name: string, target: () => FaultTarget): void {
  describe(`storage faults: ${name}`, () => {
    let t: FaultTarget;
    let proxy: FaultProxy;
    beforeAll(async () => {
      t = target();
      proxy = await startFaultProxy({ port: t.port });
    });
    afterAll(async () => {
      await proxy?.stop();
    });

    const open = (url: string, extra: Parameters<typeof openStorage>[1] = {}) =>
      openStorage(url, { env: t.env, timeouts: TEST_TIMEOUTS, retry: fastRetry, ...extra });

    it('a burst of 503s is retried and the put succeeds byte-exact', async () => {
      // requestAttempts: 1 leaves the retrying to withRetry (the SDKs' own backoff is slower).
      const storage = await open(t.urlFor(uniquePrefix('burst'), proxy.port), { requestAttempts: 1 });
      const injected = proxy.stats.injected;
      proxy.failNext(4);
      const data = randomBytes(t.largeSize);
      await storage.put('db/b.dump', bufferSource(data));
      expect(proxy.stats.injected - injected).toBe(4);
      expect((await readAll(await storage.get('db/b.dump'))).equals(data)).toBe(true);
    });

    it('a store that keeps cutting uploads: retried, then StorageUnavailableError, and nothing left', async () => {
      const prefix = uniquePrefix('cut');
      const logger = new MemoryLogger();
      const url = t.urlFor(prefix, proxy.port);
      const storage = await open(url, {
        logger,
        requestAttempts: 1,
        retry: { ...fastRetry, attempts: 3 },
      });
      const cuts = proxy.stats.cuts;
      proxy.cutUploadsOver(1024 * 1024);
      try {
        const err = await storage
          .put('db/c.dump', bufferSource(randomBytes(t.largeSize)))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StorageUnavailableError);
        expect(err).not.toBeInstanceOf(StorageTimeoutError);
        expect((err as StorageUnavailableError).attempts).toBe(3);
        expect(String((err as Error).message)).toContain(
          `${storage.display}: put db/c.dump failed after 3 attempts`,
        );
        expect(proxy.stats.cuts - cuts).toBeGreaterThanOrEqual(3);
        expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
      } finally {
        proxy.cutUploadsOver(Number.POSITIVE_INFINITY, 0);
      }
      expect(await t.leftovers(prefix)).toEqual([]);
      expect(await storage.head('db/c.dump')).toBeNull();
    });

    it('one cut mid-upload is retried and the put succeeds byte-exact, nothing left over', async () => {
      const prefix = uniquePrefix('cut-once');
      const storage = await open(t.urlFor(prefix, proxy.port), { requestAttempts: 1 });
      proxy.cutUploadsOver(1024 * 1024, 1);
      const data = randomBytes(t.largeSize);
      await storage.put('db/o.dump', bufferSource(data));
      expect((await readAll(await storage.get('db/o.dump'))).equals(data)).toBe(true);
      expect(await t.leftovers(prefix)).toEqual(['db/o.dump']);
    });

    it('a download cut twice mid-way → read on from the last byte delivered (a ranged get), every byte once', async () => {
      const logger = new MemoryLogger();
      const storage = await open(t.urlFor(uniquePrefix('cut-down'), proxy.port), {
        logger,
        requestAttempts: 1,
      });
      const data = randomBytes(4 * 1024 * 1024);
      await storage.put('db/r.dump', bufferSource(data));
      const cuts = proxy.stats.cuts;
      try {
        // The fault is real: a plain get breaks off with it.
        proxy.cutDownloadsOver(1024 * 1024, 1);
        await expect(readAll(await storage.get('db/r.dump'))).rejects.toThrow();
        proxy.cutDownloadsOver(1024 * 1024, 2);
        const got = await readAll(await resumingGet(storage, 'db/r.dump', { logger }));
        expect(got.length).toBe(data.length);
        expect(got.equals(data)).toBe(true);
      } finally {
        proxy.cutDownloadsOver(Number.POSITIVE_INFINITY, 0);
      }
      expect(proxy.stats.cuts - cuts).toBe(3);
      const resumed = logger.lines.filter(
        (l) => l.level === 'warn' && /reading on from there/.test(l.message),
      );
      expect(resumed.map((l) => l.message)).toEqual([
        expect.stringMatching(/the download of db\/r\.dump broke off after 1(\.0+)? MiB .*\(1\/5\)$/),
        expect.stringMatching(/broke off after 2(\.0+)? MiB .*\(2\/5\)$/),
      ]);
    });

    it('a store that keeps cutting downloads → the download gives up after 5 resumes with the break, not a hang', async () => {
      const logger = new MemoryLogger();
      const storage = await open(t.urlFor(uniquePrefix('cut-down-all'), proxy.port), {
        logger,
        requestAttempts: 1,
      });
      const data = randomBytes(4 * 1024 * 1024);
      await storage.put('db/r.dump', bufferSource(data));
      proxy.cutDownloadsOver(256 * 1024);
      try {
        const { err, ms } = await failureOf(readAll(await resumingGet(storage, 'db/r.dump', { logger })));
        expect(err).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(LIMIT_MS);
      } finally {
        proxy.cutDownloadsOver(Number.POSITIVE_INFINITY, 0);
      }
      expect(logger.lines.filter((l) => /reading on from there/.test(l.message))).toHaveLength(5);
    });

    it('an unreachable store (connections reset): head and list fail as StorageUnavailableError naming the operation', async () => {
      const storage = await open(t.urlFor(uniquePrefix('down'), proxy.port), {
        requestAttempts: 1,
        retry: { ...fastRetry, attempts: 2 },
      });
      proxy.down(true);
      try {
        const err = await storage.head('x').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StorageUnavailableError);
        expect((err as StorageUnavailableError).operation).toBe('head');
        const listErr = await drain(storage.list('')).catch((e: unknown) => e);
        expect(listErr).toBeInstanceOf(StorageUnavailableError);
        expect(String((listErr as Error).message)).toContain(': list (everything) failed after 2 attempts');
      } finally {
        proxy.down(false);
      }
    });

    describe('a store of its own', () => {
      let store: DisposableStore | undefined;
      afterEach(async () => {
        // Whatever a test stopped goes on, then away.
        store?.thaw();
        await store?.stop();
        store = undefined;
      });

      it('killed mid-upload: retried, then StorageUnavailableError naming the destination', async () => {
        store = await t.fresh();
        const s = store;
        const logger = new MemoryLogger();
        const storage = await open(s.urlFor(''), {
          env: s.env,
          logger,
          requestAttempts: 1,
          retry: { ...fastRetry, attempts: 4 },
        });
        await storage.put('before', bufferSource('alive'));
        const data = randomBytes(t.largeSize * 2);
        const { err, ms } = await failureOf(
          storage.put(
            'db/dies.dump',
            sourceCalling(data, t.largeSize, () => s.kill()),
          ),
        );
        expect(err).toBeInstanceOf(StorageUnavailableError);
        expect((err as StorageUnavailableError).operation).toBe('put');
        expect(String((err as Error).message).startsWith(`${storage.display}: put db/dies.dump`)).toBe(true);
        expect(ms).toBeLessThan(LIMIT_MS);
        expect(logger.text()).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|stalled/);
      });

      it('stops answering mid-upload: StorageTimeoutError within the bound, naming the destination', async () => {
        store = await t.fresh();
        const s = store;
        const logger = new MemoryLogger();
        const storage = await open(s.urlFor(''), { env: s.env, logger });
        await storage.put('before', bufferSource('alive'));
        const data = randomBytes(t.largeSize * 2);
        const { err, ms } = await failureOf(
          storage.put(
            'db/frozen.dump',
            sourceCalling(data, t.largeSize, () => s.freeze()),
          ),
        );
        expectTimeout(err, storage.display, 'put', ms);
        expect(ms).toBeGreaterThanOrEqual(TEST_TIMEOUTS.idleMs - 100);
        expect(ms).toBeLessThan(TEST_TIMEOUTS.totalMs + 500);
        logger.info(
          `${s.freezeHow} mid-upload: StorageTimeoutError after ${ms} ms (bound ${TEST_TIMEOUTS.totalMs} ms)`,
        );
        console.info(
          `[${name}] ${s.freezeHow} mid-upload → ${(err as Error).name} after ${ms} ms (bound ${TEST_TIMEOUTS.totalMs} ms)`,
        );
        // Once it answers again, nothing of the failed upload is visible as an object.
        s.thaw();
        expect(await storage.head('db/frozen.dump')).toBeNull();
      });

      it('stops answering mid-download: the stream fails with StorageTimeoutError within the bound', async () => {
        store = await t.fresh();
        const s = store;
        const storage = await open(s.urlFor(''), { env: s.env });
        const data = randomBytes(24 * 1024 * 1024);
        await storage.put('db/big.dump', bufferSource(data));
        const stream = await storage.get('db/big.dump');
        // Take a first piece, then the store stops; we keep reading.
        await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
        s.freeze();
        const { err, ms } = await failureOf(hashStream(stream));
        expectTimeout(err, storage.display, 'get', ms);
        expect((err as StorageTimeoutError).key).toBe('db/big.dump');
        console.info(
          `[${name}] ${s.freezeHow} mid-download → ${(err as Error).name} after ${ms} ms (idle bound ${TEST_TIMEOUTS.idleMs} ms)`,
        );
      });

      it('stopped before the call: head, list and put end within the bound with StorageTimeoutError', async () => {
        store = await t.fresh();
        const s = store;
        const storage = await open(s.urlFor(''), { env: s.env });
        await storage.put('before', bufferSource('alive'));
        s.freeze();
        const head = await failureOf(storage.head('before'));
        expectTimeout(head.err, storage.display, 'head', head.ms);
        const list = await failureOf(drain(storage.list('')));
        expectTimeout(list.err, storage.display, 'list', list.ms);
        const put = await failureOf(storage.put('small', bufferSource('x')));
        expectTimeout(put.err, storage.display, 'put', put.ms);
      });
    });

    describe('a server that accepts and never answers', () => {
      let silent: SilentServer;
      beforeAll(async () => {
        silent = await startSilentServer();
      });
      afterAll(async () => {
        await silent?.stop();
      });

      it('head, get, list, delete and put each end within the bound with StorageTimeoutError', async () => {
        const storage = await open(t.urlFor(uniquePrefix('silent'), silent.port));
        const calls: [string, () => Promise<unknown>][] = [
          ['head', () => storage.head('x')],
          ['get', () => storage.get('x')],
          ['list', () => drain(storage.list('db/'))],
          ['delete', () => storage.delete('x')],
          ['put', () => storage.put('db/x.dump', bufferSource(randomBytes(t.largeSize)))],
        ];
        for (const [operation, call] of calls) {
          const { err, ms } = await failureOf(call());
          console.info(`[${name}] silent server, ${operation} → ${(err as Error)?.name} after ${ms} ms`);
          expectTimeout(err, storage.display, operation, ms);
        }
        expect(silent.accepted()).toBeGreaterThan(0);
      });
    });

    describe('a slow link that still moves', () => {
      let slow: TcpProxy;
      beforeAll(async () => {
        slow = await startTcpProxy({ port: t.port });
      });
      afterAll(async () => {
        await slow?.stop();
      });

      it('succeeds although the transfer takes longer than the whole bound (no false timeout)', async () => {
        const slowLog = new MemoryLogger();
        const storage: Storage = await open(t.urlFor(uniquePrefix('slow'), slow.port), { logger: slowLog });
        onTestFailed(() => console.info(slowLog.text()));
        // Answers: 16 KiB every 50 ms (≈ 300 KiB/s), each held back 0.6 s; uploads in 64 KiB
        // slices. Slower than the 3 s bound in total, never the idle bound (0.75 s) without a
        // byte. (Uploads are not slowed further: bytes in the kernel's send buffer drain unseen,
        // so buffer drain plus the server's think time must fit in firstByteMs.)
        slow.throttle({
          sliceBytes: 16 * 1024,
          upSliceBytes: 64 * 1024,
          upPauseMs: 0,
          pauseMs: 50,
          firstByteDelayMs: 600,
        });
        try {
          const data = randomBytes(1024 * 1024 + 4321);
          const started = Date.now();
          await storage.put('db/slow.dump', bufferSource(data));
          const back = await readAll(await storage.get('db/slow.dump'));
          const ms = Date.now() - started;
          expect(back.equals(data)).toBe(true);
          expect(ms).toBeGreaterThan(TEST_TIMEOUTS.totalMs);
          console.info(
            `[${name}] slow link: put + get of 1 MiB took ${ms} ms, bound ${TEST_TIMEOUTS.totalMs} ms, no timeout`,
          );
        } finally {
          slow.throttle(null);
        }
      });
    });
  });
}
