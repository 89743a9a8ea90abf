/**
 * Every way decryption can fail gets its own typed error, a message and a hint, no secret in
 * either, the right exit code, and decryptToFile leaves nothing behind (no dest, no temp file,
 * an existing dest untouched).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Encrypter, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgeDamagedError,
  type AgeDecryptOptions,
  AgeEmptyFileError,
  AgeHeaderError,
  AgeIdentityRequiredError,
  AgeNotAgeError,
  AgeOptionsError,
  AgePassphraseRequiredError,
  AgeRecipientError,
  AgeTamperedError,
  AgeTruncatedError,
  AgeWorkFactorError,
  AgeWrongIdentityError,
  AgeWrongPassphraseError,
  createAgeDecryptStream,
  createAgeEncryptStream,
  decryptToFile,
  generateIdentity,
} from '../../src/crypto/age.js';
import { ConfigError, describeError, exitCodeOf, JobFailedError } from '../../src/errors.js';
import {
  ageKeygen,
  caught,
  collect,
  handBuiltAge,
  makeTempDir,
  pieces,
  randomData,
  requireAgeCli,
  run,
} from './helpers.js';

const CHUNK = 65536;
const ENC = CHUNK + 16;
const PASSPHRASE = 'hunter2-but-longer-and-secret';

let dir: string;
let cleanup: () => Promise<void>;
const alice = generateIdentity();
const bob = generateIdentity();
const mallory = generateIdentity();

beforeAll(async () => {
  requireAgeCli();
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

async function encrypt(data: Buffer, options: Parameters<typeof createAgeEncryptStream>[0]): Promise<Buffer> {
  return collect(pieces(data, [100_000]), createAgeEncryptStream(options));
}

function headerLength(file: Buffer): number {
  return file.indexOf('\n---') + 49;
}

function flip(file: Buffer, offset: number, to?: number): Buffer {
  const copy = Buffer.from(file);
  copy[offset] = to ?? copy[offset]! ^ 0x01;
  return copy;
}

/** Stream decryption and decryptToFile both fail with `expected`; nothing is left on disk. */
async function expectFailure(
  input: Buffer,
  options: AgeDecryptOptions,
  expected: abstract new (...args: never[]) => Error,
  message: RegExp,
): Promise<Error> {
  const error = await caught(() =>
    collect(pieces(input, [7, 50_000, 65552]), createAgeDecryptStream(options)),
  );
  expect(error).toBeInstanceOf(expected);
  expect(error.message).toMatch(message);
  const text = describeError(error);
  expect((error as { hint?: string }).hint, 'every error says what to do').toBeTruthy();
  for (const secret of [alice.identity, bob.identity, mallory.identity, PASSPHRASE]) {
    expect(text).not.toContain(secret);
    expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
  }

  // decryptToFile: a new dest is never created, an existing one is never touched, no temp file.
  const sub = join(dir, `case-${Math.random().toString(36).slice(2)}`);
  await mkdir(sub);
  const fresh = join(sub, 'restored.dump');
  const toFile = await caught(() => decryptToFile(Readable.from(pieces(input, [65536])), fresh, options));
  expect(toFile).toBeInstanceOf(expected);
  expect(await readdir(sub)).toEqual([]);
  const existing = join(sub, 'existing.dump');
  await writeFile(existing, 'previous good content');
  await caught(() => decryptToFile(Readable.from([input]), existing, options));
  expect(await readdir(sub)).toEqual(['existing.dump']);
  expect(await readFile(existing, 'utf8')).toBe('previous good content');
  return error;
}

