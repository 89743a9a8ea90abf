/**
 * age keys and recipient stanzas: X25519 identities/recipients (Bech32) and scrypt passphrases
 * (age-encryption.org/v1, "Native recipient types"), on node:crypto.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
  scrypt,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bech32 } from '@scure/base';
import { AGE_VERSION_PREFIX, base64Raw, decodeBase64Strict, hkdf32, type Stanza } from './age-format.js';
import { AgeHeaderError, AgeIdentityError, AgeRecipientError, AgeWorkFactorError } from './errors.js';

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const SCRYPT_LABEL = 'age-encryption.org/v1/scrypt';
export const FILE_KEY_SIZE = 16;
export const DEFAULT_SCRYPT_WORK_FACTOR = 18;
/** Same ceiling as the age CLI (about 15 s and 4 GiB of memory). */
export const DEFAULT_MAX_SCRYPT_WORK_FACTOR = 22;

// DER prefixes that wrap a raw 32-byte X25519 key (RFC 8410), so node:crypto can use it.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO_NONCE = Buffer.alloc(12);

function privateKeyObject(scalar: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, scalar]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(point: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_X25519, point]), format: 'der', type: 'spki' });
}

function rawPublicKey(key: KeyObject): Buffer {
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}

/** ChaCha20-Poly1305 with the all-zero nonce, as stanzas use to wrap the file key. */
function aeadSeal(key: Uint8Array, plaintext: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  const out = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([out, c.getAuthTag()]);
}

function aeadOpen(key: Uint8Array, sealed: Buffer): Buffer | undefined {
  if (sealed.length !== FILE_KEY_SIZE + 16) return undefined;
  const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(FILE_KEY_SIZE));
  const out = d.update(sealed.subarray(0, FILE_KEY_SIZE));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Identities and recipients

/** A fresh X25519 identity (`AGE-SECRET-KEY-1…`) and its recipient (`age1…`), like `age-keygen`. */
export function generateIdentity(): { identity: string; recipient: string } {
  const scalar = randomBytes(32);
  const identity = bech32.encode(IDENTITY_HRP, bech32.toWords(scalar), false).toUpperCase();
  return { identity, recipient: encodeRecipient(rawPublicKey(privateKeyObject(scalar))) };
}

export function encodeRecipient(point: Uint8Array): string {
  return bech32.encode(RECIPIENT_HRP, bech32.toWords(point), false);
}

/** The recipient (`age1…`) of an identity (`AGE-SECRET-KEY-1…`), like `age-keygen -y`. */
export function recipientOf(identity: string): string {
  return encodeRecipient(parseIdentity(identity, 'the identity').publicKey);
}

export interface ParsedRecipient {
  /** Normalized (lowercase) `age1…` string. */
  recipient: string;
  publicKey: Buffer;
}

/** Validates an `age1…` X25519 recipient. Errors quote the input only when it is public. */
export function parseRecipient(s: string): ParsedRecipient {
  const input = s.trim();
  const lower = input.toLowerCase();
  const fail = (what: string, hint: string) => new AgeRecipientError(what, { hint });
  const hint = 'A recipient is the public key line `age1…` that age-keygen prints (`age-keygen -y key.txt`).';
  if (lower.startsWith(IDENTITY_HRP)) {
    throw fail(
      'A secret key (AGE-SECRET-KEY-1…) was given where a public recipient (age1…) belongs; it was not used',
      'Give the recipient of that key instead (`age-keygen -y key.txt`), and keep the secret key out of the backup configuration: the runner that backs up must not hold it. Rotate the key if it was exposed.',
    );
  }
  if (lower.startsWith('age1pq1') || lower.startsWith('age1tag')) {
    throw fail(
      `Recipient ${input.slice(0, 20)}… is a post-quantum or hardware-tag recipient, which this tool does not support`,
      'Use an X25519 recipient (age1… from age-keygen without -pq).',
    );
  }
  if (lower.startsWith('ssh-') || lower.startsWith('ecdsa-')) {
    throw fail('SSH public keys are not supported as recipients', hint);
  }
  if (!lower.startsWith('age1')) {
    throw fail(
      `Not an age recipient: expected a string starting with "age1" (got ${input.length} characters)`,
      hint,
    );
  }
  let decoded: { prefix: string; bytes: Uint8Array };
  try {
    decoded = bech32.decodeToBytes(input, false);
  } catch {
    throw fail(`Recipient ${JSON.stringify(input)} is not valid Bech32 (a typo or a truncated copy)`, hint);
  }
  if (decoded.prefix !== RECIPIENT_HRP) {
    throw fail(`Recipient ${JSON.stringify(input)} is an age plugin recipient, which is not supported`, hint);
  }
  if (decoded.bytes.length !== 32) {
    throw fail(`Recipient ${JSON.stringify(input)} does not hold a 32-byte X25519 key`, hint);
  }
  return { recipient: lower, publicKey: Buffer.from(decoded.bytes) };
}

