/**
 * Throughput of our age streams (node:crypto native ChaCha20-Poly1305) against the age author's
 * pure-JS library `age-encryption`, measured in the same run: median of 3 alternating runs.
 * Reports only; no pass/fail. Run alone with `npx tsx bench/crypto.ts [megabytes]`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { Decrypter, Encrypter } from 'age-encryption';
import { createAgeDecryptStream, createAgeEncryptStream, generateIdentity } from '../src/crypto/age.js';

const MIB = 1024 * 1024;
const RUNS = 3;

interface Row {
  name: string;
  megabytes: number;
  encrypt: number[];
  decrypt: number[];
}

/** `total` bytes as 1 MiB views into one random block (no allocation while timing). */
function* plaintext(total: number, block: Buffer): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += MIB) {
    const n = Math.min(MIB, total - sent);
    const offset = (sent / MIB) % 7;
    yield block.subarray(offset * 4096, offset * 4096 + n);
  }
}

function discard(): Writable {
  return new Writable({
    highWaterMark: MIB,
    write(_chunk, _e, cb) {
      cb();
    },
    writev(_chunks, cb) {
      cb();
    },
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function collectNode(source: Iterable<Buffer>, transform: Transform): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(source), transform, async (s: AsyncIterable<Buffer>) => {
    for await (const c of s) out.push(c);
  });
  return out;
}

function webStream(chunks: Iterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.iterator]();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
}

async function drainWeb(stream: ReadableStream<Uint8Array>, keep?: Uint8Array[]): Promise<number> {
  let bytes = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.length;
    keep?.push(value);
  }
}

/** The Go `age` CLI through pipes, for context; undefined when it is not installed. */
function ageCli(args: string[], input: Iterable<Buffer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('age', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`age exited ${code}: ${stderr}`)),
    );
    pipeline(Readable.from(input), child.stdin).catch(reject);
  });
}

async function hasAgeCli(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('age', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (megabytes: number, seconds: number) => (megabytes * MIB) / 1e6 / seconds;

export async function benchCrypto(opts: { megabytes?: number } = {}): Promise<string> {
  const oursMb = Math.max(1, Math.round(opts.megabytes ?? 128));
  // The pure-JS library runs ~15× slower: a smaller input keeps the run short.
  const libMb = Math.max(1, Math.min(oursMb, Math.round(oursMb / 8)));
  const block = randomBytes(MIB + 7 * 4096);
  const { identity, recipient } = generateIdentity();
  const ours: Row = { name: 'ours (node:crypto native)', megabytes: oursMb, encrypt: [], decrypt: [] };
  const lib: Row = { name: 'age-encryption 0.3.1 (pure JS)', megabytes: libMb, encrypt: [], decrypt: [] };
  const cli: Row = { name: 'age CLI (Go), via pipes', megabytes: oursMb, encrypt: [], decrypt: [] };
  const withCli = await hasAgeCli();

  // Ciphertexts to decrypt, made once outside the timings.
  const oursCipher = await collectNode(
    plaintext(oursMb * MIB, block),
    createAgeEncryptStream({ recipients: [recipient] }),
  );
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  const libCipher: Uint8Array[] = [];
  await drainWeb(await encrypter.encrypt(webStream(plaintext(libMb * MIB, block))), libCipher);
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const keyDir = await mkdtemp(join(tmpdir(), 'lms-bench-'));
  const keyFile = join(keyDir, 'key.txt');
  await writeFile(keyFile, `${identity}\n`, { mode: 0o600 });

  try {
    for (let run = 0; run < RUNS; run++) {
      ours.encrypt.push(
        await timed(() =>
          pipeline(
            Readable.from(plaintext(oursMb * MIB, block)),
            createAgeEncryptStream({ recipients: [recipient] }),
            discard(),
          ),
        ),
      );
      lib.encrypt.push(
        await timed(async () => drainWeb(await encrypter.encrypt(webStream(plaintext(libMb * MIB, block))))),
      );
      ours.decrypt.push(
        await timed(() =>
          pipeline(Readable.from(oursCipher), createAgeDecryptStream({ identities: [identity] }), discard()),
        ),
      );
      lib.decrypt.push(await timed(async () => drainWeb(await decrypter.decrypt(webStream(libCipher)))));
      if (withCli) {
        cli.encrypt.push(await timed(() => ageCli(['-r', recipient], plaintext(oursMb * MIB, block))));
        cli.decrypt.push(await timed(() => ageCli(['-d', '-i', keyFile], oursCipher)));
      }
    }
  } finally {
    await rm(keyDir, { recursive: true, force: true });
  }

  const rows = withCli ? [ours, lib, cli] : [ours, lib];
  const fmt = (n: number) => n.toFixed(0);
  const table = rows.map((r) => {
    const enc = rate(r.megabytes, median(r.encrypt));
    const dec = rate(r.megabytes, median(r.decrypt));
    return `| ${r.name} | ${r.megabytes} | ${fmt(enc)} | ${fmt(dec)} |`;
  });
  const ratio = (k: 'encrypt' | 'decrypt') =>
    (rate(ours.megabytes, median(ours[k])) / rate(lib.megabytes, median(lib[k]))).toFixed(1);
  return [
    '## age encryption throughput',
    '',
    `X25519 recipient, 64 KiB chunks, median of ${RUNS} alternating runs, one process, Node ${process.version}.`,
    'MB/s = 10^6 bytes per second of plaintext; inputs are MiB.',
    '',
    '| implementation | MiB | encrypt MB/s | decrypt MB/s |',
    '| --- | ---: | ---: | ---: |',
    ...table,
    `| **ratio ours / library** | | **${ratio('encrypt')}×** | **${ratio('decrypt')}×** |`,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const megabytes = process.argv[2] ? Number(process.argv[2]) : undefined;
  process.stdout.write(`${await benchCrypto(megabytes === undefined ? {} : { megabytes })}\n`);
}
