import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createDurableFile } from '../../src/durable-file.js';
import { YOUNG_GC_EVERY, youngGcEvery } from '../../src/young-gc.js';

const dir = mkdtempSync(join(tmpdir(), 'lms-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `total` bytes in pieces of irregular sizes (1 byte to 300 KiB), as a pipe delivers them. */
function pieces(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(data.length - at, [1, 65536, 300 * 1024, 17, 4096][i % 5]!);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('durable file (staged objects)', () => {
  it('writes every byte in order across batches and background syncs, with its size, SHA-256 and witness', async () => {
    // Past the 1 MiB batch and the 8 MiB background fdatasync more than once.
    const data = randomBytes(20 * 1024 * 1024 + 3);
    const path = join(dir, 'big');
    const file = createDurableFile(path);
    await pipeline(Readable.from(pieces(data)), file);
    const back = readFileSync(path);
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
    expect(file.bytes).toBe(data.length);
    expect(file.digest()).toBe(createHash('sha256').update(data).digest('hex'));
    const st = statSync(path, { bigint: true });
    expect(file.witness.ino).toBe(st.ino);
    expect(file.witness.size).toBe(BigInt(data.length));
    expect(file.witness.ctimeNs).toBe(st.ctimeNs);
    expect(Number(st.mode & 0o777n)).toBe(0o600);
  });

  it('an empty stream makes an empty file with the SHA-256 of nothing', async () => {
    const path = join(dir, 'empty');
    const file = createDurableFile(path);
    await pipeline(Readable.from([]), file);
    expect(statSync(path).size).toBe(0);
    expect(file.digest()).toBe(createHash('sha256').digest('hex'));
  });

  it('refuses a name that exists (nothing is overwritten) unless told otherwise', async () => {
    const path = join(dir, 'taken');
    writeFileSync(path, 'keep me');
    await expect(
      pipeline(Readable.from([Buffer.from('new')]), createDurableFile(path)),
    ).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readFileSync(path, 'utf8')).toBe('keep me');
    await pipeline(Readable.from([Buffer.from('new')]), createDurableFile(path, { exclusive: false }));
    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  it('a failing source fails the pipeline, and digest() is refused for an unfinished file', async () => {
    const path = join(dir, 'failing');
    const file = createDurableFile(path);
    const source = new Readable({
      read() {
        this.push(randomBytes(2 * 1024 * 1024));
        this.destroy(new Error('pg_dump died'));
      },
    });
    await expect(pipeline(source, file)).rejects.toThrow(/pg_dump died/);
    expect(() => file.digest()).toThrow(/before the stream finished/);
  });
});

/** Young-generation GCs that were asked for (a forced GC), while `run` runs. */
async function forcedMinorGcs(run: () => Promise<void> | void): Promise<number> {
  const kinds: { kind: number; flags: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      kinds.push((e as PerformanceEntry & { detail: { kind: number; flags: number } }).detail);
  });
  observer.observe({ entryTypes: ['gc'] });
  try {
    await run();
    // GC entries are delivered on a later turn of the event loop.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    observer.disconnect();
  }
  return kinds.filter(
    (k) =>
      k.kind === constants.NODE_PERFORMANCE_GC_MINOR && k.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED,
  ).length;
}

describe('young-generation GC by bytes (the dead pieces of a stream)', () => {
  it('runs one each time the bytes counted pass the step while buffers hold more than it, and none before', async () => {
    const held = Buffer.allocUnsafeSlow(4 << 20); // buffers over the step
    const count = youngGcEvery(1 << 20);
    expect(await forcedMinorGcs(() => count((1 << 20) - 1))).toBe(0);
    expect(await forcedMinorGcs(() => count(1))).toBe(1);
    expect(
      await forcedMinorGcs(() => {
        for (let i = 0; i < 12; i++) count(256 * 1024);
      }),
    ).toBe(3);
    expect(held.length).toBe(4 << 20);
  });

  it('runs none while the buffers hold less than the step', async () => {
    const count = youngGcEvery(1 << 30);
    expect(await forcedMinorGcs(() => count(3 << 30))).toBe(0);
  });

  it("sets V8's marking triggers as flags this Node knows (nothing on stderr)", () => {
    // In a fresh process: V8 prints "unrecognized flag" on stderr (and goes on) for a flag it
    // does not have.
    const code = [
      "const { youngGcEvery } = await import('./src/young-gc.ts');",
      'youngGcEvery();',
      "const { setFlagsFromString } = await import('node:v8');",
      "if (process.env.PROBE) setFlagsFromString('--no-such-flag-here');",
    ].join('\n');
    const run = (env: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    const tuned = run({});
    expect(tuned.status).toBe(0);
    expect(tuned.stderr).toBe('');
    // The probe shows what an unknown flag does here: the check above would see it.
    expect(run({ PROBE: '1' }).stderr).toMatch(/unrecognized flag --no-such-flag-here/);
  });

  it('a durable file asks for one every 4 MiB it writes', async () => {
    const data = randomBytes(3 * YOUNG_GC_EVERY + 5); // held: the buffers are over the step
    const path = join(dir, 'collected');
    const gcs = await forcedMinorGcs(() => pipeline(Readable.from(pieces(data)), createDurableFile(path)));
    expect(YOUNG_GC_EVERY).toBe(4 << 20);
    expect(gcs).toBe(3);
    expect(readFileSync(path).equals(data)).toBe(true);
  });
});
