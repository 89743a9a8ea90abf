/**
 * The age v1 header: canonical unpadded base64, stanzas, and the header MAC
 * (age-encryption.org/v1, "Header").
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { AgeHeaderError } from './errors.js';

export const AGE_INTRO = 'age-encryption.org/v1\n';
/** Every age version line starts with this; anything else is not an age file. */
export const AGE_VERSION_PREFIX = 'age-encryption.org/';
const COLUMNS = 64;

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export interface ParsedHeader {
  stanzas: Stanza[];
  mac: Buffer;
  /** The bytes the MAC covers: the header up to and including `---`. */
  macInput: Buffer;
}

const BASE64_CHARS = /^[A-Za-z0-9+/]*$/;

/** Unpadded standard base64, as age writes it. */
export function base64Raw(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** Decodes canonical unpadded base64; undefined for anything else (padding, other alphabets, stray bits). */
export function decodeBase64Strict(s: string): Buffer | undefined {
  if (!BASE64_CHARS.test(s) || s.length % 4 === 1) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return base64Raw(bytes) === s ? bytes : undefined;
}

export function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf32(fileKey, Buffer.alloc(0), 'header'))
    .update(macInput)
    .digest();
}

export function verifyHeaderMac(fileKey: Uint8Array, header: ParsedHeader): boolean {
  const expected = headerMac(fileKey, header.macInput);
  return header.mac.length === expected.length && timingSafeEqual(header.mac, expected);
}

/** Serializes the header, MAC included. */
export function encodeHeader(stanzas: readonly Stanza[], fileKey: Uint8Array): Buffer {
  let text = AGE_INTRO;
  for (const s of stanzas) {
    text += `-> ${[s.type, ...s.args].join(' ')}\n`;
    const b64 = base64Raw(s.body);
    for (let i = 0; i < b64.length; i += COLUMNS) text += `${b64.slice(i, i + COLUMNS)}\n`;
    // The body ends with a line shorter than 64 columns, which may be empty.
    if (b64.length % COLUMNS === 0) text += '\n';
  }
  text += '---';
  const macInput = Buffer.from(text, 'latin1');
  return Buffer.concat([macInput, Buffer.from(` ${base64Raw(headerMac(fileKey, macInput))}\n`, 'latin1')]);
}

function malformed(what: string): AgeHeaderError {
  return new AgeHeaderError(`The age header is malformed: ${what}`, {
    hint: 'The file is damaged or was not written by an age v1 implementation. Use another copy or an older backup.',
  });
}

function isArgument(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

/**
 * Parses a complete header: `bytes` runs from the start of the file to the LF ending the MAC
 * line. The caller has already checked the version line prefix.
 */
export function parseHeader(bytes: Buffer): ParsedHeader {
  const text = bytes.toString('latin1');
  if (!text.startsWith(AGE_INTRO)) {
    const version = text.slice(AGE_VERSION_PREFIX.length, text.indexOf('\n')).slice(0, 40);
    throw new AgeHeaderError(
      `Unsupported age format version ${JSON.stringify(version)} (this tool reads v1)`,
      {
        hint: 'Decrypt it with an age implementation that supports this version.',
      },
    );
  }
  const lines = text.slice(AGE_INTRO.length, -1).split('\n');
  const stanzas: Stanza[] = [];
  let i = 0;
  for (;;) {
    const line = lines[i++];
    if (line === undefined) throw malformed('no MAC line');
    if (line.startsWith('---')) {
      if (i !== lines.length) throw malformed('data inside the header after the MAC line');
      if (!line.startsWith('--- ')) throw malformed('malformed MAC line');
      const mac = decodeBase64Strict(line.slice(4));
      if (mac?.length !== 32) throw malformed('the MAC is not 32 bytes of canonical base64');
      if (stanzas.length === 0) throw malformed('no recipient stanza');
      const macEnd = bytes.length - 1 - (line.length - 3);
      return { stanzas, mac, macInput: bytes.subarray(0, macEnd) };
    }
    if (!line.startsWith('-> ')) throw malformed(`unexpected line ${i} in the header`);
    const args = line.slice(3).split(' ');
    if (!args.every(isArgument)) throw malformed(`invalid stanza arguments on line ${i}`);
    const body: Buffer[] = [];
    for (;;) {
      const bodyLine = lines[i++];
      if (bodyLine === undefined) throw malformed('a stanza body is cut off');
      if (bodyLine.length > COLUMNS) throw malformed(`stanza body line ${i} is longer than 64 columns`);
      const decoded = decodeBase64Strict(bodyLine);
      if (!decoded) throw malformed(`stanza body line ${i} is not canonical base64`);
      body.push(decoded);
      if (bodyLine.length < COLUMNS) break;
    }
    stanzas.push({ type: args[0]!, args: args.slice(1), body: Buffer.concat(body) });
  }
}

/** "3 recipient stanzas (X25519 ×2, scrypt)": a non-secret description of who a file is for. */
export function describeStanzas(stanzas: readonly Stanza[]): string {
  const counts = new Map<string, number>();
  for (const s of stanzas) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
  const types = [...counts]
    .map(([type, n]) => `${type.replace(/[^\x21-\x7e]/g, '?').slice(0, 40)}${n > 1 ? ` ×${n}` : ''}`)
    .join(', ');
  return `${stanzas.length} recipient stanza${stanzas.length === 1 ? '' : 's'} (${types})`;
}
