/**
 * Fault matrix, storage rows: what a backup does when its destination dies, stops answering,
 * is slow, or fills up. Each row asserts the exit code or typed error, that the message names
 * the destination, that nothing is marked complete (no manifest) and that nothing good is lost.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BackupConfig, runBackup } from '../../src/commands/backup.js';
import { MemoryLogger } from '../../src/log.js';
import { connect } from '../../src/postgres/client.js';
import { stuckCalls } from '../../src/storage/fs-watch.js';
import { metadataDeadline } from '../../src/storage/guard.js';
import {
  bufferSource,
  openStorage,
  type PutSource,
  type Storage,
  StorageTimeoutError,
  StorageUnavailableError,
  storageTimeouts,
} from '../../src/storage/index.js';
import {
  type AzuriteEmulator,
  type S3rverEmulator,
  startAzurite,
  startS3rver,
} from '../helpers/emulators.js';
import {
  endedWithin,
  expectEndedDespiteStuckCall,
  type HungMount,
  hungMountUnavailable,
  startFreezableMount,
  startHungMount,
} from '../helpers/hung-mount.js';
import { pgEnv, runCli, type SourceDb, startCli, startSourceDb, tempDir } from '../helpers/pg.js';
import { startFaultProxy } from '../helpers/storage-fault-proxy.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-fault-proxy.js';
import { noStack } from './helpers.js';

/** Overall storage bound in these tests: 3 s (LMS_BACKUP_STORAGE_TIMEOUT=3). */
const BOUND_MS = 3000;
const timeouts = storageTimeouts(BOUND_MS);
const fastRetry = { baseMs: 5, maxMs: 40 };

let src: SourceDb;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await src?.stop();
});

function config(destinations: Storage[]): BackupConfig {
  return {
    connection: src.conn,
    destinations,
    prefix: 'lms',
    compression: 'auto',
    encryption: { mode: 'none' },
  };
}

/** A destination whose dump upload calls `at()` once its first bytes are read. */
function onFirstDumpBytes(storage: Storage, at: () => void): Storage {
  return {
    kind: storage.kind,
    display: storage.display,
    put: (key: string, source: PutSource) => {
      if (!/\.dump(\.age)?$/.test(key)) return storage.put(key, source);
      let fired = false;
      return storage.put(key, {
        ...source,
        open: () => {
          const inner = source.open();
          const tap = new PassThrough();
          tap.once('data', () => {
            if (!fired) {
              fired = true;
              at();
            }
          });
          return inner.pipe(tap) as Readable;
        },
      });
    },
    get: (k) => storage.get(k),
    head: (k) => storage.head(k),
    list: (p) => storage.list(p),
    delete: (k) => storage.delete(k),
  };
}

