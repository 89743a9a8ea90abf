/** SHA-256 streaming and sidecars, checked against the real sha256sum. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sha256SidecarError } from '../../src/crypto/errors.js';
import { parseSha256Sidecar, Sha256Meter, sha256File, sha256Sidecar } from '../../src/crypto/hash.js';
import { exitCodeOf } from '../../src/errors.js';
import { makeTempDir, pieces, randomData, run } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir('lms-hash-'));
});
afterAll(() => cleanup());

async function sha256sum(path: string): Promise<string> {
  return (await run('sha256sum', [path])).stdout.toString().split(' ')[0]!;
}

describe('Sha256Meter', () => {
  it('passes bytes through unchanged, counts them and hashes them like sha256sum', async () => {
    const data = randomData(1_000_003, 4);
    const path = join(dir, 'meter.bin');
    await writeFile(path, data);
    const meter = new Sha256Meter();
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(pieces(data, [1, 999, 65536, 300_000])),
      meter,
      new Writable({
        write(chunk, _e, cb) {
          out.push(chunk);
          cb();
        },
      }),
    );
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(meter.bytes).toBe(data.length);
    expect(meter.digest()).toBe(await sha256sum(path));
  });

  it('refuses to give a digest before the end', () => {
    const meter = new Sha256Meter();
    meter.write(Buffer.from('abc'));
    expect(() => meter.digest()).toThrow(/before the stream ended/);
    meter.destroy();
  });

  it('digests an empty stream', async () => {
    const meter = new Sha256Meter();
    await pipeline(Readable.from([]), meter, async (s) => {
      for await (const _ of s);
    });
    expect(meter.bytes).toBe(0);
    expect(meter.digest()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('sha256File and sidecars', () => {
  it('sha256File equals sha256sum, and sha256sum -c accepts our sidecar', async () => {
    const name = 'lms_20240115_020000.dump.age';
    const path = join(dir, name);
    await writeFile(path, randomData(777_777, 9));
    const { bytes, sha256 } = await sha256File(path);
    expect(bytes).toBe(777_777);
    expect(sha256).toBe(await sha256sum(path));
    const sidecar = sha256Sidecar(sha256, name);
    expect(sidecar).toBe(`${sha256}  ${name}\n`);
    await writeFile(`${path}.sha256`, sidecar);
    const check = await run('sh', ['-c', `cd "$1" && sha256sum -c "$2"`, 'sh', dir, `${name}.sha256`]);
    expect(check.stdout.toString()).toBe(`${name}: OK\n`);
    // A changed file fails the same check: the sidecar really pins the content.
    await writeFile(path, randomData(777_777, 10));
    await expect(
      run('sh', ['-c', `cd "$1" && sha256sum -c "$2"`, 'sh', dir, `${name}.sha256`]),
    ).rejects.toThrow();
  });

  it('parses what sha256sum writes, in text and binary mode', async () => {
    const path = join(dir, 'x.dump');
    await writeFile(path, 'x');
    const text = (await run('sh', ['-c', 'cd "$1" && sha256sum x.dump', 'sh', dir])).stdout.toString();
    const binary = (await run('sh', ['-c', 'cd "$1" && sha256sum -b x.dump', 'sh', dir])).stdout.toString();
    const expected = { sha256: await sha256sum(path), fileName: 'x.dump' };
    expect(parseSha256Sidecar(text)).toEqual(expected);
    expect(parseSha256Sidecar(binary)).toEqual(expected);
    expect(parseSha256Sidecar(`${expected.sha256.toUpperCase()}  x.dump\r\n`)).toEqual(expected);
  });

  it('rejects malformed sidecars with a clear job error', () => {
    for (const bad of [
      '',
      'abc  x',
      `${'a'.repeat(64)}x`,
      `${'a'.repeat(64)}  `,
      `${'a'.repeat(64)}  x\n${'b'.repeat(64)}  y\n`,
    ]) {
      let error: unknown;
      try {
        parseSha256Sidecar(bad);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(bad)).toBeInstanceOf(Sha256SidecarError);
      expect(exitCodeOf(error)).toBe(1);
      expect((error as Sha256SidecarError).message).toMatch(/not in sha256sum format/);
    }
  });

  it('sha256Sidecar refuses a bad digest or a name sha256sum would escape', () => {
    expect(() => sha256Sidecar('xyz', 'a')).toThrow(RangeError);
    expect(() => sha256Sidecar('a'.repeat(64), 'a\nb')).toThrow(RangeError);
    expect(sha256Sidecar('A'.repeat(64), 'a')).toBe(`${'a'.repeat(64)}  a\n`);
  });
});

describe('sha256File on a missing file', () => {
  it('rejects with the fs error', async () => {
    await expect(sha256File(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});