describe('configuration errors (exit 2)', () => {
  it('wrong identity: none of the given identities matches', async () => {
    const file = await encrypt(randomData(1000), { recipients: [alice.recipient] });
    const error = await expectFailure(
      file,
      { identities: [mallory.identity] },
      AgeWrongIdentityError,
      new RegExp(
        `^The given age identity cannot decrypt this file: it is encrypted to 1 recipient stanza \\(X25519\\), and the identity is for ${mallory.recipient}$`,
      ),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(exitCodeOf(error)).toBe(2);
  });

  it('wrong identities against an age CLI file for two recipients', async () => {
    const plain = join(dir, 'two.txt');
    const enc = join(dir, 'two.age');
    await writeFile(plain, 'for alice and bob');
    await run('age', ['-r', alice.recipient, '-r', bob.recipient, '-o', enc, plain]);
    await expectFailure(
      await readFile(enc),
      { identities: [mallory.identity, generateIdentity().identity] },
      AgeWrongIdentityError,
      /None of the 2 given age identities can decrypt this file: it is encrypted to 2 recipient stanzas \(X25519 ×2\), and the identities are for age1/,
    );
  });

  it('a file for a post-quantum recipient (typage) names the stanza type it holds', async () => {
    const pq = await identityToRecipient(await generateHybridIdentity());
    expect(() => createAgeEncryptStream({ recipients: [pq] })).toThrow(/post-quantum/);
    const encrypter = new Encrypter();
    encrypter.addRecipient(pq);
    const file = Buffer.from(await encrypter.encrypt(randomData(100)));
    await expectFailure(
      file,
      { identities: [alice.identity] },
      AgeWrongIdentityError,
      /1 recipient stanza \(mlkem768x25519\)/,
    );
  });

  it('wrong passphrase', async () => {
    const file = await encrypt(randomData(1000), { passphrase: PASSPHRASE, scryptWorkFactor: 10 });
    const error = await expectFailure(
      file,
      { passphrase: `${PASSPHRASE}!` },
      AgeWrongPassphraseError,
      /passphrase does not decrypt/,
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  it('a passphrase file given identities only', async () => {
    const file = await encrypt(randomData(10), { passphrase: PASSPHRASE, scryptWorkFactor: 10 });
    const error = await expectFailure(
      file,
      { identities: [alice.identity] },
      AgePassphraseRequiredError,
      /passphrase-encrypted .* no passphrase was given/,
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  it('a recipient file given a passphrase only', async () => {
    const file = await encrypt(randomData(10), { recipients: [alice.recipient, bob.recipient] });
    const error = await expectFailure(
      file,
      { passphrase: PASSPHRASE },
      AgeIdentityRequiredError,
      /encrypted to 2 recipient stanzas \(X25519 ×2\), not with a passphrase/,
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  it('a scrypt work factor above the accepted maximum', async () => {
    const file = await encrypt(randomData(10), { passphrase: PASSPHRASE, scryptWorkFactor: 12 });
    const error = await expectFailure(
      file,
      { passphrase: PASSPHRASE, maxWorkFactor: 11 },
      AgeWorkFactorError,
      /2\^12, above the accepted maximum 2\^11/,
    );
    expect(exitCodeOf(error)).toBe(2);
  });

  it('bad options fail at once, before any file is created', async () => {
    expect(() => createAgeEncryptStream({})).toThrow(AgeOptionsError);
    expect(() => createAgeEncryptStream({ recipients: [alice.recipient], passphrase: 'x' })).toThrow(
      /passphrase and recipients at once/,
    );
    expect(() => createAgeEncryptStream({ passphrase: '' })).toThrow(AgeOptionsError);
    expect(() => createAgeEncryptStream({ passphrase: 'x', scryptWorkFactor: 0 })).toThrow(AgeOptionsError);
    expect(() => createAgeEncryptStream({ recipients: ['age1notvalid'] })).toThrow(AgeRecipientError);
    expect(() => createAgeDecryptStream({})).toThrow(AgeOptionsError);
    expect(() => createAgeDecryptStream({ identities: ['AGE-SECRET-KEY-1NOPE'] })).toThrow(ConfigError);
    const sub = join(dir, 'bad-options');
    await mkdir(sub);
    await expect(decryptToFile(Readable.from([Buffer.alloc(10)]), join(sub, 'x'), {})).rejects.toThrow(
      AgeOptionsError,
    );
    expect(await readdir(sub)).toEqual([]);
  });
});

describe('damaged or foreign files (exit 1)', () => {
  const opts = () => ({ identities: [alice.identity] });
  let multi: Buffer; // 3 full chunks and a 100-byte final chunk
  let multiPlain: Buffer;

  beforeAll(async () => {
    multiPlain = randomData(3 * CHUNK + 100, 42);
    multi = await encrypt(multiPlain, { recipients: [alice.recipient] });
    expect(multi.length - headerLength(multi)).toBe(16 + 3 * ENC + 116);
    expect((await collect([multi], createAgeDecryptStream(opts()))).equals(multiPlain)).toBe(true);
  });

  it('truncated inside a payload chunk', async () => {
    const cut = multi.subarray(0, headerLength(multi) + 16 + ENC + 30_000);
    const error = await expectFailure(cut, opts(), AgeTruncatedError, /cut off inside a chunk/);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(exitCodeOf(error)).toBe(1);
  });

  it('truncated inside the last 16 bytes of a chunk', async () => {
    const cut = multi.subarray(0, headerLength(multi) + 16 + 3 * ENC + 10);
    await expectFailure(cut, opts(), AgeTruncatedError, /ends inside payload chunk 4/);
  });

  it('truncated exactly at a chunk boundary (final chunk dropped)', async () => {
    const cut = multi.subarray(0, multi.length - 116);
    await expectFailure(cut, opts(), AgeTruncatedError, /after payload chunk 3 without its final chunk/);
  });

  it('truncated at a chunk boundary when the dropped final chunk was full', async () => {
    const file = await encrypt(randomData(2 * CHUNK, 5), { recipients: [alice.recipient] });
    expect(file.length - headerLength(file)).toBe(16 + 2 * ENC);
    await expectFailure(
      file.subarray(0, file.length - ENC),
      opts(),
      AgeTruncatedError,
      /without its final chunk/,
    );
  });

  it('truncated inside the header, before the nonce, and before the first chunk', async () => {
    const h = headerLength(multi);
    await expectFailure(multi.subarray(0, 40), opts(), AgeTruncatedError, /ends inside its age header/);
    await expectFailure(multi.subarray(0, h - 1), opts(), AgeTruncatedError, /ends inside its age header/);
    await expectFailure(multi.subarray(0, h + 8), opts(), AgeTruncatedError, /before the payload/);
    await expectFailure(multi.subarray(0, h + 16), opts(), AgeTruncatedError, /no payload chunk/);
  });

  it('a flipped byte in the payload', async () => {
    const error = await expectFailure(
      flip(multi, headerLength(multi) + 16 + 1000),
      opts(),
      AgeTamperedError,
      /Payload chunk 1 failed authentication/,
    );
    expect(exitCodeOf(error)).toBe(1);
    await expectFailure(
      flip(multi, headerLength(multi) + 16 + 2 * ENC + ENC - 1),
      opts(),
      AgeTamperedError,
      /Payload chunk 3 failed authentication/,
    );
  });

  it('a flipped byte in the last chunk is reported as damage (cut or modified end)', async () => {
    await expectFailure(flip(multi, multi.length - 20), opts(), AgeDamagedError, /or its end was modified/);
  });

  it('a flipped byte in the header MAC', async () => {
    const macStart = multi.indexOf('\n--- ') + 5;
    const c = multi[macStart + 3]!;
    const error = await expectFailure(
      flip(multi, macStart + 3, c === 0x41 ? 0x42 : 0x41),
      opts(),
      AgeTamperedError,
      /header failed authentication/,
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it("a flipped byte in another recipient's stanza", async () => {
    const file = await encrypt(randomData(500), { recipients: [alice.recipient, bob.recipient] });
    const bobStanza = file.indexOf('-> X25519 ', file.indexOf('-> X25519 ') + 1);
    const bodyStart = file.indexOf('\n', bobStanza) + 1;
    const c = file[bodyStart + 5]!;
    await expectFailure(
      flip(file, bodyStart + 5, c === 0x41 ? 0x42 : 0x41),
      opts(),
      AgeTamperedError,
      /header failed authentication/,
    );
  });

  it('data appended after the final chunk', async () => {
    const full = await encrypt(randomData(CHUNK, 8), { recipients: [alice.recipient] });
    await expectFailure(
      Buffer.concat([full, Buffer.from('junk')]),
      opts(),
      AgeTamperedError,
      /continues after its final chunk/,
    );
    await expectFailure(
      Buffer.concat([multi, Buffer.from('junk')]),
      opts(),
      AgeDamagedError,
      /does not authenticate/,
    );
  });

  it('an empty final chunk after a full chunk (forbidden by the spec)', async () => {
    const file = handBuiltAge(alice.recipient, [
      { data: randomData(CHUNK, 1), last: false },
      { data: Buffer.alloc(0), last: true },
    ]);
    await expectFailure(file, opts(), AgeTamperedError, /empty final chunk/);
  });

  it('a zero-byte file', async () => {
    const error = await expectFailure(Buffer.alloc(0), opts(), AgeEmptyFileError, /empty \(0 bytes\)/);
    expect(exitCodeOf(error)).toBe(1);
  });

  it('an unencrypted pg_dump custom archive', async () => {
    const pgdmp = Buffer.concat([
      Buffer.from('PGDMP\x01\x0e\x00\x04\x08\x01\x01', 'latin1'),
      randomData(5000),
    ]);
    const error = await expectFailure(
      pgdmp,
      opts(),
      AgeNotAgeError,
      /not age-encrypted: it is an unencrypted pg_dump/,
    );
    expect(exitCodeOf(error)).toBe(1);
    await expectFailure(
      Buffer.from('hello\n'),
      opts(),
      AgeNotAgeError,
      /does not start with the age header line/,
    );
    await expectFailure(Buffer.from('age'), opts(), AgeNotAgeError, /not age-encrypted/);
  });

  it('damaged ASCII armor (age -a)', async () => {
    const plain = join(dir, 'armor.txt');
    const enc = join(dir, 'armor.age');
    await writeFile(plain, randomData(5000));
    await run('age', ['-a', '-r', alice.recipient, '-o', enc, plain]);
    const armored = await readFile(enc, 'latin1');
    const endLine = armored.indexOf('-----END');
    const bad = (s: string) => Buffer.from(s, 'latin1');
    await expectFailure(
      bad(armored.slice(0, endLine)),
      opts(),
      AgeTruncatedError,
      /ends before its END line/,
    );
    await expectFailure(bad(armored.slice(0, 500)), opts(), AgeTruncatedError, /ends before its END line/);
    await expectFailure(
      bad(`${armored}trailing text\n`),
      opts(),
      AgeHeaderError,
      /text follows the END line/,
    );
    const rewrapped = armored.replace(/(?<=[A-Za-z0-9+/])\n(?=[A-Za-z0-9+/])/, '');
    await expectFailure(bad(rewrapped), opts(), AgeHeaderError, /not 64-column base64/);
    // A changed character in a full body line (always canonical) is caught by the payload AEAD.
    const lines = armored.split('\n');
    const target = lines.length - 5;
    expect(lines[target]).toHaveLength(64);
    lines[target] =
      `${lines[target]!.slice(0, 10)}${lines[target]![10] === 'A' ? 'B' : 'A'}${lines[target]!.slice(11)}`;
    await expectFailure(bad(lines.join('\n')), opts(), AgeDamagedError, /does not authenticate/);
  });

  it('malformed headers', async () => {
    const good = (await encrypt(randomData(10), { recipients: [alice.recipient] })).toString('latin1');
    const bad = (s: string) => Buffer.from(s, 'latin1');
    await expectFailure(
      bad(good.replace('age-encryption.org/v1', 'age-encryption.org/v2')),
      opts(),
      AgeHeaderError,
      /Unsupported age format version "v2"/,
    );
    await expectFailure(
      bad(good.replace('-> X25519 ', '-> X25519 extra ')),
      opts(),
      AgeHeaderError,
      /X25519/,
    );
    await expectFailure(bad(good.replace('-> X25519 ', '->  X25519 ')), opts(), AgeHeaderError, /malformed/);
    await expectFailure(bad(good.replace('\n---', '\r\n---')), opts(), AgeHeaderError, /malformed/);
    const header = good.slice(0, good.indexOf('\n---'));
    const noBody = `${header.slice(0, header.lastIndexOf('\n'))}\n${good.slice(good.indexOf('\n---') + 1)}`;
    await expectFailure(bad(noBody), opts(), AgeHeaderError, /malformed/);
    // Non-canonical base64: the last character of the 32-byte body carries 2 unused bits.
    const bodyEnd = good.indexOf('\n---');
    const last = good[bodyEnd - 1]!;
    const sibling = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(last) ^ 1;
    const nonCanonical = `${good.slice(0, bodyEnd - 1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[sibling]}${good.slice(bodyEnd)}`;
    await expectFailure(bad(nonCanonical), opts(), AgeHeaderError, /not canonical base64/);
  });

  it('a scrypt stanza mixed with another stanza', async () => {
    const file = handBuiltAge(
      alice.recipient,
      [{ data: Buffer.from('x'), last: true }],
      [{ type: 'scrypt', args: ['AAAAAAAAAAAAAAAAAAAAAA', '10'], body: randomData(32) }],
    );
    await expectFailure(
      file,
      { passphrase: PASSPHRASE },
      AgeHeaderError,
      /mixes a passphrase \(scrypt\) stanza/,
    );
  });
});

describe('the age CLI agrees about damaged files', () => {
  it('age -d also rejects our truncation and tamper cases', async () => {
    const key = await ageKeygen(join(dir, 'cli-key.txt'));
    const file = await encrypt(randomData(3 * CHUNK + 100, 1), { recipients: [key.recipient] });
    const h = headerLength(file);
    const cases = {
      'mid-chunk': file.subarray(0, h + 16 + ENC + 1000),
      boundary: file.subarray(0, file.length - 116),
      flipped: flip(file, h + 16 + 5),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const path = join(dir, `cli-${name}.age`);
      await writeFile(path, bytes);
      await expect(
        run('age', ['-d', '-i', key.path, '-o', join(dir, `cli-${name}.out`), path]),
        name,
      ).rejects.toThrow();
    }
  });
});