async function keysIn(storage: Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

describe('storage faults during a backup', () => {
  let azurite: AzuriteEmulator | undefined;
  let s3: S3rverEmulator | undefined;
  afterEach(async () => {
    // What a test stopped goes on, then away.
    azurite?.thaw();
    s3?.thaw();
    await azurite?.stop();
    await s3?.stop();
    azurite = undefined;
    s3 = undefined;
  });

  it('storage killed mid-upload → StorageUnavailableError naming the destination, no manifest, the earlier backup intact', async () => {
    s3 = await startS3rver();
    const store = s3;
    const storage = await openStorage(store.url, {
      env: store.env,
      timeouts,
      retry: fastRetry,
      requestAttempts: 1,
    });
    const first = await runBackup(config([storage]), { logger: new MemoryLogger() });
    const before = await keysIn(storage);
    expect(before).toContain(`db/${first.id}.manifest.json`);
    const err = await runBackup(config([onFirstDumpBytes(storage, () => store.kill())]), {
      logger: new MemoryLogger(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).message).toContain(storage.display);
    // The store's files survive its process: the only manifest on disk is the earlier one's.
    const manifests = (readdirSync(store.directory, { recursive: true }) as string[]).filter((f) =>
      f.includes('.manifest.json'),
    );
    expect(manifests.length).toBeGreaterThan(0);
    expect(manifests.every((f) => f.includes(first.id))).toBe(true);
  });

  it('storage stopped (SIGSTOP) mid-upload → StorageTimeoutError within the bound, naming the destination, no manifest', async () => {
    azurite = await startAzurite();
    const store = azurite;
    const storage = await openStorage(store.url, { env: store.env, timeouts, retry: fastRetry });
    const first = await runBackup(config([storage]), { logger: new MemoryLogger() });
    const started = Date.now();
    const err = await runBackup(config([onFirstDumpBytes(storage, () => store.freeze())]), {
      logger: new MemoryLogger(),
    }).catch((e: unknown) => e);
    const ms = Date.now() - started;
    expect(err).toBeInstanceOf(StorageTimeoutError);
    expect((err as Error).message.startsWith(`${storage.display}: put db/`)).toBe(true);
    expect(ms).toBeLessThan(BOUND_MS + 2500);
    console.info(
      `[faults] Azurite SIGSTOP mid-upload of a backup → StorageTimeoutError after ${ms} ms (bound ${BOUND_MS} ms)`,
    );
    store.thaw();
    const manifests = (await keysIn(storage, 'db/')).filter((k) => k.endsWith('.manifest.json'));
    expect(manifests).toEqual([`db/${first.id}.manifest.json`]);
  });

  it('storage stopped (SIGSTOP) before `lms-backup backup` → exit 1 within the bound, the message names the destination, no manifest', async () => {
    s3 = await startS3rver();
    const store = s3;
    store.freeze();
    const started = Date.now();
    const r = await runCli(['backup', '--to', store.url, '--no-encryption'], {
      ...pgEnv(src.conn),
      ...store.env,
      LMS_BACKUP_STORAGE_TIMEOUT: String(BOUND_MS / 1000),
    });
    const ms = Date.now() - started;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`s3://${store.bucket}`);
    expect(r.stderr).toMatch(/stopped answering/);
    expect(r.stderr).toContain('LMS_BACKUP_STORAGE_TIMEOUT');
    // Start-up, dump and every storage call that waited its bound: well under a minute.
    expect(ms).toBeLessThan(30_000);
    console.info(
      `[faults] s3rver SIGSTOP, CLI backup → exit ${r.code} after ${ms} ms (bound ${BOUND_MS} ms per call)`,
    );
    store.thaw();
    const client = store.client();
    const listed = await client.send(new ListObjectsV2Command({ Bucket: store.bucket }));
    client.destroy();
    expect((listed.Contents ?? []).filter((o) => o.Key?.endsWith('.manifest.json'))).toEqual([]);
  });

  it('a download cut twice mid-way during a drill (connection reset) → read on from there; the drill passes', async () => {
    s3 = await startS3rver();
    const proxy = await startFaultProxy({ port: s3.port });
    cleanups.push(() => proxy.stop());
    const url = s3.urlFor('', proxy.port);
    const env = { ...s3.env, ...pgEnv(src.conn), LMS_BACKUP_STORAGE_TIMEOUT: String(BOUND_MS / 1000) };
    const b = await runCli(['backup', '--to', url, '--no-encryption'], env);
    expect(b.code, b.stderr).toBe(0);
    // Every answer of 256 KiB or more breaks off there, twice: the dump's (the small objects pass).
    proxy.cutDownloadsOver(256 * 1024, 2);
    const cuts = proxy.stats.cuts;
    const d = await runCli(['drill', '--from', url, '--engine', 'local'], env);
    expect(d.code, d.stderr).toBe(0);
    expect(proxy.stats.cuts - cuts).toBe(2);
    const warnings = (d.stdout + d.stderr).split('\n').filter((l) => /reading on from there/.test(l));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/the download of db\/lms_\d{8}_\d{6}\.dump broke off after 256(\.0+)? KiB/);
  });

  it('storage slow (throttled link, answers held back) → the backup succeeds, manifest last', async () => {
    s3 = await startS3rver();
    const proxy: TcpProxy = await startTcpProxy({ port: s3.port });
    cleanups.push(() => proxy.stop());
    proxy.throttle({
      sliceBytes: 16 * 1024,
      upSliceBytes: 64 * 1024,
      upPauseMs: 0,
      pauseMs: 50,
      firstByteDelayMs: 600,
    });
    const storage = await openStorage(s3.urlFor('', proxy.port), { env: s3.env, timeouts, retry: fastRetry });
    const result = await runBackup(config([storage]), { logger: new MemoryLogger() });
    expect(await storage.head(`db/${result.id}.manifest.json`)).not.toBeNull();
    expect(await storage.head(result.manifest.object.key)).not.toBeNull();
  });
});