export interface ParsedIdentity {
  privateKey: KeyObject;
  publicKey: Buffer;
}

const IDENTITY_HINT =
  'An age identity is the line `AGE-SECRET-KEY-1…` of a key file made by `age-keygen` (comment lines start with #).';

/** Parses one `AGE-SECRET-KEY-1…` string. `where` names it in errors; the key itself never is. */
export function parseIdentity(s: string, where: string): ParsedIdentity {
  const input = s.trim();
  const lower = input.toLowerCase();
  if (lower.startsWith('age1')) {
    throw new AgeIdentityError(`${where} is a public recipient (age1…), not a secret identity`, {
      hint: `Decrypting needs the secret key the recipient was made from. ${IDENTITY_HINT}`,
    });
  }
  if (lower.startsWith('age-plugin-')) {
    throw new AgeIdentityError(`${where} is an age plugin identity, which this tool does not support`, {
      hint: IDENTITY_HINT,
    });
  }
  if (lower.startsWith('age-secret-key-pq-')) {
    throw new AgeIdentityError(`${where} is a post-quantum identity, which this tool does not support`, {
      hint: IDENTITY_HINT,
    });
  }
  if (!lower.startsWith(`${IDENTITY_HRP}1`)) {
    throw new AgeIdentityError(`${where} is not an age identity (expected AGE-SECRET-KEY-1…)`, {
      hint: IDENTITY_HINT,
    });
  }
  let bytes: Uint8Array;
  try {
    const decoded = bech32.decodeToBytes(input, false);
    if (decoded.prefix !== IDENTITY_HRP) throw new Error('prefix');
    bytes = decoded.bytes;
  } catch {
    throw new AgeIdentityError(
      `${where} is not a valid age identity (bad Bech32: a typo or a truncated copy)`,
      {
        hint: IDENTITY_HINT,
      },
    );
  }
  if (bytes.length !== 32) {
    throw new AgeIdentityError(`${where} does not hold a 32-byte X25519 key`, { hint: IDENTITY_HINT });
  }
  const privateKey = privateKeyObject(bytes);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

/**
 * Identities from the text of an age identity file: one `AGE-SECRET-KEY-1…` per line, blank
 * lines and `#` comments ignored. Returns them normalized (uppercase), without duplicates.
 */
export function parseIdentities(text: string, source = 'the identity text'): string[] {
  if (text.startsWith(AGE_VERSION_PREFIX)) {
    throw new AgeIdentityError(`${source} is itself an age-encrypted file (a protected key file)`, {
      hint: 'Decrypt the key file first (`age -d -o key.txt key.txt.age`) and give the plaintext identity, kept as a secret.',
    });
  }
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('-----BEGIN')) {
      throw new AgeIdentityError(
        `${source} holds an SSH or PEM private key, which this tool does not support`,
        {
          hint: IDENTITY_HINT,
        },
      );
    }
    parseIdentity(line, `line ${index + 1} of ${source}`);
    const normalized = line.toUpperCase();
    if (!out.includes(normalized)) out.push(normalized);
  });
  if (out.length === 0) {
    throw new AgeIdentityError(`${source} holds no age identity`, { hint: IDENTITY_HINT });
  }
  return out;
}

/**
 * Identities from a file and/or an environment variable holding identity-file text (e.g. a CI
 * secret). Both may be given; their identities are combined.
 */
