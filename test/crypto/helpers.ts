/** Shared helpers for the crypto tests: temp dirs, the real `age` CLI (also through a pty), streams. */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { encodeHeader, type Stanza } from '../../src/crypto/age-format.js';
import { parseRecipient, wrapX25519 } from '../../src/crypto/age-keys.js';

const execFileAsync = promisify(execFile);

/** Fails loudly (not a skip) when the interop oracle is missing. */
export function requireAgeCli(): string {
  try {
    return execFileSync('age', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'the age CLI is required for these tests: apt-get install age (it provides age and age-keygen)',
    );
  }
}

export async function makeTempDir(
  prefix = 'lms-crypto-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function run(file: string, args: string[]): Promise<{ stdout: Buffer; stderr: string }> {
  const { stdout, stderr } = await execFileAsync(file, args, { encoding: 'buffer', maxBuffer: 1 << 30 });
  return { stdout, stderr: stderr.toString() };
}

/** Runs `cmd`, expecting failure; returns its stderr. */
export async function runFailing(file: string, args: string[]): Promise<string> {
  try {
    await execFileAsync(file, args, { encoding: 'utf8' });
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`${file} ${args.join(' ')} succeeded but was expected to fail`);
}

/** A fresh key file from the real age-keygen; returns its path, identity line and recipient. */
export async function ageKeygen(
  path: string,
): Promise<{ path: string; identity: string; recipient: string }> {
  await run('age-keygen', ['-o', path]);
  const { readFile } = await import('node:fs/promises');
  const identity = (await readFile(path, 'utf8')).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1'))!;
  const recipient = (await run('age-keygen', ['-y', path])).stdout.toString().trim();
  return { path, identity, recipient };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs `age` with its passphrase prompts answered through a pseudo-terminal (`script`), since
 * age reads passphrases only from a terminal. Each "Enter/Confirm passphrase" prompt gets `passphrase`.
 */
export function ageWithPty(args: string[], passphrase: string): Promise<{ code: number; output: string }> {
  const command = ['age', ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = 0;
    const onData = (d: Buffer) => {
      output += d.toString();
      const prompts = output.match(/(enter|confirm) passphrase/gi)?.length ?? 0;
      for (; answered < prompts; answered++) child.stdin.write(`${passphrase}\n`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // age may hold the pipes after script dies, so settle on the timer rather than on 'close'.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: -1, output: `${output}\n[timed out after 60 s]` });
    }, 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** Random bytes; the same seed gives the same bytes (fast for large sizes). */
export function randomData(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (let i = size - (size % 4); i < size; i++) out[i] = i & 0xff;
  return out;
}

/** Pieces of `data` of the given sizes (cycled), to exercise chunk boundaries. */
export function* pieces(data: Buffer, sizes: number[]): Generator<Buffer> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const n = Math.max(1, sizes[i++ % sizes.length]!);
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

export async function collect(
  source: Readable | Iterable<Buffer> | AsyncIterable<Buffer>,
  transform: Transform,
) {
  const chunks: Buffer[] = [];
  await pipeline(source instanceof Readable ? source : Readable.from(source), transform, async (s) => {
    for await (const c of s as AsyncIterable<Buffer>) chunks.push(c);
  });
  return Buffer.concat(chunks);
}

/** Runs `fn` and returns what it threw (fails the test when it did not throw). */
export async function caught(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

/**
 * An age file assembled by hand from the spec, with full control over the payload chunks (their
 * contents and last-chunk flags): for files a conforming encoder would never write.
 */
export function handBuiltAge(
  recipient: string,
  chunks: { data: Buffer; last: boolean }[],
  extraStanzas: Stanza[] = [],
): Buffer {
  const fileKey = randomBytes(16);
  const header = encodeHeader([...extraStanzas, wrapX25519(fileKey, parseRecipient(recipient))], fileKey);
  const nonce = randomBytes(16);
  const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const parts = [header, nonce];
  chunks.forEach(({ data, last }, counter) => {
    const chunkNonce = Buffer.alloc(12);
    chunkNonce.writeUIntBE(counter, 5, 6);
    chunkNonce[11] = last ? 1 : 0;
    const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce, { authTagLength: 16 });
    parts.push(cipher.update(data), cipher.final(), cipher.getAuthTag());
  });
  return Buffer.concat(parts);
}