describe('a local destination that fills up', () => {
  let mountPoint: string | undefined;
  afterAll(() => {
    if (mountPoint) execFileSync('umount', [mountPoint]);
  });

  it('ENOSPC in a local destination → exit 1 naming the destination, no manifest, the earlier backup intact', async (ctx) => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const root = join(dir.path, 'small');
    mkdirSync(root);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', root], { stdio: 'ignore' });
      mountPoint = root;
    } catch {
      ctx.skip();
      return;
    }
    const ok = await runCli(['backup', '--to', root, '--no-encryption'], pgEnv(src.conn));
    expect(ok.code, ok.stderr).toBe(0);
    const good = readdirSync(join(root, 'db')).sort();
    expect(good.some((f) => f.endsWith('.manifest.json'))).toBe(true);
    // Leave a few KiB free: the next dump cannot be staged.
    let i = 0;
    try {
      for (;;) writeFileSync(join(root, `filler-${i++}`), Buffer.alloc(64 * 1024));
    } catch {
      // full
    }
    const r = await runCli(['backup', '--to', root, '--no-encryption'], pgEnv(src.conn));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ENOSPC|no space/i);
    expect(r.stderr).toContain(root);
    const after = readdirSync(join(root, 'db')).sort();
    expect(after).toEqual(good);
    expect(existsSync(join(root, 'db'))).toBe(true);
  });
});