export async function loadIdentities(from: { file?: string; env?: string }): Promise<string[]> {
  if (!from.file && !from.env) {
    throw new AgeIdentityError('No age identity was given to decrypt with', {
      hint: 'Give an identity file (made by age-keygen) or the name of an environment variable that holds its contents.',
    });
  }
  const found: string[] = [];
  if (from.file) {
    let text: string;
    try {
      text = await readFile(from.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new AgeIdentityError(
        code === 'ENOENT'
          ? `Identity file ${from.file} does not exist`
          : `Identity file ${from.file} cannot be read (${code ?? String(error)})`,
        {
          hint: 'Check the identity file path and its permissions (it should be readable only by you: chmod 600).',
        },
      );
    }
    found.push(...parseIdentities(text, `identity file ${from.file}`));
  }
  if (from.env) {
    const text = process.env[from.env];
    if (text === undefined || text.trim() === '') {
      throw new AgeIdentityError(
        `Environment variable ${from.env} is ${text === undefined ? 'not set' : 'empty'}`,
        {
          hint: `Set ${from.env} to the contents of an age identity file (the AGE-SECRET-KEY-1… line), e.g. from a CI secret.`,
        },
      );
    }
    found.push(...parseIdentities(text, `environment variable ${from.env}`));
  }
  return [...new Set(found)];
}

// ---------------------------------------------------------------------------------------------
// Stanzas

export function wrapX25519(fileKey: Uint8Array, recipient: ParsedRecipient): Stanza {
  const ephemeral = privateKeyObject(randomBytes(32));
  const share = rawPublicKey(ephemeral);
  const shared = diffieHellman({ privateKey: ephemeral, publicKey: publicKeyObject(recipient.publicKey) });
  const wrapKey = hkdf32(shared, Buffer.concat([share, recipient.publicKey]), X25519_INFO);
  return { type: 'X25519', args: [base64Raw(share)], body: aeadSeal(wrapKey, fileKey) };
}

/**
 * Tries one identity on one X25519 stanza: the file key, or undefined when the stanza is for
 * someone else. Throws AgeHeaderError when the stanza itself is malformed.
 */
export function unwrapX25519(stanza: Stanza, identity: ParsedIdentity): Buffer | undefined {
  const share = stanza.args.length === 1 ? decodeBase64Strict(stanza.args[0]!) : undefined;
  if (share?.length !== 32 || stanza.body.length !== FILE_KEY_SIZE + 16) {
    throw new AgeHeaderError('The age header holds a malformed X25519 recipient stanza', {
      hint: 'The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup.',
    });
  }
  let shared: Buffer;
  try {
    // OpenSSL refuses an all-zero shared secret (a low-order share), as the spec requires.
    shared = diffieHellman({ privateKey: identity.privateKey, publicKey: publicKeyObject(share) });
  } catch {
    throw new AgeHeaderError('The age header holds an invalid X25519 ephemeral share', {
      hint: 'The file was crafted or damaged. Use another copy or an older backup.',
    });
  }
  const wrapKey = hkdf32(shared, Buffer.concat([share, identity.publicKey]), X25519_INFO);
  return aeadOpen(wrapKey, stanza.body);
}

function scryptKey(passphrase: string, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) => {
    scrypt(
      // Raw UTF-8 bytes, no normalization: exactly what the age CLI hashes.
      Buffer.from(passphrase, 'utf8'),
      Buffer.concat([Buffer.from(SCRYPT_LABEL), salt]),
      32,
      // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) stops at work factor 14.
      { N, r: 8, p: 1, maxmem: 128 * N * 8 + 16 * 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function wrapScrypt(fileKey: Uint8Array, passphrase: string, logN: number): Promise<Stanza> {
  const salt = randomBytes(16);
  const key = await scryptKey(passphrase, salt, logN);
  return { type: 'scrypt', args: [base64Raw(salt), String(logN)], body: aeadSeal(key, fileKey) };
}

/** The file key, or undefined when the passphrase is wrong. */
export async function unwrapScrypt(
  stanza: Stanza,
  passphrase: string,
  maxWorkFactor: number,
): Promise<Buffer | undefined> {
  const [saltText, logNText] = stanza.args;
  const salt = stanza.args.length === 2 && saltText ? decodeBase64Strict(saltText) : undefined;
  if (
    salt?.length !== 16 ||
    !/^[1-9][0-9]*$/.test(logNText ?? '') ||
    stanza.body.length !== FILE_KEY_SIZE + 16
  ) {
    throw new AgeHeaderError('The age header holds a malformed scrypt (passphrase) stanza', {
      hint: 'The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup.',
    });
  }
  const logN = Number(logNText);
  if (logN > maxWorkFactor) {
    throw new AgeWorkFactorError(
      `The file's scrypt work factor is 2^${logN}, above the accepted maximum 2^${maxWorkFactor}`,
      {
        hint: `Raise the maximum work factor to at least ${logN} if you trust this file (each step doubles time and memory: 2^${logN} needs ${Math.round((128 * 8 * 2 ** logN) / 2 ** 20)} MiB).`,
      },
    );
  }
  const key = await scryptKey(passphrase, salt, logN);
  return aeadOpen(key, stanza.body);
}
