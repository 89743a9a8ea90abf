import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compressThreads, findZstdBinary, levelArgs } from '../../src/compress/zstd.js';

describe('zstd worker threads', () => {
  it('one worker on two cores or fewer, one per core above', () => {
    expect(compressThreads(1)).toBe(1);
    expect(compressThreads(2)).toBe(1);
    expect(compressThreads(4)).toBe(0);
    expect(compressThreads(16)).toBe(0);
  });

  it('the real zstd writes the same bytes with one worker as with one per core; plain zstd -d reads the wider window', () => {
    const zstd = findZstdBinary();
    expect(zstd, 'the zstd binary (scripts/setup.sh installs it)').not.toBeNull();
    // 48 MiB of COPY-like text: several of zstd's jobs, so the workers really split the input.
    const rows: string[] = [];
    for (let i = 0; rows.length < 600_000; i++)
      rows.push(`${i}\tuser-${i % 977}\t${(i * 7919) % 100_003}\tt\n`);
    const input = Buffer.from(rows.join('').repeat(2));
    const bin = zstd!.kind === 'binary' ? zstd!.path : 'zstd';
    const run = (threads: number, args = levelArgs(1)) =>
      spawnSync(bin, [...args, `-T${threads}`], {
        input,
        maxBuffer: 1 << 30,
      }).stdout;
    const one = run(1);
    expect(one.length).toBeGreaterThan(0);
    expect(one.length).toBeLessThan(input.length / 2);
    expect(run(0).equals(one)).toBe(true);
    expect(run(4).equals(one)).toBe(true);
    // The wider window stays within what a plain `zstd -d` accepts: it gives the input back.
    expect(one.equals(run(1, ['-1', '--check', '-q', '-c']))).toBe(false);
    const back = spawnSync(bin, ['-d', '-q', '-c'], { input: one, maxBuffer: 1 << 30 }).stdout;
    expect(back.equals(input)).toBe(true);
  });
});