// Where no FUSE mount can be made (not root), these rows are skipped; in CI that is a failure.
const noHungMount = hungMountUnavailable();
describe.skipIf(noHungMount !== undefined && process.env.LMS_REQUIRE_DOCKER !== '1')(
  'a local destination whose mount stops answering',
  () => {
    // A hung FUSE mount (helpers/hung-mount.ts): every call into it waits until the test closes it.
    const HUNG_BOUND_MS = 2000;
    let hung: HungMount | undefined;
    let base: string;
    beforeAll(() => {
      if (noHungMount)
        throw new Error(`LMS_REQUIRE_DOCKER=1 but a hung mount cannot be made: ${noHungMount}`);
      const dir = tempDir();
      cleanups.push(() => dir.remove());
      base = dir.path;
      hung = startHungMount(join(dir.path, 'nfs'));
      // Closing the connection frees every call still waiting in it (this process's too).
      cleanups.push(() => hung?.stop());
    });

    it('a local --to on a mount that stopped answering → exit 1 within the storage bound, naming the directory and LMS_BACKUP_STORAGE_TIMEOUT; the run record spooled', async () => {
      const root = join(hung!.path, 'backups');
      const state = join(base, 'state-backup');
      const started = Date.now();
      const r = await runCli(['backup', '--to', root, '--no-encryption'], {
        ...pgEnv(src.conn),
        LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        LMS_BACKUP_STATE_DIR: state,
      });
      const took = Date.now() - started;
      // The bound, the dump that never started, and Node's start-up; far from "forever".
      expect(took).toBeLessThan(HUNG_BOUND_MS + 20_000);
      // A call stuck in the mount cannot be cancelled: the CLI ends without waiting for it.
      expectEndedDespiteStuckCall(r, 1);
      expect(r.stderr).toContain(root);
      expect(r.stderr).toMatch(/stopped answering/);
      expect(r.stderr).toContain('LMS_BACKUP_STORAGE_TIMEOUT');
      expect(noStack(r.stderr)).toBe(true);
      // The failure is recorded: its record waits in the spool for the next run that reaches root.
      const spooled = readdirSync(join(state, 'spool'), { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith('.json'),
      );
      expect(spooled.length, r.stderr).toBeGreaterThan(0);
    });

    it('list --from a mount that stopped answering → fails within the bound with the same message, not "does not exist"', async () => {
      const root = join(hung!.path, 'other');
      const started = Date.now();
      const r = await runCli(['list', '--from', root], {
        LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        LMS_BACKUP_STATE_DIR: join(base, 'state-list'),
      });
      expect(Date.now() - started).toBeLessThan(HUNG_BOUND_MS + 15_000);
      expectEndedDespiteStuckCall(r, 1);
      expect(r.stderr).toMatch(/stopped answering/);
      expect(r.stderr).not.toMatch(/does not exist/);
    });

    it('every call of a local destination on a hung mount → the first fails at its deadline, later ones at once without another stuck call', async () => {
      // A mount of its own: the call left stuck in this process holds the mount's directory
      // lock (the kernel's, uninterruptible) until the mount is closed at the end.
      const own = startHungMount(join(base, 'nfs-unit'));
      cleanups.push(() => own.stop());
      const storage = await openStorage(join(own.path, 'unit'), {
        timeouts: storageTimeouts(HUNG_BOUND_MS),
      });
      const before = stuckCalls();
      const started = Date.now();
      const first = await storage.head('db/x.manifest.json').then(
        () => undefined,
        (e: unknown) => e,
      );
      const waited = Date.now() - started;
      expect(first).toBeInstanceOf(StorageTimeoutError);
      expect((first as Error).message).toContain(join(own.path, 'unit'));
      expect((first as Error).message).toMatch(/stopped answering \(a stat call got no answer within/);
      expect(waited).toBeGreaterThanOrEqual(metadataDeadline(storageTimeouts(HUNG_BOUND_MS)) - 50);
      expect(stuckCalls()).toBe(before + 1);
      const again = Date.now();
      await expect(storage.put('db/y', bufferSource(Buffer.from('y')))).rejects.toThrow(
        /earlier in this run/,
      );
      await expect(keysIn(storage)).rejects.toBeInstanceOf(StorageTimeoutError);
      expect(Date.now() - again).toBeLessThan(500);
      expect(stuckCalls()).toBe(before + 1);
      // Closing the connection frees the stuck call: it is no longer counted.
      own.stop();
      for (let i = 0; stuckCalls() > before && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
      expect(stuckCalls()).toBe(before);
    });

    it('a local --to whose mount stops answering mid-dump → exit 1 within the bound naming it; no manifest, the earlier backup intact, the record spooled', async () => {
      const mount = await startFreezableMount(join(base, 'nfs-backing'), join(base, 'nfs-live'));
      cleanups.push(() => mount.stop());
      const root = join(mount.path, 'backups');
      const seen = join(mount.backing, 'backups');
      const env = {
        ...pgEnv(src.conn),
        LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        LMS_BACKUP_STATE_DIR: join(base, 'state-freeze'),
      };
      const ok = await runCli(['backup', '--to', root, '--no-encryption'], env);
      expect(ok.code, ok.stderr).toBe(0);
      const good = readdirSync(join(seen, 'db')).sort();
      expect(good.filter((f) => f.endsWith('.manifest.json'))).toHaveLength(1);
      // A lock on one table holds pg_dump (and the counts) before the first byte, with the
      // staged file already open in the mount: the freeze lands while the dump is being written.
      const locker = await connect(src.conn);
      cleanups.push(() => locker.end().catch(() => {}));
      const [{ t }] = (
        await locker.query<{ t: string }>(
          "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') LIMIT 1",
        )
      ).rows as [{ t: string }];
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE`);
      const started = Date.now();
      const run = startCli(['backup', '--to', root, '--no-encryption'], env);
      // The dump is staged in the destination's db/, where the store hard-links it.
      const stagedFile = () =>
        readdirSync(join(seen, 'db')).find((f) => f.startsWith('.tmp-stage_') && f.endsWith('.dump.partial'));
      for (let i = 0; !stagedFile(); i++) {
        expect(i, 'the backup never opened its staged dump').toBeLessThan(300);
        await new Promise((r) => setTimeout(r, 50));
      }
      mount.freeze();
      await locker.query('COMMIT');
      const r = await endedWithin(run, HUNG_BOUND_MS + 30_000, mount);
      const took = Date.now() - started;
      mount.thaw();
      expect(took).toBeLessThan(HUNG_BOUND_MS + 20_000);
      expectEndedDespiteStuckCall(r, 1);
      expect(r.stderr).toContain(root);
      // The error is the call that hung, named by the destination, not a later one's echo.
      expect(r.stderr).toMatch(
        new RegExp(
          `^lms-backup: ${root}: put failed: the file system stopped answering \\(a (write|fsync|stat) call`,
          'm',
        ),
      );
      expect(noStack(r.stderr)).toBe(true);
      // Nothing partial looks complete; what was there is untouched.
      expect(
        readdirSync(join(seen, 'db'))
          .filter((f) => !f.startsWith('.tmp-stage_'))
          .sort(),
      ).toEqual(good);
      const spooled = readdirSync(join(base, 'state-freeze', 'spool'), { recursive: true, encoding: 'utf8' });
      expect(
        spooled.some((f) => f.endsWith('.json')),
        r.stderr,
      ).toBe(true);
    });

    it('a local --from whose mount stops answering mid-read → the read fails at its deadline with StorageTimeoutError, not a hang', async () => {
      const mount = await startFreezableMount(join(base, 'read-backing'), join(base, 'read-live'));
      cleanups.push(() => mount.stop());
      // 64 MiB written beside the mount: the mount's first reads go to its daemon, not a cache.
      mkdirSync(join(mount.backing, 'db'));
      writeFileSync(join(mount.backing, 'db', 'big.dump'), Buffer.alloc(64 * 1024 * 1024, 7));
      const storage = await openStorage(mount.path, { timeouts: storageTimeouts(HUNG_BOUND_MS) });
      const stream = await storage.get('db/big.dump');
      let got = 0;
      const failed = new Promise<unknown>((resolve) => {
        stream.on('error', resolve);
        stream.on('end', () => resolve(undefined));
      });
      // Read the first MiB, then the daemon stops; the reader goes on wanting data.
      await new Promise<void>((resolve) => {
        const onData = (c: Buffer) => {
          got += c.length;
          if (got >= 1024 * 1024) {
            stream.off('data', onData);
            stream.pause();
            resolve();
          }
        };
        stream.on('data', onData);
      });
      mount.freeze();
      const frozenAt = Date.now();
      stream.on('data', (c: Buffer) => {
        got += c.length;
      });
      stream.resume();
      const error = await failed;
      const waited = Date.now() - frozenAt;
      mount.thaw();
      expect(error).toBeInstanceOf(StorageTimeoutError);
      expect((error as Error).message).toContain(
        `${mount.path}: get db/big.dump failed: the file system stopped answering`,
      );
      expect(got).toBeLessThan(64 * 1024 * 1024);
      expect(waited).toBeLessThan(metadataDeadline(storageTimeouts(HUNG_BOUND_MS)) + 2000);
    });

    it('report --output-dir on a mount that stopped answering → fails within the bound naming it, not a hang', async () => {
      const from = join(base, 'report-from');
      mkdirSync(from);
      const out = join(hung!.path, 'reports');
      const started = Date.now();
      const r = await runCli(['report', '--from', from, '--output-dir', out], {
        LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        LMS_BACKUP_STATE_DIR: join(base, 'state-report'),
      });
      expect(Date.now() - started).toBeLessThan(HUNG_BOUND_MS + 15_000);
      expectEndedDespiteStuckCall(r, 1);
      expect(r.stderr).toContain(`${out}: put failed: the file system stopped answering`);
      expect(noStack(r.stderr)).toBe(true);
    });

    /**
     * Runs `lines` (a module that imports src/ modules by `src(name)`) in a child process with
     * `env`; resolves at its exit, or with `exit` undefined when it had not ended after `maxMs`.
     * `firstOutputAt`: when its first standard output arrived.
     */
    async function runModule(
      name: string,
      lines: (src: (module: string) => string) => string[],
      env: NodeJS.ProcessEnv,
      maxMs: number,
    ): Promise<{
      out: string;
      firstOutputAt: number;
      exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
    }> {
      const script = join(base, `${name}.mts`);
      const src = (m: string) => JSON.stringify(join(import.meta.dirname, '..', '..', 'src', m));
      writeFileSync(script, lines(src).join('\n'));
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let firstOutputAt = 0;
      child.stdout.on('data', (d) => {
        firstOutputAt ||= Date.now();
        out += d;
      });
      const exit = await Promise.race([
        new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
        ),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), maxMs)),
      ]);
      return { out, firstOutputAt, ...(exit ? { exit } : {}) };
    }

    it("a run ending while a call it left behind still waits in a hung mount (not yet late) → Node 22.15+ exits at once with its code; older Node at that call's deadline (SIGKILL), not when the mount answers", async () => {
      const own = startHungMount(join(base, 'nfs-left'));
      cleanups.push(() => own.stop());
      const timeoutS = 6;
      const deadline = metadataDeadline(storageTimeouts(timeoutS * 1000));
      const dest = join(own.path, 'dest');
      const r = await runModule(
        'left-behind',
        (src) => [
          `import { fsWatchFor } from ${src('storage/fs-watch.ts')};`,
          `import { endProcess } from ${src('processes.ts')};`,
          `import { stat } from 'node:fs/promises';`,
          // The call is in flight, not late, when the run ends.
          `const watch = fsWatchFor(${JSON.stringify(dest)});`,
          `watch.run('stat', 'list', undefined, () => stat(${JSON.stringify(join(dest, 'db'))})).catch(() => {});`,
          `setTimeout(() => { process.stdout.write('ending\\n'); endProcess(3); }, 300);`,
        ],
        { LMS_BACKUP_STORAGE_TIMEOUT: String(timeoutS) },
        // Never thawed before the end: a process that waited for the mount fails the test.
        deadline + 20_000,
      );
      own.stop();
      expect(r.exit, 'the process waited for the mount').toBeDefined();
      expect(r.out).toContain('ending');
      const afterEnding = r.exit!.at - r.firstOutputAt;
      if (typeof (process as { execve?: unknown }).execve === 'function') {
        expect(r.exit!.code).toBe(3);
        expect(afterEnding).toBeLessThan(deadline / 2);
      } else {
        // The call became late (its deadline counts from before 'ending'): then SIGKILL.
        expect(r.exit!.signal).toBe('SIGKILL');
        expect(afterEnding).toBeGreaterThan(deadline / 2);
        expect(afterEnding).toBeLessThan(deadline + 5000);
      }
    });

    it('a state directory (the record spool) on a mount that stopped answering → the backup completes within the bound, its record at the destination', async () => {
      // A mount of its own: the spool's stuck call must not hold the shared mount's lock.
      const own = startHungMount(join(base, 'nfs-state'));
      cleanups.push(() => own.stop());
      const root = join(base, 'spool-dest');
      const started = Date.now();
      const r = await runCli(['backup', '--to', root, '--no-encryption'], {
        ...pgEnv(src.conn),
        LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        LMS_BACKUP_STATE_DIR: join(own.path, 'state'),
      });
      expect(Date.now() - started).toBeLessThan(HUNG_BOUND_MS + 20_000);
      // The run record was written, then the spool (what waits for this destination) was asked.
      expectEndedDespiteStuckCall(r, 0);
      expect(r.stdout + r.stderr).toMatch(/backup lms_\d{8}_\d{6} complete/);
      expect(readdirSync(join(root, 'runs')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
      expect(readdirSync(join(root, 'db')).filter((f) => f.endsWith('.manifest.json'))).toHaveLength(1);
      expect(noStack(r.stderr)).toBe(true);
    });

    it('an internal error after the state directory stopped answering → its crash log goes to the temporary directory at once, not into the hung mount', async () => {
      const own = startHungMount(join(base, 'nfs-crash'));
      cleanups.push(() => own.stop());
      const r = await runModule(
        'crash-after-hang',
        (src) => [
          `import { spoolRecord } from ${src('catalog/spool.ts')};`,
          `import { writeCrashLog } from ${src('crash.ts')};`,
          `import { endProcess } from ${src('processes.ts')};`,
          // The spool finds the state directory not answering (within the bound), then a bug.
          `const spooled = await spoolRecord('dest', 'run_x', '{}');`,
          'const at = Date.now();',
          `const path = writeCrashLog(new Error('boom'), 'a test');`,
          'process.stdout.write(JSON.stringify({ spooled, path, ms: Date.now() - at }) + "\\n");',
          'endProcess(0);',
        ],
        {
          LMS_BACKUP_STATE_DIR: join(own.path, 'state'),
          LMS_BACKUP_STORAGE_TIMEOUT: String(HUNG_BOUND_MS / 1000),
        },
        HUNG_BOUND_MS + 20_000,
      );
      own.stop();
      expect(r.exit, `the process did not end: ${r.out}`).toBeDefined();
      const { spooled, path, ms } = JSON.parse(r.out.trim()) as {
        spooled: string | null;
        path: string;
        ms: number;
      };
      cleanups.push(() => rmSync(path, { force: true }));
      expect(spooled).toBeNull();
      expect(path.startsWith(`${tmpdir()}/`)).toBe(true);
      expect(readFileSync(path, 'utf8')).toContain('boom');
      expect(ms).toBeLessThan(1000);
    });
  },
);
